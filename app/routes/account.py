"""A customer's own orders: list, live tracking page, and cancelling a Pending order (others'
orders are 404)."""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.extensions import db
from app.forms import CancelOrderForm
from app.models import Order
from app.services import ServiceError, paging
from app.services.customer_orders import can_cancel, cancel_own_order, step_times
from app.services.tracking import tracking_url
from app.web.args import page_arg

bp = Blueprint("account", __name__)


def own_order_or_404(order_number: str, admins_too: bool = True) -> Order:
    """The current user's order by number; 404 for unknown *and* for someone else's, so the
    answer does not reveal which order numbers exist. Admins may open any order unless
    ``admins_too`` is false."""
    query = sa.select(Order).where(Order.order_number == order_number)
    if not (admins_too and current_user.is_admin):
        query = query.where(Order.user_id == current_user.id)
    return db.first_or_404(query, description="No such order in your account")


@bp.get("/orders")
@login_required
def my_orders():
    """The current user's orders, newest first (``?page=``; past the end: the last page)."""
    query = (
        sa.select(Order)
        .where(Order.user_id == current_user.id)
        .order_by(Order.date_ordered.desc(), Order.id.desc())
    )
    page = paging.paginate(query, page_arg(), per_page=20)
    return render_template("account/orders.html", orders=page)


@bp.get("/orders/<order_number>")
@login_required
def order_page(order_number: str):
    """One order with a status timeline (the time of each step) that follows
    ``/orders/<n>/stream`` live; the owner can cancel it while it is Pending."""
    return _order_page(own_order_or_404(order_number), CancelOrderForm())


def _order_page(order: Order, form: CancelOrderForm, status: int = 200):
    return render_template(
        "account/order.html",
        order=order,
        form=form,
        times=step_times(order),
        can_cancel=can_cancel(order, current_user),
        tracking_url=tracking_url,
    ), status


@bp.post("/orders/<order_number>/cancel")
@login_required
def cancel_order(order_number: str):
    """Form post (CSRF, ``confirm`` ticked, optional ``note`` ≤ 200 characters): cancel the
    customer's own Pending order and refund it; 302 to the order page with a flash. The
    order page again with an error flash when the box is not ticked (422) or the order has
    moved on or is already cancelled (409); someone else's order is 404, as everywhere."""
    order = own_order_or_404(order_number, admins_too=False)
    form = CancelOrderForm()
    if not form.validate_on_submit():
        flash(
            "Tick the box to confirm the cancellation (the note has at most 200 characters).",
            "error",
        )
        return _order_page(order, form, 422)
    try:
        cancel_own_order(order, current_user, form.note.data)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        db.session.refresh(order)
        return _order_page(order, CancelOrderForm(), exc.status_code)
    flash(
        f"Order {order.order_number} is cancelled; {order.total_credits} credits are back "
        "in your balance.",
        "success",
    )
    return redirect(url_for("account.order_page", order_number=order.order_number))
