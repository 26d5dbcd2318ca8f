"""WSGI entry point for gunicorn: ``gunicorn -c gunicorn.conf.py wsgi:app``.

A setting the app refuses (``config.ConfigError``, ``app.secret_key.SecretKeyError``) ends
the process with its one-line message and exit status 3 (gunicorn's "worker failed to
boot": the master stops instead of restarting workers that would fail the same way)."""

import sys

from config import ConfigError

try:
    from app import create_app
    from app.secret_key import SecretKeyError

    app = create_app()
except (ConfigError, SecretKeyError) as exc:
    print(f"orderpulse: refusing to start: {exc}", file=sys.stderr)
    sys.exit(3)
