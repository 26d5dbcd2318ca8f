"""The live dashboard page."""

from flask import Blueprint, redirect, render_template, request, url_for

from app.models import ORDER_STATUSES
from app.security import admin_required
from app.services import dashboard

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
    ``?q=`` order number/customer, ``?page=``), the chart and the activity list, with the
    data they show (and its version) in ``data-bootstrap`` for the live client, which
    then follows the stream from that version: no request of its own on load."""
    status, q, page = view_args()
    data = dashboard.view(status, q, page)
    bootstrap = {k: data[k] for k in ("version", "stats", "activity", "revenue", "timestamp")}
    return render_template(
        "admin/manage_orders.html",
        stats=data["stats"],
        orders=data["page"],
        rows=data["rows"],
        bootstrap=bootstrap,
        status=status,
        q=q,
        filters=FILTERS,
    )


def view_args() -> tuple[str | None, str | None, int]:
    """The orders table's view from the query string: ``(status, q, page)``; anything
    unknown falls back to the default (all statuses, no search, page 1)."""
    status = request.args.get("status")
    status = status if status in FILTERS else None
    q = (request.args.get("q") or "").strip()[:100] or None
    return status, q, request.args.get("page", 1, type=int)
