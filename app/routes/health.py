"""Liveness, readiness and Prometheus metrics for ops."""

import hmac

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request

from app.errors import json_error
from app.extensions import db
from app.metrics import render
from app.realtime import get_hub

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness: ``200 {"status": "ok"}`` while the process serves requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Readiness: ``200 {"status": "ready"}`` when the database and, when ``REDIS_URL`` is
    set, Redis answer; else
    ``503 {"status": "unavailable", "reason": str}``."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"
        return jsonify(status="unavailable", reason=f"database: {exc.__class__.__name__}"), 503
    finally:
        db.session.remove()
    try:
        get_hub().backend.ping()
    except Exception as exc:  # Redis configured but unreachable
        return jsonify(status="unavailable", reason=f"redis: {exc.__class__.__name__}"), 503
    return jsonify(status="ready")


@bp.get("/metrics")
def metrics():
    """Prometheus text (``text/plain; version=0.0.4``): open streams, frames sent,
    publish→delivery lag histogram, fallback polls, Redis reconnects. Only for addresses in
    ``METRICS_ALLOWED_IPS`` or a request with ``Authorization: Bearer <METRICS_TOKEN>``;
    403 JSON otherwise."""
    if not metrics_allowed():
        return json_error("Metrics are not available to this client", 403)
    body, content_type = render()
    return Response(body, content_type=content_type)


def metrics_allowed() -> bool:
    """Allowed when the client address is listed or it presents the configured token."""
    token = current_app.config.get("METRICS_TOKEN")
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and supplied and hmac.compare_digest(token, supplied):
        return True
    return request.remote_addr in current_app.config["METRICS_ALLOWED_IPS"]
