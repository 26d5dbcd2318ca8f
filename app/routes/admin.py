"""The live dashboard page."""

from flask import Blueprint, redirect, render_template, request, url_for

from app.models import ORDER_STATUSES
from app.security import admin_required
from app.services.counts import read_stats
from app.services.feed import search_orders
from app.services.serializers import order_summary

bp = Blueprint("admin", __name__, url_prefix="/admin")

FILTERS = (*ORDER_STATUSES, "Cancelled")


@bp.get("/")
@admin_required
def index():
    """``/admin/`` → the dashboard (302)."""
    return redirect(url_for("admin.manage_orders"))


@bp.get("/manage_orders")
@admin_required
def manage_orders():
    """Stat cards, the orders table (``?status=`` one of the statuses or ``Cancelled``,
    ``?q=`` order number/customer, ``?page=``) and the live client's bootstrap data."""
    status = request.args.get("status")
    status = status if status in FILTERS else None
    q = (request.args.get("q") or "").strip()[:100] or None
    page = search_orders(status, q, request.args.get("page", 1, type=int))
    return render_template(
        "admin/manage_orders.html",
        stats=read_stats(),
        orders=page,
        rows=[order_summary(o) for o in page.items],
        status=status,
        q=q,
        filters=FILTERS,
    )
