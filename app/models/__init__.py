"""All models, imported here so Alembic and the app see one metadata."""

from app.models.activity import ACTIVITY_KINDS, INTERNAL_KINDS, STATE_KINDS, OrderActivity
from app.models.counts import OrderCount, OrderVersion
from app.models.note import OrderNote
from app.models.order import (
    DELIVERY_METHODS,
    ORDER_STATUSES,
    Order,
    OrderItem,
)
from app.models.product import Product
from app.models.rate_limit import RateLimitCounter
from app.models.revenue import BUCKET_SECONDS, RevenueBucket
from app.models.saved_view import SavedView
from app.models.session import UserSession
from app.models.tag import OrderTag
from app.models.user import User

__all__ = [
    "ACTIVITY_KINDS",
    "BUCKET_SECONDS",
    "DELIVERY_METHODS",
    "INTERNAL_KINDS",
    "ORDER_STATUSES",
    "Order",
    "OrderActivity",
    "OrderCount",
    "OrderItem",
    "OrderNote",
    "OrderTag",
    "OrderVersion",
    "Product",
    "RateLimitCounter",
    "RevenueBucket",
    "STATE_KINDS",
    "SavedView",
    "User",
    "UserSession",
]
