"""Fixtures in the style of flaskr's conftest: ``app``, ``client``, ``runner``, logged-in
clients and a small shop. Every app gets its own SQLite file under ``tmp_path``."""

import os
import re
import shutil

import pytest
import sqlalchemy as sa
from jinja2 import BytecodeCache
from werkzeug.routing import Rule

from app import create_app, drain, outages
from app.extensions import db
from app.models import Product, User
from app.models import user as user_model
from app.services import counts
from config import TestConfig
from tests import dialects, snapshots
from tests.factories import fast_password_hash, make_order, seed_shop
from tests.helpers import SSEStream, logged_in_client
from tests.services_required import (
    create_postgres_database,
    drop_postgres_database,
)

# Fixtures for tests against real gunicorn servers (shared_db, servers, private_redis) and
# the shipped nginx configuration in front of them (nginx).
pytest_plugins = ["tests.server_fixtures", "tests.nginx_fixtures"]


class _SharedTemplates(BytecodeCache):
    """Compiled templates shared by every app of the run: each test builds its own app, and
    Jinja would otherwise compile the same templates again for each one."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


SHARED_TEMPLATES = _SharedTemplates()


def _share_url_builders() -> None:
    """URL builders shared by every app of the run. Werkzeug compiles two builder functions
    per rule (Python source through ``ast`` and ``compile``) each time an app registers its
    routes: two thirds of ``create_app``'s 50 ms, and the suite builds an app per test. A
    builder depends only on the rule's parsed parts and defaults (it reaches the rule's
    converters through its ``self`` argument), so one compiled for an equal rule is reused.
    Werkzeug versions without ``Rule._compile_builder`` keep their own behaviour."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "shared", False):
        return
    builders = {}

    def shared(rule, append_unknown=True):
        key = (type(rule), rule.rule, rule.host, rule.subdomain, tuple(rule._trace),
               repr(rule.defaults), append_unknown)  # fmt: skip
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    shared.shared = True
    Rule._compile_builder = shared


_share_url_builders()
dialects.register()


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """scrypt costs ~0.1 s per hash; tests only need a correct hash, not a slow one. (One
    function for every test: data snapshots are kept per hash function.)"""
    monkeypatch.setattr(user_model, "generate_password_hash", fast_password_hash)


@pytest.fixture(autouse=True)
def not_draining():
    """A test that drains "the worker" (``close_all_streams``) drains this whole process:
    the next test starts as a fresh worker would."""
    yield
    drain.reset()
    outages.reset_all()


def pytest_generate_tests(metafunc):
    """Tests that use the database run on SQLite and on the real PostgreSQL server; those of
    modules and tests marked ``one_database`` (their subject does not depend on the
    database: headers, framing, validators, limits, bad input refused before any query)
    run on SQLite only."""
    if "database" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("one_database") is None
        kinds = ["sqlite", "postgresql"] if both else ["sqlite"]
        metafunc.parametrize("database", kinds, indirect=True, scope="session")


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory):
    """A SQLite file with the schema, made once: each test's database is a copy of it."""
    path = tmp_path_factory.mktemp("schema") / "schema.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
        db.session.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def database(request):
    """``None`` for SQLite (each app gets a file of its own), else the URL of this run's
    PostgreSQL database (made for the run, with the schema, and dropped after it)."""
    if request.param == "sqlite":
        yield None
        return
    name = f"orderpulse_test_{os.getpid()}"
    url = create_postgres_database(name)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    drop_postgres_database(name)


@pytest.fixture
def make_app(tmp_path, database, sqlite_schema):
    """``make_app(db_file="test.db", **config)``: a testing app with the schema and counter
    rows in place: on ``tmp_path/db_file`` for SQLite, or on this run's PostgreSQL database
    (emptied before each test: the schema is made once per run). Two apps made in one test
    share their database, like two processes."""
    apps = []

    def factory(db_file: str = "test.db", **overrides):
        path = tmp_path / db_file
        # A new SQLite file starts as a copy of the schema; PostgreSQL is emptied by the
        # test's first app.
        emptied = not path.exists() if database is None else not apps
        if database is None and emptied:
            shutil.copyfile(sqlite_schema, path)
        uri = database or f"sqlite:///{path}"
        options = overrides.pop("SQLALCHEMY_ENGINE_OPTIONS", TestConfig.SQLALCHEMY_ENGINE_OPTIONS)
        options = {**options, "execution_options": {"compiled_cache": dialects.SHARED_CACHE}}
        app = create_app(
            "testing", SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options, **overrides
        )
        app.jinja_env.bytecode_cache = SHARED_TEMPLATES
        with app.app_context():
            if database is not None and emptied:
                empty_postgres_database(database)
            counts.ensure_rows()
            db.session.commit()
            if emptied:
                snapshots.fresh(db.engine)
        apps.append(app)
        return app

    yield factory
    for app in reversed(apps):
        app.extensions["realtime"].stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def empty_postgres_database(url: str) -> None:
    """Every table emptied and its ids restarted, in one round trip (``DELETE`` on these
    small tables is many times quicker than ``TRUNCATE``, and ``setval(name, 1, false)``
    than ``ALTER SEQUENCE ... RESTART``, which gives each sequence a new file: 4 ms in
    all). Connections a previous test left behind (a thread still listening, a
    transaction never closed) could hold locks: they are ended first, from this session
    (a connection of its own costs more than the rest together). The sequences' names
    are read once per database."""
    connection = db.session.connection()
    connection.exec_driver_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    if url not in _SEQUENCES:
        _SEQUENCES[url] = db.session.scalars(
            sa.text("SELECT relname FROM pg_class WHERE relkind = 'S'")
        ).all()
    tables = [f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)]
    restarts = ", ".join(f"setval('\"{name}\"', 1, false)" for name in _SEQUENCES[url])
    connection.exec_driver_sql("; ".join([*tables, f"SELECT {restarts}"]))
    db.session.commit()


_SEQUENCES: dict[str, list[str]] = {}


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An app context for calling services directly."""
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def shop(app):
    return seed_shop(app)


# Fixtures written back from snapshots (tests/snapshots.py), set up before any login
# whatever the order a test names them in: a snapshot is only written back on the state
# it was recorded on, and a login writes a session row.
SNAPSHOT_FIXTURES = ("placed", "sixty", "feed", "dated")


def _snapshots_first(request) -> None:
    for name in SNAPSHOT_FIXTURES:
        if name in request.fixturenames:
            request.getfixturevalue(name)


@pytest.fixture
def admin_client(request, app, shop):
    _snapshots_first(request)
    return logged_in_client(app, shop.admin.username)


@pytest.fixture
def customer_client(request, app, shop):
    """Alice, logged in on her own test client."""
    _snapshots_first(request)
    return logged_in_client(app, shop.alice.username)


@pytest.fixture
def other_client(request, app, shop):
    """Bob, another customer, on a third client."""
    _snapshots_first(request)
    return logged_in_client(app, shop.bob.username)


@pytest.fixture
def open_stream(make_app):
    """``open_stream(client, url)`` → ``SSEStream``; every stream is closed at teardown,
    before the apps' hubs stop."""
    streams = []

    def opener(client, url: str) -> SSEStream:
        stream = SSEStream(client.get(url, buffered=False))
        streams.append(stream)
        if stream.response.status_code == 200:
            stream.wait_first_data()  # so what the test commits next comes as events
        return stream

    yield opener
    for stream in streams:
        stream.close()


@pytest.fixture
def csrf_app(make_app):
    """An app with CSRF checks on, as in production (TestConfig turns them off)."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def csrf_shop(csrf_app):
    return seed_shop(csrf_app)


@pytest.fixture
def placed(app, shop):
    """A 2 × 6 credit pickup order of alice's: ``{"id", "number"}``, from a snapshot when it
    can (tests/snapshots.py). No stream is open yet, so no hub needed to hear of it."""

    def place(app):
        with app.app_context():
            product = db.session.get(Product, shop.products[0].id)
            order = make_order(db.session.get(User, shop.alice.id), [(product, 2)])
            return {"id": order.id, "number": order.order_number}

    return snapshots.restore_or_build(app, "placed", place)


def pytest_collection_modifyitems(config, items):
    """Tests that start servers run first (the browser tests, as one block, before them: see
    below): the longest tests start early and the many short ones fill both workers at the
    end, instead of a late server scenario running alone while the other worker idles."""

    def rank(item) -> int:
        if item.nodeid.startswith("tests/browser/"):
            return 0  # in their own order: they share one server and one Chromium
        return 1 if item.get_closest_marker("server") else 2

    items.sort(key=rank)


def pytest_xdist_make_scheduler(config, log):
    """With pytest-xdist, every browser test goes to one worker, the rest as usual (one
    test at a time to whichever worker is free): the browser tests share one server and
    one Chromium (session fixtures), and a second of each on two cores made the whole run
    slower. The tests of a module that shares a server go to one worker too. (``--dist
    loadgroup`` would do this, but pytest-xdist 3.8 renames ``item._nodeid``, which pytest 9
    no longer reads.)"""
    from xdist.scheduler import LoadScopeScheduling

    together = _modules_with_module_fixtures()

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("tests/browser/"):
                return "browser"
            module = nodeid.split("::", 1)[0]
            return module if module in together else nodeid

    return BrowserTestsTogether(config, log)


def _modules_with_module_fixtures() -> set[str]:
    """Test modules (``tests/test_x.py``) that share a server or a database among their
    tests (a ``module_*`` fixture, or one of their own with ``scope="module"``): their tests
    go to one worker together, or each worker would start the module's servers again."""
    here = os.path.dirname(__file__)
    shared = re.compile(r'scope="module"|\bmodule_(servers|db|nginx)\b')
    return {
        f"tests/{name}"
        for name in os.listdir(here)
        if name.startswith("test_") and name.endswith(".py")
        and shared.search(open(os.path.join(here, name), encoding="utf-8").read())
    }  # fmt: skip
