"""One place for errors: JSON ``{"success": false, "error": str}`` on API/stream paths,
an HTML page (or a flash and redirect) elsewhere."""

from types import SimpleNamespace

from flask import Flask, flash, g, jsonify, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import (
    HTTPException,
    RequestEntityTooLarge,
    ServiceUnavailable,
    TooManyRequests,
)

from app.extensions import login_manager, rollback_quietly
from app.outages import DATABASE, unreachable
from app.security import wants_json
from app.services import ServiceError
from app.web.sse_response import busy_answer


def json_error(message: str, status: int):
    """``({"success": False, "error": message}, status)`` as a Flask response."""
    return jsonify(success=False, error=message), status


@login_manager.unauthorized_handler
def unauthorized():
    """Flask-Login's answer to an anonymous request for a login-only page: 401 JSON with
    ``WWW-Authenticate`` (RFC 9110 §11.6.1) on API and stream paths, else a flash and a
    redirect to the login page."""
    if wants_json():
        response, status = json_error("Authentication required: log in first", 401)
        response.headers["WWW-Authenticate"] = challenge()
        return response, status
    flash("Please log in to continue.", "info")
    return redirect(login_url())


def register_errors(app: Flask) -> None:
    """Install the app's error handlers (the login manager's 401 is ``unauthorized``)."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = f"CSRF check failed: {error.description}"
        if wants_json():
            return json_error(message, 400)
        flash(message + " Please try again.", "error")
        return redirect(request.referrer or "/"), 303

    @app.errorhandler(TooManyRequests)
    def too_many_requests(error: TooManyRequests):
        """Rate limits (Flask-Limiter): 429 JSON on API/stream paths; on pages a flash and a
        redirect back to the page's form (nothing was done). The per-user stream cap is a
        ``ServiceError`` (429) and goes through ``service_error``."""
        rollback_quietly()
        message = error.description or "Too many requests: wait a moment and try again."
        if wants_json():
            return json_error(message, 429)
        flash(message, "error")
        target = request.path
        if request.query_string:
            target += "?" + request.query_string.decode("latin-1")
        return redirect(target), 303

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge):
        """Bodies over ``MAX_CONTENT_LENGTH``: 413, JSON on API paths; nothing is read."""
        rollback_quietly()
        limit = app.config.get("MAX_CONTENT_LENGTH")
        message = f"Request body too large (limit {limit} bytes)" if limit else error.description
        if wants_json():
            return json_error(message, 413)
        return render_template("errors/error.html", error=error), 413

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        """A rule refused the request (``ServiceError.status_code``: 400, 404, 409, 422,
        429, 503): the transaction is rolled back; JSON on API and stream paths, the error
        page with the rule's message elsewhere."""
        rollback_quietly()
        if wants_json():
            extra = {k: v for k, v in error.extra.items() if k not in ("success", "error")}
            return jsonify(success=False, error=error.message, **extra), error.status_code
        page = SimpleNamespace(
            code=error.status_code,
            name=_REASONS.get(error.status_code, "Error"),
            description=error.message,
        )
        return render_template("errors/error.html", error=page), error.status_code

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            return json_error(error.description or error.name, error.code or 500)
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.DBAPIError)
    @app.errorhandler(sa_exc.TimeoutError)
    def database_unavailable(error: Exception):
        """A lost or unreachable database (connection killed or dropped, server restarting,
        pool exhausted, SQLite busy): 503 "try again", since the transaction was rolled back
        and nothing was saved. Other driver errors (integrity, data) stay 500s."""
        if not is_unavailable(error):
            return unexpected(error)
        rollback_quietly()
        if isinstance(error, sa_exc.TimeoutError) and request.path.endswith("/stream"):
            # The pool is exhausted (a storm of reconnects), not the database gone: the
            # stream's client comes back later instead of failing for good.
            return busy_answer()
        DATABASE.failed(getattr(error, "orig", None) or error, request.path)  # one line per outage
        message = "Database unavailable, try again"
        if wants_json():
            return json_error(message, 503)
        page = ServiceUnavailable(message + " in a moment; nothing was saved.")
        return render_page(page, 503)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        rollback_quietly()
        app.logger.exception("unhandled error on %s", request.path)
        if wants_json():
            return json_error("Internal error; nothing was saved", 500)
        return render_page(None, 500)


def render_page(error, status: int):
    """The error page, rendered for an anonymous visitor: the page's header shows the user,
    and loading the user (or refreshing it after the rollback) asks the database, which may
    be the very thing that failed; a second failure inside this handler would reach the
    client as the server's bare 500 instead of this page."""
    g._login_user = login_manager.anonymous_user()  # Flask-Login's per-request slot
    return render_template("errors/error.html", error=error), status


_REASONS = {
    400: "Bad Request",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    503: "Service Unavailable",
}


def is_unavailable(error: Exception) -> bool:
    """True for database errors that mean "not reachable now" rather than a bug
    (``app.outages.unreachable``)."""
    return unreachable(error)


def challenge() -> str:
    """The ``WWW-Authenticate`` value of a 401: RFC 9110 §11.6.1 requires at least one
    challenge. Sessions here come from the login form and live in a cookie, which no
    registered scheme names; this is the "Cookie" scheme of draft-broyer-http-cookie-auth
    (the form to log in with and the cookie it sets)."""
    from flask import current_app, url_for

    cookie = current_app.config.get("SESSION_COOKIE_NAME", "session")
    return (
        f'Cookie realm="Order Pulse", form-action="{url_for("auth.login")}", '
        f'cookie-name="{cookie}"'
    )


def login_url() -> str:
    from flask import url_for

    return url_for("auth.login", next=request.full_path if request.method == "GET" else None)
