"""Order Pulse application factory."""

import os

import sqlalchemy as sa
from flask import Flask, request

import logsetup
from app import secret_key, startup
from app.drain import ConnectionTracker
from app.extensions import (
    SessionInterface,
    csrf,
    db,
    limiter,
    login_manager,
    release_session,
)
from app.logs import ROUTE_KEY, AccessLog
from config import CONFIGS, check_environment, limit_storage


def create_app(config_name: str | None = None, *, commands: bool = True, **overrides) -> Flask:
    """Build the app for ``config_name`` (``development``, ``production``, ``testing``;
    default from ``ORDERPULSE_CONFIG``), with ``overrides`` applied last (tests).
    ``commands=False`` leaves out the ``flask`` CLI's commands (``app/cli.py``, with
    Flask-Migrate's ``flask db``): a web worker runs none of them, and importing Alembic
    for them cost each worker's boot 0.1 CPU-s (``wsgi.py``)."""
    name = check_environment(config_name=config_name)  # ConfigError: one line, naming it
    config = CONFIGS[name]
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config)
    app.config.update(overrides)
    app.config["CONFIG_NAME"] = name
    logsetup.configure(app.config.get("LOG_FORMAT"))
    startup.configure_database(app)
    app.config["RATELIMIT_STORAGE_URI"] = limit_storage(
        app.config.get("RATELIMIT_STORAGE_URI"),
        app.config.get("REDIS_URL"),
        app.config["SQLALCHEMY_DATABASE_URI"],
    )
    if hasattr(config, "validate"):
        config.validate(app.config)
    app.session_interface = SessionInterface()
    secret_key.configure(app, production=name == "production")
    from app.proxies import TrustedProxies

    # Request id, access log and request metrics (app/logs.py); inside TrustedProxies, so
    # the address it logs is the client's.
    app.wsgi_app = AccessLog(ConnectionTracker(app.wsgi_app))

    # Behind nginx (deploy/nginx.conf): the client address and scheme from one hop, and
    # only when the peer is in FORWARDED_ALLOW_IPS.
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["FORWARDED_ALLOW_IPS"])
    os.makedirs(app.instance_path, exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    from app.errors import register_errors

    register_errors(app)
    if commands:
        from app.cli import register_cli

        register_cli(app)
    from app.headers import register_headers

    register_headers(app)
    return app


def register_extensions(app: Flask) -> None:
    from app import (
        models,  # noqa: F401  (registers the tables on db.metadata)
        realtime,
    )
    from app.security import register_input_guards
    from app.services import counts, outbox, session_cache, shop_time, stock, write_gate

    # Before the blueprints: their <int:...> rules must get the bounded converter.
    register_input_guards(app)
    shop_time.init_app(app)  # first: a bad SHOP_TIMEZONE stops the app before anything else

    db.init_app(app)
    # Runs before Flask-SQLAlchemy's own teardown (teardowns run in reverse order), which
    # then finds nothing left to close: a connection killed under a finished request no
    # longer turns its response into a 500.
    app.teardown_appcontext(lambda _exc: release_session())
    login_manager.init_app(app)
    session_cache.init_app(app)  # before the hub, which feeds it the revoke messages
    csrf.init_app(app)
    # Rate-limit counters: Redis, else PostgreSQL, shared by every worker and host; memory
    # only on SQLite (config.limit_storage). Importing the module registers its scheme.
    from app import limits_storage  # noqa: F401

    limiter.init_app(app)
    outbox.init_app(app)
    stock.init_app(app)
    counts.init_app(app)
    write_gate.init_app(app)
    realtime.init_app(app)
    with app.app_context():
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)
        startup.watch_pool(db.engine)

    @app.before_request
    def remember_route():
        # The access log and the request metrics name the URL rule, never the path.
        request.environ[ROUTE_KEY] = request.url_rule.rule if request.url_rule else None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the dashboard read while a checkout writes; busy_timeout makes writers queue
    # instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def register_blueprints(app: Flask) -> None:
    from app.routes import (
        account,
        admin,
        admin_api,
        api,
        auth,
        bulk_api,
        catalogue,
        customers,
        health,
        order_tools_api,
        packing,
        presence,
        saved_views_api,
        settings,
        shop,
        stream,
    )

    modules = (
        auth,
        shop,
        account,
        settings,
        api,
        admin,
        admin_api,
        bulk_api,
        order_tools_api,
        saved_views_api,
        catalogue,
        customers,
        packing,
        presence,
        stream,
        health,
    )
    for module in modules:
        app.register_blueprint(module.bp)
