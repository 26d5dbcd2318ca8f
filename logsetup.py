"""Logging for every process of the app, in one format (docs/operations.md, "Logs").

gunicorn's master reads ``logconfig_dict`` from here (``gunicorn.conf.py``), and so do the
app's workers and CLI commands (``app/__init__.py``), so that gunicorn's own lines, the
app's lines and the access log share a format: plain text, or one JSON object per line
(``LOG_FORMAT=json``, python-json-logger). This module imports neither Flask nor the app:
gunicorn's master must not (gevent patches the standard library in each worker first).

Lines written while a request is served carry its id (``request_id``), the id nginx sent
in ``X-Request-ID`` (its ``$request_id``) or one made here (``app/logs.py``).
"""

import contextvars
import logging
import os

# The id of the request this greenlet serves ("-" outside requests). Context variables are
# per greenlet under gevent, like per thread without it.
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(process)d %(name)s %(request_id)s %(message)s"
FORMATS = ("text", "json")


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (the current request's id, or ``-``) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def log_format() -> str:
    """``LOG_FORMAT`` (``text`` or ``json``); raises ``ValueError`` for anything else, so a
    typo stops the start instead of silently mixing formats."""
    fmt = os.environ.get("LOG_FORMAT", "text").strip().lower() or "text"
    if fmt not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {FORMATS}, not {fmt!r}")
    return fmt


def dict_config(fmt: str | None = None, level: str | None = None) -> dict:
    """A ``logging.config.dictConfig`` dict: one stderr handler on the root logger, which
    gunicorn's ``gunicorn.error`` and ``gunicorn.access`` loggers propagate to."""
    fmt = fmt or log_format()
    level = (level or os.environ.get("LOG_LEVEL", "info")).upper()
    if fmt == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # gunicorn's own loggers pass their records to the root handler (one format).
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
            # Alembic's plugin registry says "setup plugin ..." at INFO in every worker.
            "alembic.runtime.plugins": {"level": "WARNING"},
        },
    }


def configure(fmt: str | None = None, level: str | None = None) -> None:
    """Install ``dict_config`` unless this process already has a root handler (gunicorn's
    master configured it before the worker built the app; pytest's capture)."""
    import logging.config

    if logging.getLogger().handlers:
        return
    logging.config.dictConfig(dict_config(fmt, level))
