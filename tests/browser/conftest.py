"""Browser tests: Debian's chromium driven by Playwright against a real gunicorn (gevent)
server on a fresh SQLite database.

Chromium comes from the system package (``.ci/run`` installs it); Playwright's own browser
download is never used. The tests drive Debian's ``chromium-headless-shell``, the same
Chromium (Blink, V8, the network stack) without the browser's window and its compositor,
which is what Playwright itself runs for headless tests: a new page costs it 0.1 CPU-s
where the full browser's headless mode costs 0.8. ``CHROMIUM_PATH=/usr/bin/chromium`` runs
them in the full browser. Without chromium or Playwright these tests skip, unless
``REQUIRE_SERVICES=1`` (CI), where they fail instead.
"""

import json
import os
import sqlite3
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.harness import ROOT, GunicornServer
from tests.helpers import WAIT_TIMEOUT, wait_until
from tests.servers import Session

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium-headless-shell")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "artifacts"
ADMIN = ("admin", "admin12345")
CUSTOMER_PASSWORD = "customer123"
# Short client and server intervals so every scenario runs in seconds.
SERVER_ENV = {
    "ORDERPULSE_CONFIG": "development",
    "SECRET_KEY": "browser-tests",
    "SSE_HEARTBEAT_SECONDS": "0.5",
    "SSE_RETRY_MS": "300",
    "SSE_SHUTDOWN_SPREAD_SECONDS": "0.3",
    "HUB_COALESCE_SECONDS": "0.05",
    "HUB_VERSION_POLL_SECONDS": "0.2",
    "HUB_HOUSEKEEPING_SECONDS": "0.2",
    "SSE_MAX_STREAMS_PER_USER": "50",
    "FALLBACK_POLL_MS": "400",
    "LIVE_OFFLINE_GRACE_MS": "600",
    "LIVE_BACKOFF_MAX_MS": "800",
    "RATELIMIT_ENABLED": "0",
    # The run logs the same users in from many contexts; the cap has tests of its own.
    "SESSION_MAX_PER_USER": "1000",
    "GRACEFUL_TIMEOUT": "3",
    # Every HUP and restart waits for a draining worker's idle keep-alive connections
    # (production's 5 s outlasts nginx's upstream keep-alive; tests/harness.py says why a
    # short one is safe for tests): these scenes' pages stream and fetch, nothing is posted
    # through nginx across a drain.
    "DRAIN_IDLE_SECONDS": "0.5",
    "LOG_LEVEL": "warning",
}
# Playwright's wait for an element or a navigation: generous, like wait_until's (a loaded
# CI machine is no reason to fail); it only runs out when what a test waits for never comes.
TIMEOUT_MS = 20000
STAT_NAMES = {
    "total": "total_orders",
    "Pending": "pending_count",
    "Shipped": "shipped_count",
    "Out for Delivery": "out_for_delivery",
    "Delivered": "delivered_count",
    "cancelled": "cancelled_count",
}


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1: browser tests must run)", pytrace=False)
    pytest.skip(reason)


class LiveServer(GunicornServer):
    """gunicorn on a free loopback port with its own SQLite file (``tests/harness.py``);
    ``stats()`` reads the counters straight from the database, ``open_streams()`` reads
    ``/metrics``."""

    def __init__(self, workdir: Path):
        self.db_path = workdir / "browser.db"
        super().__init__(
            workdir,
            f"sqlite:///{self.db_path}",
            defaults=SERVER_ENV,
            metrics=False,
            FLASK_APP="wsgi.py",
            REDIS_URL=None,
            PROMETHEUS_MULTIPROC_DIR=None,
        )

    def prepare(self) -> None:
        for args in (["-m", "flask", "db", "upgrade"], ["-m", "tests.browser.seed"]):
            subprocess.run(
                [sys.executable, *args],
                cwd=ROOT,
                env=self.env,
                check=True,
                capture_output=True,
                timeout=120,
            )

    def restart_with(self, while_down):
        """Stop the server (SIGTERM, as a deploy does: it drains), call ``while_down()``,
        start it again on the same port; returns what ``while_down`` returned."""
        return self.restart(while_down, timeout=15)

    def app(self):
        """An app on the server's database, in this process (a CLI job, say)."""
        from app import create_app

        return create_app("development", SQLALCHEMY_DATABASE_URI=self.env["DATABASE_URL"])

    def recycle_workers(self) -> None:
        """SIGHUP: gunicorn starts a new worker and the old one ends every open stream
        (with a ``retry:`` hint), the way a deploy or ``max_requests`` recycle does."""
        self.hup()

    def stats(self) -> dict:
        """``{total_orders: n, pending_count: n, ...}`` from ``order_counts``."""
        with sqlite3.connect(self.db_path) as conn:
            rows = conn.execute(
                "SELECT name, SUM(count) FROM order_counts GROUP BY name"
            ).fetchall()
        return {STAT_NAMES[name]: count for name, count in rows if name in STAT_NAMES}

    def query(self, sql: str, *params):
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, params).fetchall()

    def open_streams(self) -> int:
        with urllib.request.urlopen(self.url + "/metrics", timeout=3) as r:
            text = r.read().decode()
        for line in text.splitlines():
            if line.startswith("orderpulse_open_streams") and not line.startswith("#"):
                return int(float(line.rsplit(" ", 1)[1]))
        raise AssertionError("no orderpulse_open_streams in /metrics")

    def wait_for_streams(self, expected: int, timeout: float = WAIT_TIMEOUT) -> None:
        wait_until(
            lambda: self.open_streams() == expected,
            timeout,
            f"{expected} open stream(s) on the browser tests' server",
            every=0.1,
        )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """One seeded gunicorn server for the whole browser session."""
    if not Path(CHROMIUM).exists():
        _unavailable(
            f"{CHROMIUM} is missing: apt-get install chromium-headless-shell (.ci/run does)"
        )
    server = LiveServer(tmp_path_factory.mktemp("browser-server"))
    server.prepare()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(live_server):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts():
    """``artifacts/`` (git-ignored): screenshots of this run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def signed_in():
    """``{(username, password): storage state}``: one login per user for the whole run;
    other contexts start from its cookies (a separate browser each, the same session)."""
    return {}


@pytest.fixture(scope="session")
def idle_contexts():
    """``{pool key: [PooledContext]}``: contexts a finished test gave back, each with one
    page kept open (``new_context``)."""
    return {}


# A page handed back rests here: same origin (its localStorage can be cleared), no script,
# no stream.
REST_PATH = "/static/favicon.svg"


class PooledContext:
    """A BrowserContext (every attribute is the context's) whose first ``new_page()`` is the
    page a previous test left open in it, if any. Chromium starts a renderer process for
    every new page (about a CPU-second here, more than the dashboard's load), and a page
    navigated away and back keeps its renderer: reusing one saves that. A context given
    ``add_init_script`` or ``expose_*`` cannot be cleaned, so it is closed, not pooled."""

    def __init__(self, context):
        self._context = context
        self._spare = None
        self.poolable = True

    def new_page(self):
        spare, self._spare = self._spare, None
        if spare is not None and not spare.is_closed():
            return spare
        return self._context.new_page()

    def add_init_script(self, *args, **kwargs):
        self.poolable = False
        return self._context.add_init_script(*args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("expose_"):
            self.poolable = False
        return getattr(self._context, name)

    def give_back(self, options: dict) -> bool:
        """Clean this context for the next test (routes, offline, permissions, emulation,
        viewport, storage; every page but one closed, that one resting on ``REST_PATH``,
        which ends its streams); False when it cannot be (the caller closes it)."""
        if not self.poolable:
            return False
        context = self._context
        try:
            pages = [page for page in context.pages if not page.is_closed()]
            for page in pages[1:]:
                page.close()
            context.unroute_all(behavior="ignoreErrors")
            context.set_offline(False)
            context.clear_permissions()
            if pages:
                page = pages[0]
                page.unroute_all(behavior="ignoreErrors")
                page.emulate_media(
                    media="null",
                    color_scheme=options.get("color_scheme", "light"),
                    reduced_motion=options["reduced_motion"],
                    forced_colors=options.get("forced_colors", "none"),
                )
                page.set_viewport_size(options["viewport"])
                page.goto(REST_PATH)
                page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
                self._spare = page
            return True
        except Exception:  # a crashed page, a test that closed the context: not reusable
            return False


def _session_alive(context) -> bool:
    """Whether ``context``'s cookie is still a logged-in session (``/account`` answers)."""
    return context.request.get("/account", max_redirects=0).ok


@pytest.fixture
def new_context(browser, live_server, signed_in, idle_contexts):
    """``new_context(username, password, fresh=False, **options)`` → a logged-in
    BrowserContext (``options`` go to ``browser.new_context``: ``viewport``, ``has_touch``,
    ``timezone_id``...), its streams ended after the test (before the next test counts
    streams). Contexts share one server-side session per user unless ``fresh`` (tests that
    end sessions need sessions of their own); a shared session some test ended is replaced.
    A context from a stored session costs no page load: only a login does.

    A shared-session context is handed back after the test, cleaned
    (``PooledContext.give_back``), and handed out again with its page to a later test asking
    for the same user and options; each call still gets a context no other call of the test
    holds."""
    used = []

    def factory(
        username: str = ADMIN[0], password: str = ADMIN[1], fresh: bool = False, **options
    ):
        key = (username, password)
        options.setdefault("viewport", {"width": 1360, "height": 1000})
        # Motion reduced, as a user may set it: the live dot's pulse and the rows' highlights
        # repaint every frame for seconds after a load or a change, which in software
        # rendering costs a page a CPU-second it does not need (tests look at states, not
        # at motion). A test that looks at motion asks for "no-preference".
        options.setdefault("reduced_motion", "reduce")
        pool_key = None if fresh else (key, json.dumps(options, sort_keys=True))
        while pool_key is not None and idle_contexts.get(pool_key):
            pooled = idle_contexts[pool_key].pop()
            if _session_alive(pooled):
                used.append((pooled, pool_key, options))
                return pooled
            pooled.close()  # its session has ended
        state = None if fresh else signed_in.get(key)
        context = browser.new_context(base_url=live_server.url, storage_state=state, **options)
        context.set_default_timeout(TIMEOUT_MS)
        pooled = PooledContext(context)
        used.append((pooled, pool_key, options))
        if state is not None and _session_alive(context):
            return pooled
        if state is not None:  # that session has ended: a new login, for everyone after
            context.clear_cookies()
        log_in(context, username, password)
        if not fresh:
            signed_in[key] = context.storage_state()
        return pooled

    yield factory
    for pooled, pool_key, options in used:
        if pool_key is not None and pooled.give_back(options):
            idle_contexts.setdefault(pool_key, []).append(pooled)
        else:
            pooled.close()


# The sizes the layout tests look at: a desktop's first screen, a tablet, a phone. One set
# for every module, so their contexts are the same pool entries (``new_context``).
SIZES = {"desktop": (1440, 900), "tablet": (820, 1180), "phone": (390, 844)}


def sized_context(new_context, size: str, **options):
    """The admin's context at ``size`` (a key of ``SIZES``; ``options``: touch...)."""
    width, height = SIZES[size]
    return new_context(viewport={"width": width, "height": height}, **options)


def sized_dashboard(new_context, size: str, **options):
    """``(context, page)``: the admin's dashboard at ``size``, showing Live."""
    context = sized_context(new_context, size, **options)
    page = context.new_page()
    page.goto("/admin/manage_orders")
    wait_live(page)
    return context, page


def log_in(context, username: str, password: str) -> None:
    """Log in through the real form in ``context``."""
    page = context.new_page()
    page.goto("/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert "/auth/login" not in page.url, f"login failed for {username!r}"
    page.close()


@pytest.fixture
def dashboard(new_context):
    """``dashboard(context=None)`` → a page on /admin/manage_orders showing "Live"."""

    def opener(context=None):
        context = context or new_context()
        page = context.new_page()
        page.goto("/admin/manage_orders")
        wait_live(page)
        return page

    return opener


_HIDE = """(hidden) => {
    Object.defineProperty(document, 'visibilityState', {configurable: true,
        get: () => hidden ? 'hidden' : 'visible'});
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


def set_hidden(page, hidden: bool) -> None:
    """Make ``page`` report itself hidden (or visible again) and fire ``visibilitychange``,
    as switching tabs does: headless Chromium never hides a page by itself."""
    page.evaluate(_HIDE, hidden)


def show_toast(page, text: str, opts: dict | None = None) -> None:
    """Show a toast on ``page`` as its own scripts do (``toast(text, opts)`` from
    ``app/static/js/lib/toasts.js``, the same module instance the page imported)."""
    page.evaluate(
        """async ([text, opts]) => {
            const { toast } = await import('/static/js/lib/toasts.js');
            toast(text, opts);
        }""",
        [text, opts or {}],
    )


def old_hidden_behaviour(page, grace_ms: int = 600) -> None:
    """Serve ``page`` the dashboard as a shop with LIVE_HIDDEN_GRACE_MS=``grace_ms`` would
    (a hidden tab gives up its stream after that long): the server runs with the default,
    0, so the setting is tried per page by rewriting its ``data-hidden-grace-ms``."""

    def rewrite(route):
        response = route.fetch()
        body = response.text().replace(
            'data-hidden-grace-ms="0"', f'data-hidden-grace-ms="{grace_ms}"'
        )
        assert f'data-hidden-grace-ms="{grace_ms}"' in body
        route.fulfill(response=response, body=body)

    page.route("**/admin/manage_orders*", rewrite)


# Finishes every running animation and transition; true once a frame had none left. A
# colour-scheme switch under reduced motion starts a 0.01 ms transition on every element
# (app.css gives them all that duration), and a parent's finished colour starts its
# children's: they go on for a few frames.
_AT_REST = """() => {
    const running = document.getAnimations();
    running.forEach((a) => { try { a.finish(); } catch (e) { /* an endless one */ } });
    return running.length === 0;
}"""


def use_scheme(page, scheme: str) -> None:
    """Switch ``page`` to the ``scheme`` colour scheme ("light", "dark"), motion reduced,
    and wait until it is at rest in it: a drawn page restyles as one loaded in that scheme
    would (the dark sheet is a ``<link media>``, the chart redraws on the media query's
    change), so one page load serves both themes."""
    page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
    page.wait_for_function(
        "(dark) => matchMedia('(prefers-color-scheme: dark)').matches === dark",
        arg=scheme == "dark",
    )
    page.wait_for_function(_AT_REST, polling="raf")


def wait_live(page, timeout: float = TIMEOUT_MS) -> None:
    page.wait_for_selector('[data-live-indicator][data-state="live"]', timeout=timeout)


def card_values(page) -> dict:
    """The six stat cards as ints, read from the page."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.stat-card [data-stat]')]
             .map(n => [n.dataset.stat, parseInt(n.textContent.replace(/,/g, ''), 10)]))"""
    )


def wait_cards(page, expected: dict, timeout: float = 3.0) -> None:
    """Wait until the six stat cards show ``expected`` (fails after ``timeout`` seconds)."""
    wait_until(
        lambda: card_values(page) == expected,
        timeout,
        lambda: f"the cards to show {expected}; they show {card_values(page)}",
    )


def customer_page(new_context, username="alice", password=CUSTOMER_PASSWORD, path="/cart"):
    """A logged-in customer's page on ``path``, for what a customer sees: by default the
    cart, which holds no stream (the catalogue's live stock would count in the tests' open
    streams). To place orders only, ``customer`` costs no browser."""
    page = new_context(username, password).new_page()
    page.goto(path)
    return page


# (server URL, username) → a logged-in ``Session``, for the whole run. Only the users
# whose orders and moves set a scene have one; tests that end sessions use their own
# (admin and sybil, in fresh contexts), so these stay valid.
_CLIENTS: dict[tuple[str, str], Session] = {}


def customer(live_server, username="alice", password=CUSTOMER_PASSWORD) -> Session:
    """A customer who places orders (``place_order``, ``place_orders``, ``post_json``):
    plain HTTP with the session's cookie and CSRF header, as a page's ``fetch`` sends them,
    and no browser (a page costs Chromium a renderer and a page load, and nothing in these
    scenes looks at the customer's screen). Logged in once per run."""
    key = (live_server.url, username)
    if key not in _CLIENTS:
        _CLIENTS[key] = Session(live_server.url, username, password)
    return _CLIENTS[key]


def other_admin(live_server) -> Session:
    """The second admin (``maria``), to act from without a page of hers."""
    from tests.browser.seed import SECOND_ADMIN

    return customer(live_server, *SECOND_ADMIN)


def row(page, order_id):
    return page.locator(f'tr[data-order-id="{order_id}"]')


def place_order(page, delivery="pickup", address=None, quantity=1) -> dict:
    """POST /api/orders as ``page`` (a customer's page on any shop URL, or ``customer``'s
    client): the order."""
    body = {
        "items": [{"product_id": 1, "quantity": quantity}],
        "delivery_method": delivery,
        "delivery_address": address,
    }
    result = post_json(page, "/api/orders", body)
    assert result["status"] == 201, result
    return result["body"]["order"]


def place_orders(client: Session, count: int, delivery="pickup") -> list[dict]:
    """``count`` orders at once as ``client`` (``customer``'s), as a burst: the requests go
    out together, not one after another (a burst ends after a quiet gap, which a slow
    machine's one-by-one requests could leave open). The orders."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: place_order(client, delivery), range(count)))


def post_json(page, path: str, body: dict, method: str = "POST") -> dict:
    """``body`` as JSON to ``path`` from ``page`` (a page, with its CSRF token, or a
    ``Session``): ``{status, body}``."""
    if isinstance(page, Session):
        status, text = page.request(method, path, json_body=body)
        return {"status": status, "body": json.loads(text)}
    return page.evaluate(
        """async ([path, body, method]) => {
            const token = document.querySelector('meta[name=csrf-token]').content;
            const r = await fetch(path, {method, headers: {
                'Content-Type': 'application/json', 'X-CSRFToken': token},
                body: JSON.stringify(body)});
            return {status: r.status, body: await r.json()};
        }""",
        [path, body, method],
    )
