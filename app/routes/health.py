"""Liveness, readiness and Prometheus metrics for ops."""

import hmac

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request

from app.errors import json_error
from app.extensions import db, release_session
from app.metrics import DEPENDENCY_UP, render
from app.outages import DATABASE, REDIS
from app.realtime import get_hub

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness: ``200 {"status": "ok"}`` while the process serves requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Readiness for a load balancer. ``200 {"status": "ready"}`` when the database (and
    Redis, when ``REDIS_URL`` is set) answer; ``200 {"status": "degraded", "degraded":
    ["redis"], "reason": str}`` when only Redis is away: the shop and the streams keep
    working (commits reach other workers through the version poll, rate limits count in
    memory), so the host must stay in the pool; ``503 {"status": "unavailable", "reason":
    str}`` when the database does not answer (nothing can be served)."""
    database, redis = check_dependencies()
    if database is not None:
        return jsonify(status="unavailable", reason=f"database: {database}"), 503
    if redis is not None:
        return jsonify(status="degraded", degraded=["redis"], reason=f"redis: {redis}")
    return jsonify(status="ready")


def check_dependencies() -> tuple[str | None, str | None]:
    """``(database error, redis error)``: each ``None`` when it answered, else the error's
    class name; each result also updates ``orderpulse_dependency_up`` and the outage log."""
    database = redis = None
    try:
        db.session.execute(sa.text("SELECT 1"))
        DATABASE.ok()
        DEPENDENCY_UP.labels("database").set(1)
    except Exception as exc:  # any driver error means "not ready"
        DATABASE.failed(exc, "readiness check")
        database = exc.__class__.__name__
    finally:
        release_session()
    if current_app.config.get("REDIS_URL"):
        try:
            get_hub().backend.ping()
            REDIS.ok()
            DEPENDENCY_UP.labels("redis").set(1)
        except Exception as exc:  # Redis configured but unreachable: degraded
            REDIS.failed(exc, "readiness check")
            redis = exc.__class__.__name__
    return database, redis


@bp.get("/metrics")
def metrics():
    """Prometheus text (``text/plain; version=0.0.4``): requests by route and status, the
    database pool, open streams, frames sent, stream starts and drops, publish→delivery lag,
    fallback polls, backend reconnects, dependency checks (made on each scrape), process
    metrics per worker (docs/operations.md, "Metrics"). Only for addresses in
    ``METRICS_ALLOWED_IPS`` or a request with ``Authorization: Bearer <METRICS_TOKEN>``;
    403 JSON otherwise."""
    if not metrics_allowed():
        return json_error("Metrics are not available to this client", 403)
    check_dependencies()  # orderpulse_dependency_up: what the alert rules watch
    body, content_type = render()
    return Response(body, content_type=content_type)


def metrics_allowed() -> bool:
    """Allowed when the client address is listed or it presents the configured token."""
    token = current_app.config.get("METRICS_TOKEN")
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and supplied and hmac.compare_digest(token, supplied):
        return True
    return request.remote_addr in current_app.config["METRICS_ALLOWED_IPS"]
