"""Storefront: catalogue, cart and checkout (HTML forms with CSRF)."""

from uuid import uuid4

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.extensions import db
from app.forms import AddToCartForm, CartUpdateForm, CheckoutForm, max_quantity
from app.models.limits import MAX_DB_INT
from app.services import ServiceError, cart, catalog, stock
from app.services.counts import read_version
from app.services.orders import parse_checkout, validate_idempotency_key
from app.web.args import page_arg, parse_int
from app.web.checkout import checkout_limited, place_once

bp = Blueprint("shop", __name__)


def _product_id(raw: str | None) -> int | None:
    """A form's product id as an ``int`` the database can bind, else ``None``
    (``parse_int``: ASCII digits only; a 20-digit id would overflow the driver)."""
    value = parse_int(raw)
    return value if value is not None and 1 <= value <= MAX_DB_INT else None


@bp.get("/")
def index():
    """Catalogue with ``?category=`` filter, ``?q=`` search and ``?page=``; each product
    says "Out of stock" or "Only N left", kept live by ``/catalogue/stream``."""
    category = request.args.get("category") or None
    q = request.args.get("q", "").strip() or None
    version = read_version()  # before the products: the stream resumes from here
    products = catalog.browse(category, q, page_arg())
    return render_template(
        "shop/index.html",
        products=products,
        version=version,
        availability=stock.availability,
        categories=catalog.categories(),
        category=category,
        q=q,
        form=AddToCartForm(),
    )


@bp.get("/login")
def login_alias():
    """``/login`` → ``/auth/login`` (301), keeping ``next`` (the login form checks it)."""
    return redirect(url_for("auth.login", next=request.args.get("next") or None), 301)


@bp.post("/cart/add")
def cart_add():
    """Add a product to the session cart; bad input flashes an error and changes nothing."""
    form = AddToCartForm()
    product_id = _product_id(form.product_id.data)
    if not form.validate_on_submit() or product_id is None:
        flash(f"Choose a quantity between 1 and {max_quantity()}.", "error")
        return redirect(request.referrer or url_for("shop.index"))
    try:
        product = cart.add(product_id, form.quantity.data)
        flash(f"Added {form.quantity.data} × {product.name} to your cart.", "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(request.referrer or url_for("shop.index"))


@bp.route("/cart", methods=["GET", "POST"])
def view_cart():
    """Show the cart; POST changes one line's quantity (0 removes it)."""
    form = CartUpdateForm()
    if request.method == "POST":
        product_id = _product_id(form.product_id.data)
        if form.validate_on_submit() and product_id is not None:
            try:
                cart.set_quantity(product_id, form.quantity.data)
                flash("Cart updated.", "success")
            except ServiceError as exc:
                flash(exc.message, "error")
        else:
            flash(f"Quantities go from 0 (remove) to {max_quantity()}.", "error")
        return redirect(url_for("shop.view_cart"))
    lines, total = cart.lines()
    return render_template("shop/cart.html", lines=lines, total=total, form=form)


@bp.route("/checkout", methods=["GET", "POST"])
@login_required
@checkout_limited
def checkout():
    """Checkout form: delivery method and address, paid in credits. Errors flash and keep
    the cart (422); success clears it and shows the order's tracking page (302). Past
    ``RATELIMIT_CHECKOUT`` POSTs per user (shared with ``POST /api/orders``): a flash and a
    redirect back to the form, nothing written."""
    form = CheckoutForm()
    lines, total = cart.lines()
    if not lines:
        flash("Your cart is empty: add something first.", "info")
        return redirect(url_for("shop.index"))
    if form.validate_on_submit():
        try:
            key = validate_idempotency_key(form.idempotency_key.data or None)
            request_ = parse_checkout(
                cart.items(), form.delivery_method.data, form.delivery_address.data
            )
            # The form carries a key made when it was rendered: a double click makes one order.
            order, _ = place_once(current_user, request_, key)
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return render_template("shop/checkout.html", form=form, lines=lines, total=total), 422
        cart.clear()
        flash(f"Thank you! Order {order.order_number} is placed.", "success")
        return redirect(url_for("account.order_page", order_number=order.order_number))
    if request.method == "POST":
        flash("Please check the form.", "error")
    elif not form.idempotency_key.data:
        form.idempotency_key.data = uuid4().hex
    return render_template("shop/checkout.html", form=form, lines=lines, total=total)
