"""Access rules: who may see what (DESIGN.md §4: 401 JSON for API/stream, 403 wrong role)."""

from functools import wraps

from flask import abort, request
from flask_login import current_user

from app.extensions import login_manager


def wants_json() -> bool:
    """API and stream paths answer in JSON, never with a redirect or an HTML page."""
    path = request.path
    return (
        path.startswith("/api/")
        or path.startswith("/admin/api/")
        or path.endswith("/stream")
        or request.accept_mimetypes.best == "application/json"
    )


def admin_required(view):
    """Admins only: anonymous → login (401 JSON on API/stream paths), customer → 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def customer_required(view):
    """Any logged-in user: anonymous → login (401 JSON on API/stream paths)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped
