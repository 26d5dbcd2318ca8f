"""Login and registration limits, with Flask-Limiter.

Failed logins are counted four ways (only failures count: a success redirects):

| limit | key | stops |
|---|---|---|
| ``RATELIMIT_LOGIN`` | client address + username | one address guessing one password |
| ``RATELIMIT_LOGIN_ADDRESS`` | client address | one password sprayed over many accounts |
| ``RATELIMIT_LOGIN_USERNAME`` | username | many addresses guessing one account |
| ``RATELIMIT_LOGIN_DEVICE`` | device cookie | a trusted browser, on its own budget |

The per-username limit is the one a stranger could use to lock the real user out. Following
OWASP's "device cookies" (Slow brute force / lockout protection), a browser that has logged
in as that user before carries a signed device cookie naming them; with it, only its own
per-device limit applies, never the address or username counters that others fill up. So a
guesser is slowed, and the account's owner still logs in from their usual browser.

A password change (account page) checks the current password, which costs a hash like a
login: wrong ones are limited per session (``RATELIMIT_PASSWORD_SESSION``) and per user
(``RATELIMIT_PASSWORD_USER``), so a stolen session cannot guess the password it would need.
A device cookie carries the time of the user's last password change: once the password
changes, cookies made before it no longer exempt their browser.

Registration is limited per client address (``RATELIMIT_REGISTER``, every POST counts: a
burst must be refused before it costs a password hash each). The client address is
``request.remote_addr``: the real peer, or nginx's view of it when the peer is in
``FORWARDED_ALLOW_IPS`` (``app/proxies.py``).
"""

import secrets

import sqlalchemy as sa
from flask import current_app, g, request
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.extensions import db, limiter
from app.models import User
from app.security import limits_off
from app.services import usernames

DEVICE_COOKIE = "orderpulse_device"
DEVICE_MAX_AGE = 365 * 24 * 3600  # seconds; renewed at every successful login
_SALT = "orderpulse-device-cookie"


def submitted_username() -> str:
    """The posted username in its canonical form ("" when absent or unreadable)."""
    try:
        raw = request.form.get("username") or ""
    except Exception:  # an oversized or broken body: the view answers 400/413 itself
        raw = ""
    return usernames.canonical(raw[:64])


def _address() -> str:
    return request.remote_addr or "unknown"


def trusted_device() -> bool:
    """True when the request carries a valid device cookie for the posted username."""
    if "trusted_device" not in g:
        g.trusted_device = _device_nonce() is not None
    return g.trusted_device


def _device_nonce() -> str | None:
    value = request.cookies.get(DEVICE_COOKIE)
    if not value:
        return None
    try:
        username, nonce, *rest = _serializer().loads(value, max_age=DEVICE_MAX_AGE)
    except (BadSignature, ValueError, TypeError):
        return None
    if username != submitted_username():
        return None
    stamp = rest[0] if rest else ""
    return nonce if stamp == password_stamp(username) else None


def password_stamp(canonical_username: str) -> str:
    """When the user's password last changed (ISO 8601; "" never, or no such user): a
    device cookie counts only while it still carries this value."""
    changed = db.session.scalar(
        sa.select(User.password_changed_at).where(User.username_canonical == canonical_username)
    )
    return changed.isoformat() if changed else ""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def remember_device(response, canonical_username: str) -> None:
    """After a successful login: give this browser a signed device cookie for the user
    (HttpOnly, sent only to ``/auth``, Secure when session cookies are)."""
    stamp = password_stamp(canonical_username)
    value = _serializer().dumps([canonical_username, secrets.token_urlsafe(16), stamp])
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_MAX_AGE,
        path="/auth",
        httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        samesite="Lax",
    )


def failed_login(response) -> bool:
    """``deduct_when``: only failed attempts count (a success redirects with 302)."""
    return response.status_code != 302


def _untrusted_exempt() -> bool:
    return limits_off() or trusted_device()


def _trusted_exempt() -> bool:
    return limits_off() or not trusted_device()


def _config(name: str):
    return lambda: current_app.config[name]


_TOO_MANY = "Too many login attempts: wait a minute and try again."
_LOGIN_LIMITS = (
    (
        "RATELIMIT_LOGIN",
        lambda: f"login:{_address()}|{submitted_username()}",
        _untrusted_exempt,
    ),
    ("RATELIMIT_LOGIN_ADDRESS", lambda: f"login-address:{_address()}", _untrusted_exempt),
    ("RATELIMIT_LOGIN_USERNAME", lambda: f"login-user:{submitted_username()}", _untrusted_exempt),
    ("RATELIMIT_LOGIN_DEVICE", lambda: f"login-device:{_device_nonce()}", _trusted_exempt),
)


def login_limits(view):
    """Decorate the login view with the four failed-login limits above (POST only); past
    one, the answer is 429 (a flash and a 303 back to the form on pages)."""
    for setting, key, exempt in reversed(_LOGIN_LIMITS):
        view = limiter.limit(
            _config(setting),
            key_func=key,
            methods=["POST"],
            deduct_when=failed_login,
            exempt_when=exempt,
            error_message=_TOO_MANY,
        )(view)
    return view


def register_limit(view):
    """Decorate the registration view: ``RATELIMIT_REGISTER`` POSTs per client address."""
    return limiter.limit(
        _config("RATELIMIT_REGISTER"),
        key_func=lambda: f"register:{_address()}",
        methods=["POST"],
        exempt_when=limits_off,
        error_message="Too many registrations from this address: try again later.",
    )(view)


def wrong_password(_response) -> bool:
    """``deduct_when`` of the password limits: only a wrong current password counts (the
    view sets ``g.wrong_password``); a typo in the new one costs no hash and no budget."""
    return bool(g.get("wrong_password"))


def _session_key() -> str:
    return f"password-session:{getattr(current_user, 'session_id', None)}"


def _user_key() -> str:
    return f"password-user:{getattr(current_user, 'id', None)}"


def password_limits(view):
    """Decorate the password change: wrong current passwords per session
    (``RATELIMIT_PASSWORD_SESSION``) and per user (``RATELIMIT_PASSWORD_USER``), POST
    only; past either, 429 (a flash and a 303 back to the page), before any hash."""
    for setting, key in (
        ("RATELIMIT_PASSWORD_USER", _user_key),
        ("RATELIMIT_PASSWORD_SESSION", _session_key),
    ):
        view = limiter.limit(
            _config(setting),
            key_func=key,
            methods=["POST"],
            deduct_when=wrong_password,
            exempt_when=limits_off,
            error_message="Too many wrong passwords: wait a while and try again.",
        )(view)
    return view
