"""One place for errors: JSON ``{"success": false, "error": str}`` on API/stream paths,
an HTML page (or a flash and redirect) elsewhere."""

from flask import Flask, flash, jsonify, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, TooManyRequests

from app.extensions import db, login_manager
from app.security import wants_json
from app.services import ServiceError


def json_error(message: str, status: int):
    """``({"success": False, "error": message}, status)`` as a Flask response."""
    return jsonify(success=False, error=message), status


def register_errors(app: Flask) -> None:
    """Install the handlers and the login manager's 401 behaviour."""

    @login_manager.unauthorized_handler
    def unauthorized():
        if wants_json():
            return json_error("Authentication required: log in first", 401)
        flash("Please log in to continue.", "info")
        return redirect(login_url())

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = f"CSRF check failed: {error.description}"
        if wants_json():
            return json_error(message, 400)
        flash(message + " Please try again.", "error")
        return redirect(request.referrer or "/"), 303

    @app.errorhandler(TooManyRequests)
    def too_many_requests(error: TooManyRequests):
        """Rate limits (Flask-Limiter) and the stream cap: 429 JSON on API/stream paths;
        on pages a flash and a redirect back to the page's form (nothing was done)."""
        db.session.rollback()
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
        db.session.rollback()
        limit = app.config.get("MAX_CONTENT_LENGTH")
        message = f"Request body too large (limit {limit} bytes)" if limit else error.description
        if wants_json():
            return json_error(message, 413)
        return render_template("errors/error.html", error=error), 413

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        db.session.rollback()
        return json_error(error.message, error.status_code)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            return json_error(error.description or error.name, error.code or 500)
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        if wants_json():
            return json_error("Internal error; nothing was saved", 500)
        return render_template("errors/error.html", error=None), 500


def login_url() -> str:
    from flask import url_for

    return url_for("auth.login", next=request.full_path if request.method == "GET" else None)
