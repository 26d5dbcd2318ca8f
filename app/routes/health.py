"""Liveness, readiness and Prometheus metrics for ops."""

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify

from app.extensions import db
from app.realtime import get_hub

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness: ``200 {"status": "ok"}`` while the process serves requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Readiness: ``200 {"status": "ready"}`` when the database answers, else
    ``503 {"status": "unavailable", "reason": str}``."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"
        return jsonify(status="unavailable", reason=f"database: {exc.__class__.__name__}"), 503
    return jsonify(status="ready")


@bp.get("/metrics")
def metrics():
    """Prometheus text: open streams and frames sent in this worker."""
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    hub = get_hub()
    registry = CollectorRegistry()
    Gauge("orderpulse_open_streams", "Open SSE streams in this worker", registry=registry).set(
        hub.stream_count
    )
    Gauge(
        "orderpulse_frames_sent", "Frames offered to streams since start", registry=registry
    ).set(hub.frames_sent)
    Gauge(
        "orderpulse_direct_streams", "Streams the hub writes to directly", registry=registry
    ).set(hub.direct_count)
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")
