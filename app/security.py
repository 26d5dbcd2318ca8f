"""Access rules: who may see what (docs/design.md §4: 401 JSON for API/stream, 403 wrong role),
session renewal at login, and the keys and limits of the rate limiter."""

import hashlib
import re
from functools import wraps

from flask import Flask, abort, current_app, flash, redirect, request, session
from flask.json.provider import DefaultJSONProvider
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user
from werkzeug.routing import IntegerConverter

from app.extensions import login_manager
from app.models.limits import MAX_DB_INT
from app.services import session_expiry, sessions

# Text no database here can store: NUL (PostgreSQL refuses it) and unpaired surrogates
# (not encodable as UTF-8; JSON can still carry them as "\ud800").
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def wants_json() -> bool:
    """API, stream and data-export (``.csv``) paths answer in JSON, never with a redirect
    or an HTML page."""
    path = request.path
    return (
        path.startswith("/api/")
        or path.startswith("/admin/api/")
        or path.endswith("/stream")
        or path.endswith(".csv")
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


# The stream views read only who the user is (id, name, role, session): their requests,
# thousands a second in a reconnect storm, get a ``Principal`` from the per-worker session
# cache (app/services/session_cache.py) instead of a ``User`` loaded from the database.
PRINCIPAL_ENDPOINTS = frozenset(
    {"stream.admin_stream", "stream.order_stream", "stream.catalogue_stream"}
)


@login_manager.user_loader
def load_user(alternative_id: str):
    """Flask-Login's user loader (server-side sessions that expire): a
    ``session_cache.Principal`` on the stream endpoints, the ``User`` elsewhere
    (``session_expiry.load_user``); ``None`` when the session the cookie names is not
    valid (anonymous)."""
    if request.endpoint in PRINCIPAL_ENDPOINTS:
        return session_expiry.load_principal(alternative_id)
    return session_expiry.load_user(alternative_id)


def session_identifier() -> str:
    """Flask-Login's "strong" session protection: the hash a session is bound to at login,
    from the client address and user agent. Flask-Login's own version reads the address
    from ``X-Forwarded-For`` first, which the client writes, so a stolen cookie replayed
    with the victim's address in that header passed. Here it is
    ``request.remote_addr``: the socket's peer, or what the one proxy hop in
    ``FORWARDED_ALLOW_IPS`` said (``app/proxies.py``)."""
    agent = request.headers.get("User-Agent", "")
    return hashlib.sha512(f"{request.remote_addr}|{agent}".encode()).hexdigest()


# Flask-Login offers no public setting for this identifier; its "strong" protection calls
# this attribute (set once, at import, for every app of the process).
login_manager._session_identifier_generator = session_identifier


def start_session(user) -> None:
    """Log ``user`` in on a fresh session: a new server-side session record (the caller
    commits), and everything the anonymous session held (a planted value, its CSRF secret,
    Flask-Login's old identifiers) dropped, so a session fixed before login is worth nothing
    after it. Only the cart survives; the session cookie's value changes with its contents."""
    cart = session.get("cart")
    session.clear()
    if cart:
        session["cart"] = cart
    sessions.start(user, request.headers.get("User-Agent", ""), request.remote_addr or "")
    login_user(user)


# -- rate limits (Flask-Limiter; see config.RATELIMIT_*) ------------------------------------


def checkout_limit() -> str:
    """The checkout limit string from ``RATELIMIT_CHECKOUT`` (HTML and JSON share it)."""
    return current_app.config["RATELIMIT_CHECKOUT"]


def limits_off() -> bool:
    """``exempt_when`` for every limit: an app with ``RATELIMIT_ENABLED`` off is never
    limited, even if another app in the same process (tests) turned the shared limiter on.
    The login and registration limits are in ``app/login_guard.py``."""
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def user_limit_key() -> str:
    """``"user:<id>"`` for a logged-in user (checkout runs after ``login_required``), the
    client address otherwise."""
    if current_user.is_authenticated:
        # The user's id, not get_id(): that names the session, and a second session must
        # not bring a second budget.
        return f"user:{current_user.id}"
    return get_remote_address()


# -- input the database cannot take: refused at the door with a 4xx ----------------------


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` that does not match numbers beyond ``MAX_DB_INT``: the URL is a plain
    404 instead of an integer overflow inside the database driver (a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits, min, MAX_DB_INT if max is None else max, signed)


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON with two refusals at parse time, both as ``ValueError`` so that
    ``request.get_json(silent=True)`` answers ``None`` (the views' 400): nesting too deep
    for the parser (a ``RecursionError`` otherwise), and strings with NUL or unpaired
    surrogates."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if has_unstorable_text(value):
            raise ValueError("JSON text with NUL or unpaired surrogate characters")
        return value


def has_unstorable_text(value) -> bool:
    """``True`` when any string (or dict key) in a parsed JSON value matches
    ``UNSTORABLE``; iterative, so any depth the parser accepted is fine."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def refuse_unstorable_text():
    """``before_request``: a query, form or URL value with NUL is refused before any view
    reads it: 400 JSON on API paths, a flash and a redirect back to the form for page
    POSTs, the 400 page for page GETs."""
    values = [v for _, v in request.values.items(multi=True)]
    values += [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    if not any(UNSTORABLE.search(v) for v in values):
        return None
    message = "The request contains characters that cannot be stored (NUL)."
    if wants_json() or request.method == "GET":
        abort(400, description=message)
    flash(message, "error")
    return redirect(request.path), 303


def register_input_guards(app: Flask) -> None:
    """Install the bounded ``int`` converter (before any blueprint is registered), the
    strict JSON loader and the NUL check."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.json = StrictJSONProvider(app)
    app.before_request(refuse_unstorable_text)
