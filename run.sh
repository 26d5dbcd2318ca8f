#!/usr/bin/env bash
# One command on a fresh machine: virtualenv, install, migrate, seed the demo, serve it with
# gunicorn's gevent worker on 127.0.0.1:8000 (BIND=host:port to change).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt

export FLASK_APP=wsgi.py
.venv/bin/flask db upgrade
.venv/bin/flask seed-demo

BIND=${BIND:-127.0.0.1:8000}
export BIND
cat <<MSG

  Order Pulse is starting on http://${BIND}
    Storefront:      http://${BIND}/
    Admin dashboard: http://${BIND}/admin/manage_orders
  Demo logins:
    admin    / admin12345   (admin)
    alice    / customer123  (customer; also bob, carol, dave, … see README)
  Make the dashboard move:  .venv/bin/flask --app wsgi.py simulate-orders --rate 2 --duration 120

MSG
exec .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app
