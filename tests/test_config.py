"""Defaults an operator cannot trip over: one boolean rule for every setting, an unknown
``ORDERPULSE_*`` variable, configuration name or retired setting refused at start-up with
one line naming it (no traceback), and production refusing several workers whose rate
limits would each count in their own memory."""

import os
import subprocess
import sys

import pytest

import config
from app import create_app
from app.extensions import limiter
from tests.servers import GUNICORN, ROOT, free_port

pytestmark = pytest.mark.one_database

STRONG_KEY = "k" * 64


def run(args, timeout=30, **env):
    """Run ``args`` in the project with a clean ``ORDERPULSE_*`` environment plus ``env``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ORDERPULSE_")}
    base.pop("PROXY_FIX", None)
    return subprocess.run(
        args,
        cwd=ROOT,
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def refusal(result) -> str:
    """The one line a refused start printed (its exit status is not 0)."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("orderpulse:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on", "On"])
def test_every_true_spelling_is_true(raw):
    assert config.parse_bool(raw) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", " OFF "])
def test_every_false_spelling_is_false(raw):
    assert config.parse_bool(raw) is False


@pytest.mark.parametrize("raw", ["", "2", "enabled", "y", "tru", "١"])
def test_anything_else_is_no_boolean(raw):
    assert config.parse_bool(raw) is None


def test_a_boolean_setting_reads_true_as_true():
    """``PROXY_FIX=true`` counted as off: every boolean setting now takes true/yes/on."""
    code = "import config; print(config.Config.RATELIMIT_ENABLED, config.Config.SSE_DIRECT_WRITE)"
    result = run([sys.executable, "-c", code], RATELIMIT_ENABLED="false", SSE_DIRECT_WRITE="yes")
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"ORDERPULSE_CONFG": "production"}, "unknown setting ORDERPULSE_CONFG: did you mean"),
        ({"ORDERPULSE_CONFIG": "prod"}, "ORDERPULSE_CONFIG='prod' is not a configuration"),
        ({"PROXY_FIX": "1"}, "PROXY_FIX is no longer read: forwarded headers are trusted"),
        ({"RATELIMIT_ENABLED": "sure"}, "RATELIMIT_ENABLED='sure' is not a boolean"),
        ({"SSE_RETRY_MS": "²"}, "SSE_RETRY_MS='²' is not an integer"),
        ({"FORWARDED_ALLOW_IPS": "nginx.local"}, "FORWARDED_ALLOW_IPS='nginx.local' is not"),
    ],
)
def test_the_app_refuses_to_start_with_one_line_naming_the_setting(env, says):
    result = run([sys.executable, "-m", "flask", "--app", "wsgi.py", "routes"], **env)
    assert says in refusal(result)
    assert result.returncode == 3


def test_gunicorn_refuses_an_unknown_setting_before_starting_workers():
    result = run(
        [GUNICORN, "-c", "gunicorn.conf.py", "wsgi:app"],
        ORDERPULSE_CONFG="production",
        BIND=f"127.0.0.1:{free_port()}",
    )
    assert "did you mean ORDERPULSE_CONFIG?" in refusal(result)


def test_production_refuses_several_workers_counting_limits_in_memory(tmp_path):
    env = {
        "ORDERPULSE_CONFIG": "production",
        "SECRET_KEY": STRONG_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
        "WEB_CONCURRENCY": "2",
        "BIND": f"127.0.0.1:{free_port()}",
    }
    result = run([GUNICORN, "-c", "gunicorn.conf.py", "wsgi:app"], **env)
    assert "2 workers with rate limits in each worker's memory" in refusal(result)
    result = run([sys.executable, "-m", "flask", "--app", "wsgi.py", "routes"], **env)
    assert "WEB_CONCURRENCY=2 with rate limits in each worker's memory" in refusal(result)


def test_every_setting_read_is_declared():
    with pytest.raises(AssertionError, match="not declared"):
        config._int("ORDERPULSE_SOMETHING_NEW", 1)


def test_check_environment_names_the_closest_known_setting():
    with pytest.raises(config.ConfigError, match="did you mean ORDERPULSE_CONFIG"):
        config.check_environment({"ORDERPULSE_CONFIG_NAME": "production"})
    assert config.check_environment({"ORDERPULSE_CONFIG": "production"}) == "production"


@pytest.mark.parametrize(
    ("explicit", "redis", "database_url", "expected"),
    [
        ("memory://", "redis://r", "postgresql+psycopg://db/x", "memory://"),
        (None, "redis://r/0", "postgresql+psycopg://db/x", "redis://r/0"),
        (None, None, "postgresql+psycopg://db/x", "orderpulse+postgresql+psycopg://db/x"),
        (None, None, "sqlite:////tmp/x.db", "memory://"),
    ],
)
def test_limits_live_in_redis_else_postgresql_else_memory(explicit, redis, database_url, expected):
    assert config.limit_storage(explicit, redis, database_url) == expected


def test_production_with_postgresql_shares_limits_without_redis(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/none")
    app = create_app(
        "production",
        SECRET_KEY=STRONG_KEY,
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://u@127.0.0.1/none",
        WEB_CONCURRENCY=4,
        REDIS_URL=None,
    )
    assert app.config["RATELIMIT_STORAGE_URI"].startswith("orderpulse+postgresql")
    assert type(limiter.storage).__name__ == "PostgresStorage"
