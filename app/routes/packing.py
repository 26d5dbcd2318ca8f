"""Packing slips: a print-ready page per order (print CSS, one order per printed page),
for one order or a bulk selection."""

import re
from datetime import UTC

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, render_template, request

from app.extensions import db
from app.models import Order, OrderItem
from app.models.limits import MAX_DB_INT
from app.security import admin_required
from app.services import shop_time
from app.services.bulk import MAX_IDS

bp = Blueprint("packing", __name__, url_prefix="/admin/orders")

_IDS = re.compile(r"[0-9]{1,10}(,[0-9]{1,10})*")


def _slips(ids: list[int]):
    orders = db.session.scalars(
        sa.select(Order)
        .where(Order.id.in_(ids))
        .options(
            so.joinedload(Order.customer),
            so.selectinload(Order.items).joinedload(OrderItem.product),
        )
    ).all()
    by_id = {order.id: order for order in orders}
    found = [by_id[i] for i in ids if i in by_id]
    if not found:
        abort(404, description="No such order")
    return render_template(
        "admin/packing_slips.html", orders=found, local_time=_local, missing=len(ids) - len(found)
    )


def _local(moment) -> str:
    """``YYYY-MM-DD HH:MM <zone>`` in the shop's time zone (``SHOP_TIMEZONE``)."""
    local = moment.replace(tzinfo=UTC).astimezone(shop_time.zone())
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


@bp.get("/<int:order_id>/packing-slip")
@admin_required
def packing_slip(order_id: int):
    """The packing slip of one order: what goes in the box and where it goes (no prices,
    no internal notes); print CSS, one page. 404 unknown order."""
    return _slips([order_id])


@bp.get("/packing-slips")
@admin_required
def packing_slips():
    """Packing slips of a bulk selection, ``?ids=12,15,19`` (1..500 distinct ids, kept in
    that order), one order per printed page; ids that are no order are left out and
    counted on screen. 400 for a malformed or overlong list, 404 when none exists."""
    raw = (request.args.get("ids") or "").strip()
    if not _IDS.fullmatch(raw):
        abort(400, description="ids must be order ids separated by commas, e.g. ?ids=12,15")
    ids = list(dict.fromkeys(int(i) for i in raw.split(",")))
    if len(ids) > MAX_IDS or not all(1 <= i <= MAX_DB_INT for i in ids):
        abort(400, description=f"At most {MAX_IDS} order ids from 1 to {MAX_DB_INT}")
    return _slips(ids)
