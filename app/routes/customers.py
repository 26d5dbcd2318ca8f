"""Customers for admins: ``/admin/customers`` and ``/admin/customers/<username>``."""

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from app.extensions import db
from app.models import User
from app.security import admin_required
from app.services import customers
from app.web.args import page_arg

bp = Blueprint("customers", __name__, url_prefix="/admin/customers")


@bp.get("")
@admin_required
def customer_list():
    """Customers with their number of orders, total spent (credits, net of refunds and
    cancels) and balance; ``?q=`` username or email, ``?page=``."""
    q = (request.args.get("q") or "").strip()[:100] or None
    found, stats = customers.search(q, page_arg())
    return render_template("admin/customers.html", customers=found, stats=stats, q=q)


@bp.get("/<username>")
@admin_required
def customer_page(username: str):
    """One customer: balance, totals, their orders (``?page=``) and the movements of their
    balance, newest first; 404 for an unknown username."""
    user = db.first_or_404(
        sa.select(User).where(User.username == username), description="No such customer"
    )
    return render_template(
        "admin/customer.html",
        customer=user,
        totals=customers.totals(user),
        orders=customers.orders_of(user, page_arg()),
        history=customers.balance_history(user),
    )
