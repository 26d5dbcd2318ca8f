"""gunicorn settings (DESIGN.md §1). Must not import the app: the gevent worker patches the
standard library before the app is imported, and ``preload_app`` stays off for the same
reason (and so each worker builds its own hub)."""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gevent"
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "10000"))
keepalive = 75  # seconds; above nginx's upstream keepalive_timeout so nginx closes first
timeout = 30
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "20"))
preload_app = False
accesslog = os.environ.get("ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
