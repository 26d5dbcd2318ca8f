#!/usr/bin/env bash
# Runs the test suites (and lint): the browser code's first (npm ci when node_modules is
# missing or package-lock.json changed, eslint, node --test on tests/js/*.test.mjs), then
# the Python suite in the project's virtualenv (installing requirements-dev.txt; ruff,
# pytest). Extra arguments go to pytest, e.g. ./test.sh -k stream. Two pytest-xdist
# workers by default (the machine has two cores); PYTEST_WORKERS=0 runs in one process.
set -euo pipefail
cd "$(dirname "$0")"

# JavaScript: lint and unit tests (docs/testing.md). The lock's hash, kept beside the
# installed packages, says whether they are the ones it names.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "node and npm are needed for the JavaScript checks (.ci/run installs them)" >&2
  exit 1
fi
lock_hash=$(sha256sum package-lock.json | cut -d" " -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.lock-sha256 2>/dev/null)" != "$lock_hash" ]; then
  npm ci --no-audit --no-fund
  echo "$lock_hash" >node_modules/.lock-sha256
fi
npx --no-install eslint app/static/js tests/js eslint.config.js
node --test --test-reporter=spec tests/js/*.test.mjs

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
