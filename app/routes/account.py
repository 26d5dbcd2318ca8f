"""A customer's own orders: list and live tracking page (others' orders are 404)."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from app.extensions import db
from app.forms import EmptyForm
from app.models import Order
from app.routes.args import page_arg
from app.security import customer_required
from app.services import paging

bp = Blueprint("account", __name__)


def own_order_or_404(order_number: str) -> Order:
    """The current user's order by number; 404 for unknown *and* for someone else's, so the
    answer does not reveal which order numbers exist. Admins may open any order."""
    query = sa.select(Order).where(Order.order_number == order_number)
    if not current_user.is_admin:
        query = query.where(Order.user_id == current_user.id)
    return db.first_or_404(query, description="No such order in your account")


@bp.get("/orders")
@customer_required
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
@customer_required
def order_page(order_number: str):
    """One order with a status timeline that follows ``/orders/<n>/stream`` live."""
    order = own_order_or_404(order_number)
    return render_template("account/order.html", order=order, form=EmptyForm())
