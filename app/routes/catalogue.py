"""The catalogue for admins: ``/admin/products`` (list, add, edit, deactivate) with
Flask-WTF forms, and ``POST /admin/api/products``, ``PATCH /admin/api/products/<id>``."""

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from app.extensions import db
from app.forms import EmptyForm, ProductForm
from app.models import Product
from app.security import admin_required
from app.services import ServiceError, products
from app.web.args import choice_arg, page_arg

bp = Blueprint("catalogue", __name__)

SHOW = ("active", "inactive", "all")


def _product(product_id: int) -> Product:
    return db.get_or_404(Product, product_id, description=f"Product {product_id} not found")


@bp.get("/admin/products")
@admin_required
def product_list():
    """Every product with its price, stock ("Out of stock", "Only N left") and state;
    ``?q=`` name or category, ``?show=active|inactive|all``, ``?page=``."""
    q = (request.args.get("q") or "").strip() or None
    show = choice_arg("show", SHOW, "active")
    found = products.admin_list(q, show, page_arg())
    return render_template(
        "admin/products.html", products=found, q=q, show=show, shows=SHOW, form=EmptyForm()
    )


@bp.route("/admin/products/new", methods=["GET", "POST"])
@admin_required
def product_new():
    """The add form; a valid post adds the product (302 to the list, flashed), a bad one
    shows the form again with its errors (422)."""
    return _edit(ProductForm(), None)


@bp.route("/admin/products/<int:product_id>/edit", methods=["GET", "POST"])
@admin_required
def product_edit(product_id: int):
    """The edit form (a new stock is set as given); 404 unknown product."""
    product = _product(product_id)
    return _edit(ProductForm(obj=product), product)


def _edit(form: ProductForm, product: Product | None):
    if form.validate_on_submit():
        try:
            fields = products.parse_product(form.fields(), partial=product is not None)
            if product is None:
                product = products.create_product(fields)
            else:
                products.update_product(product, fields)
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(f"Saved {product.name}.", "success")
            return redirect(url_for("catalogue.product_list"))
    elif request.method == "POST":
        flash("Please check the form.", "error")
    status = 422 if request.method == "POST" else 200
    return render_template("admin/product_form.html", form=form, product=product), status


@bp.post("/admin/products/<int:product_id>/<any(deactivate, activate):action>")
@admin_required
def product_active(product_id: int, action: str):
    """Withdraw a product from the storefront (orders keep it) or list it again; 302 back
    to the list with a flash. CSRF form post."""
    product = _product(product_id)
    if EmptyForm().validate_on_submit():
        products.update_product(product, {"active": action == "activate"})
        db.session.commit()
        word = "is back in" if product.active else "is withdrawn from"
        flash(f"{product.name} {word} the storefront.", "success")
    else:
        flash("The form expired: try again.", "error")
    return redirect(request.referrer or url_for("catalogue.product_list"))


@bp.post("/admin/api/products")
@admin_required
def api_create():
    """Body ``{"name": str (1..120), "category": str (1..60), "credit_value": int
    (1..1,000,000), "description": str (≤500), "stock": int (0..1,000,000) | null (not
    tracked), "image_url": "https://..." | null, "active": bool}``: ``201 {success,
    product}`` (``products.product_entry``); 400 malformed, unknown field or wrong type,
    422 a rule broken. Every storefront hears of it live."""
    fields = products.parse_product(request.get_json(silent=True))
    product = products.create_product(fields)
    db.session.commit()
    return jsonify(success=True, product=products.product_entry(product)), 201


@bp.patch("/admin/api/products/<int:product_id>")
@admin_required
def api_update(product_id: int):
    """Any of the fields of ``POST /admin/api/products`` (``"active": false`` withdraws
    it, ``"stock": 12`` restocks it): ``{success, product}``; 400/422 as for a new
    product, 404 unknown product."""
    fields = products.parse_product(request.get_json(silent=True), partial=True)
    product = _product(product_id)
    products.update_product(product, fields)
    db.session.commit()
    return jsonify(success=True, product=products.product_entry(product))
