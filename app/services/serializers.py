"""JSON shapes of the HTTP/SSE contract (docs/design.md §4)."""

from app.models import Order
from app.models.timestamps import isoformat
from app.services.tracking import tracking_url


def order_summary(order: Order) -> dict:
    """Feed row (admins only): ``{id, order_number, status, username, email, total_credits,
    delivery_method, date_ordered, updated_at, cancelled, cancellation_reason,
    estimated_delivery, actual_delivery, next_status, tags, refunded_credits, carrier,
    tracking_number}`` (dates ISO 8601 UTC strings or ``null``; ``tags`` a sorted list of
    strings). Enough for a page to redraw a row or an open details dialog, and to tell
    whether a search still matches, without asking the server."""
    customer = order.customer
    return {
        "id": order.id,
        "order_number": order.order_number,
        "status": order.status,
        "username": customer.username if customer else None,
        "email": customer.email if customer else None,
        "total_credits": order.total_credits,
        "delivery_method": order.delivery_method,
        "date_ordered": isoformat(order.date_ordered),
        "updated_at": isoformat(order.updated_at),
        "cancelled": order.cancelled,
        "cancellation_reason": order.cancellation_reason,
        "estimated_delivery": isoformat(order.estimated_delivery_date),
        "actual_delivery": isoformat(order.actual_delivery_date),
        "next_status": order.next_status,
        **_extras(order),
    }


def _extras(order: Order) -> dict:
    return {
        "tags": order.tags,
        "refunded_credits": order.refunded_credits or 0,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
    }


def order_details(order: Order) -> dict:
    """The details modal's ``order`` object, the seed contract's keys plus ``quantity`` per
    item, ``next_status``, ``updated_at``, ``tags``, ``refunded_credits``,
    ``refundable_credits``, ``carrier``, ``tracking_number`` and ``tracking_url``."""
    customer = order.customer
    return {
        "id": order.id,
        "order_number": order.order_number,
        "status": order.status,
        "customer": {"id": customer.id, "username": customer.username, "email": customer.email},
        "items": [
            {
                "id": item.product_id,
                "name": item.product.name,
                "category": item.product.category,
                "credit_value": item.credit_value,
                "quantity": item.quantity,
            }
            for item in order.items
        ],
        "delivery_method": order.delivery_method,
        "delivery_address": order.delivery_address,
        "total_credits": order.total_credits,
        "date_ordered": isoformat(order.date_ordered),
        "estimated_delivery": isoformat(order.estimated_delivery_date),
        "actual_delivery": isoformat(order.actual_delivery_date),
        "cancelled": order.cancelled,
        "cancellation_reason": order.cancellation_reason,
        "updated_at": isoformat(order.updated_at),
        "next_status": order.next_status,
        **_extras(order),
        "refundable_credits": order.refundable_credits,
        "tracking_url": tracking_url(order.carrier, order.tracking_number),
    }


def order_tracking(order: Order) -> dict:
    """What the owner's tracking stream carries: ``{order_number, status, cancelled,
    cancellation_reason, estimated_delivery, actual_delivery, updated_at, carrier,
    tracking_number, tracking_url, refunded_credits}``. Nothing internal (notes, tags)."""
    return {
        "order_number": order.order_number,
        "status": order.status,
        "cancelled": order.cancelled,
        "cancellation_reason": order.cancellation_reason,
        "estimated_delivery": isoformat(order.estimated_delivery_date),
        "actual_delivery": isoformat(order.actual_delivery_date),
        "updated_at": isoformat(order.updated_at),
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "tracking_url": tracking_url(order.carrier, order.tracking_number),
        "refunded_credits": order.refunded_credits or 0,
    }
