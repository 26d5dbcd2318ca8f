#!/usr/bin/env bash
# Runs the test suite (and lint) in the project's virtualenv, installing what it needs.
# Extra arguments go to pytest, e.g. ./test.sh -k stream. Two pytest-xdist workers by
# default (the machine has two cores); PYTEST_WORKERS=0 runs in one process.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

.venv/bin/ruff check .
.venv/bin/ruff format --check .
set +e
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: treating as a failure" >&2
  exit 1
fi
exit "$status"
