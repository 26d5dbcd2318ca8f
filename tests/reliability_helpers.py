"""Helpers for the reliability tests against real servers: many customers, concurrent
requests (aiohttp, bounded), and a check of the books straight from the database."""

import asyncio
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import aiohttp
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.models import Order, User
from app.services import accounts
from app.services.counts import STAT_KEYS, read_stats, true_counts
from tests import helpers
from tests.factories import PASSWORD
from tests.helpers import run_coroutine
from tests.servers import USER_AGENT, Session

# The one wait_until (it raises, naming what it awaited), under the name older imports use.
wait_until = helpers.wait_until

# What a refused checkout may answer: a clear client error, or "try again" (503).
CLEAN_REFUSALS = {400, 404, 409, 422, 429, 503}


def make_customers(url: str, prefix: str, credits: list[int]) -> dict[str, int]:
    """Create one customer per entry of ``credits`` (fast password hash, see conftest);
    returns ``{username: starting credits}``."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        starts = {}
        for i, amount in enumerate(credits):
            name = f"{prefix}{i}"
            accounts.create_user(name, f"{name}@example.com", PASSWORD, credits=amount)
            starts[name] = amount
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return starts


def login_all(base: str, usernames, threads: int = 16) -> dict[str, Session]:
    """Log each user in once through the real form (in parallel). Logging in is the setup,
    not the subject: each request may take 30 s on a loaded machine (a 10 s timeout failed
    once in CI, with the suite's other server tests and Chromium beside it)."""
    with ThreadPoolExecutor(threads) as pool:
        sessions = pool.map(lambda name: Session(base, name, PASSWORD, timeout=30), usernames)
        return dict(zip(usernames, sessions, strict=True))


@dataclass
class Reply:
    status: int
    body: dict | None
    text: str
    location: str | None
    seconds: float


def send_all(calls: list[tuple[Session, str, str, dict]], timeout: float = 60) -> list[Reply]:
    """Send every ``(session, method, path, kwargs)`` at once (one connection each) and
    return the replies in order. ``kwargs``: ``json`` or ``data`` and extra ``headers``.
    Redirects are not followed. Bounded by ``timeout`` seconds in all."""

    async def one(http, session, method, path, kwargs) -> Reply:
        headers = {
            "Cookie": session.cookie_header(),
            "User-Agent": USER_AGENT,
            "X-CSRFToken": session.csrf,
            **kwargs.get("headers", {}),
        }
        started = time.perf_counter()
        async with http.request(
            method,
            session.base + path,
            json=kwargs.get("json"),
            data=kwargs.get("data"),
            headers=headers,
            allow_redirects=False,
        ) as response:
            text = await response.text()
            try:
                body = json.loads(text)
            except ValueError:
                body = None
            return Reply(
                response.status,
                body,
                text,
                response.headers.get("Location"),
                time.perf_counter() - started,
            )

    async def run():
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        # No cookie jar: each request carries its own session's cookie header.
        async with aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as http:
            return await asyncio.gather(*(one(http, *call) for call in calls))

    return run_coroutine(run())


def pickup_order(product_id: int, quantity: int = 1) -> dict:
    return {
        "items": [{"product_id": product_id, "quantity": quantity}],
        "delivery_method": "pickup",
    }


def checkout_form_key(session: Session) -> str:
    """The hidden ``idempotency_key`` of a freshly rendered checkout form."""
    status, html = session.request("GET", "/checkout")
    assert status == 200, html[:500]
    match = re.search(r"<input[^>]*idempotency_key[^>]*>", html)
    assert match, "the checkout form has an idempotency_key field"
    return re.search(r'value="([^"]+)"', match.group(0)).group(1)


def check_books(url: str, starts: dict[str, int] | None = None) -> dict:
    """Assert the database is consistent and return ``read_stats()``:

    ``order_counts`` equals a recount of ``orders`` (``true_counts``); every order has its
    items and a unique number; and each customer in ``starts`` has exactly their starting
    credits minus what their (uncancelled) orders cost, never below zero.
    """
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        try:
            truth = {STAT_KEYS[name]: count for name, count in true_counts().items()}
            stats = read_stats()
            assert {key: stats[key] for key in truth} == truth, "order_counts equals a recount"
            empty = db.session.scalars(sa.select(Order.id).where(~Order.items.any())).all()
            assert not empty, f"orders without items: {empty}"
            numbers = db.session.execute(
                sa.select(sa.func.count(), sa.func.count(sa.distinct(Order.order_number)))
            ).one()
            assert numbers[0] == numbers[1], "order numbers are unique"
            if starts:
                spent = dict(
                    db.session.execute(
                        sa.select(
                            User.username, sa.func.coalesce(sa.func.sum(Order.total_credits), 0)
                        )
                        .outerjoin(Order, (Order.user_id == User.id) & ~Order.cancelled)
                        .where(User.username.in_(starts))
                        .group_by(User.username)
                    ).all()
                )
                balances = dict(
                    db.session.execute(
                        sa.select(User.username, User.credits).where(User.username.in_(starts))
                    ).all()
                )
                wrong = {
                    name: (balances[name], start, spent[name])
                    for name, start in starts.items()
                    if balances[name] != start - spent[name] or balances[name] < 0
                }
                assert not wrong, f"balance != start - spent (balance, start, spent): {wrong}"
            return stats
        finally:
            db.session.remove()
            db.engine.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
