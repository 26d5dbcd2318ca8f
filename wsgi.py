"""WSGI entry point for gunicorn: ``gunicorn -c gunicorn.conf.py wsgi:app``; the ``flask``
CLI loads it too (``flask --app wsgi.py ...``), and only then are the CLI's commands
registered (``create_app(commands=...)``: a web worker never runs them).

A setting the app refuses (``config.ConfigError``, ``app.secret_key.SecretKeyError``) ends
the process with its one-line message and exit status 3 (gunicorn's "worker failed to
boot": the master stops instead of restarting workers that would fail the same way)."""

import sys

import click

from config import ConfigError

try:
    from app import create_app
    from app.secret_key import SecretKeyError

    # The flask CLI imports this module inside its click context; gunicorn does not.
    app = create_app(commands=click.get_current_context(silent=True) is not None)
except (ConfigError, SecretKeyError) as exc:
    print(f"orderpulse: refusing to start: {exc}", file=sys.stderr)
    sys.exit(3)
