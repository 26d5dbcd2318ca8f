"""Business rules. Services never commit: the view or CLI command owns the transaction.

They never import the real-time engine either: what a transaction changed is recorded in
``outbox`` and announced after commit as a signal that ``app.realtime`` subscribes to.
"""

from app.services.errors import Conflict, Invalid, NotFound, ServiceError

__all__ = ["Conflict", "Invalid", "NotFound", "ServiceError"]
