"""Security headers on every response (CSP without inline scripts), HSTS in production and
``Cache-Control: no-store`` on everything but static files."""

import os

from flask import Flask, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def register_headers(app: Flask) -> None:
    """Add CSP, ``X-Content-Type-Options``, ``Referrer-Policy``, frame denial,
    ``Strict-Transport-Security`` when ``HSTS_SECONDS`` > 0 (production), and
    ``Cache-Control: no-store`` on every dynamic response.

    no-store: pages, JSON and streams carry orders, names and the
    session's CSRF token; neither a shared proxy nor the browser's disk cache (back button
    after logout on a shared computer) may keep them. Every page embeds its session's CSRF
    token, so even the anonymous storefront is per-session. Static files keep their caching."""
    hsts_seconds = int(app.config.get("HSTS_SECONDS") or 0)
    # Cross-process tests need to know which worker answered, refusals included.
    worker_pid = app.config.get("EXPOSE_WORKER_PID") or None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if hsts_seconds > 0:
            # Browsers ignore it over plain HTTP (RFC 6797 §8.1), so sending it always is safe.
            response.headers["Strict-Transport-Security"] = f"max-age={hsts_seconds}"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        if worker_pid is not None:
            response.headers.setdefault("X-Worker-Pid", str(os.getpid()))
        return response
