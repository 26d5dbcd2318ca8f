"""Property tests for the shop owner's tools.

1. Hostile bodies for notes, tags, refunds, saved views and products (the strategies of
   tests/test_properties.py): never a 5xx, API answers are JSON objects, a refusal writes
   nothing.
2. The books stay exact: over random sequences of checkouts, partial refunds, cancels and
   their undos (through the HTTP routes), every customer's balance, the revenue buckets and
   the CSV agree with what the orders say, and ``reconcile`` finds no drift.
"""

import csv
import io

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.models import Order, Product, User
from app.services import counts, revenue
from tests.helpers import logged_in_client
from tests.security_helpers import snapshot
from tests.test_properties import (
    JSON_VALUES,
    NUMBERS,
    SCALARS,
    SETTINGS,
    TEXT,
    check,
    json_requests,
    order_ids,  # noqa: F401  (fixture)
)

TAG_LISTS = st.one_of(SCALARS, st.lists(st.one_of(TEXT, SCALARS), max_size=22))
BODIES = {
    "notes": st.fixed_dictionaries({}, optional={"text": st.one_of(TEXT, SCALARS, JSON_VALUES)}),
    "tags": st.fixed_dictionaries({}, optional={"add": TAG_LISTS, "remove": TAG_LISTS}),
    "refund": st.fixed_dictionaries(
        {}, optional={"credits": st.one_of(NUMBERS, SCALARS), "reason": st.one_of(TEXT, SCALARS)}
    ),
}
VIEW_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(TEXT, SCALARS),
        "query": st.one_of(TEXT, SCALARS, st.dictionaries(TEXT, st.one_of(TEXT, SCALARS))),
        "shared": SCALARS,
    },
)
PRODUCT_BODIES = st.fixed_dictionaries(
    {},
    optional={
        name: st.one_of(TEXT, SCALARS, NUMBERS)
        for name in ("name", "category", "description", "credit_value", "stock", "image_url")
    },
)


@SETTINGS
@given(kind=st.sampled_from(sorted(BODIES)), data=st.data())
def test_order_tools_never_fail_or_half_write(app, admin_client, order_ids, kind, data):  # noqa: F811
    request = data.draw(json_requests(BODIES[kind]))
    before = snapshot(app)
    response = admin_client.post(f"/admin/api/order/{order_ids[0]}/{kind}", **request)
    check(app, response, before, api=True)


@SETTINGS
@given(request=json_requests(VIEW_BODIES))
def test_saved_views_never_fail_or_half_write(app, admin_client, order_ids, request):  # noqa: F811
    before = snapshot(app)
    check(app, admin_client.post("/admin/api/views", **request), before, api=True)


@SETTINGS
@given(request=json_requests(PRODUCT_BODIES), patch=st.booleans())
def test_products_never_fail_or_half_write(app, admin_client, order_ids, request, patch):  # noqa: F811
    before = snapshot(app)
    if patch:
        response = admin_client.patch("/admin/api/products/1", **request)
    else:
        response = admin_client.post("/admin/api/products", **request)
    check(app, response, before, api=True)


# -- the books ---------------------------------------------------------------------------------

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("checkout"), st.integers(0, 3), st.integers(1, 4)),
        st.tuples(st.just("refund"), st.integers(0, 30), st.integers(1, 40)),
        st.tuples(st.just("cancel"), st.integers(0, 30), st.just(0)),
        st.tuples(st.just("undo"), st.integers(0, 30), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)


def books(app) -> dict:
    """What the orders say, what the balances and buckets hold, and what the CSV says."""
    with app.app_context():
        orders = db.session.execute(
            sa.select(
                Order.order_number,
                Order.user_id,
                Order.total_credits,
                Order.refunded_credits,
                Order.cancelled,
            )
        ).all()
        balances = dict(db.session.execute(sa.select(User.id, User.credits)).all())
        stored = {s: (r, n, c) for s, r, n, c in revenue.between(0, 2**40)}
        truth = {s: v for s, v in revenue.true_buckets().items() if v != (0, 0, 0)}
        db.session.remove()
    return {"orders": orders, "balances": balances, "stored": stored, "truth": truth}


def test_balances_revenue_and_csv_stay_exact(app, admin_client, order_ids):  # noqa: F811
    customers = {"alice": logged_in_client(app, "alice"), "bob": logged_in_client(app, "bob")}
    with app.app_context():
        start = dict(db.session.execute(sa.select(User.id, User.credits)).all())
        # What alice had before the fixture's two orders (6 credits each).
        first_orders = dict(
            db.session.execute(
                sa.select(Order.user_id, sa.func.sum(Order.total_credits)).group_by(Order.user_id)
            ).all()
        )
        products = db.session.scalars(sa.select(Product.id).order_by(Product.id)).all()
        db.session.remove()
    opening = {uid: credits + first_orders.get(uid, 0) for uid, credits in start.items()}
    cancels: dict[int, int] = {}  # order id → the activity id of its latest cancel

    @SETTINGS
    @given(steps=STEPS)
    def run(steps):
        for kind, pick, amount in steps:
            act(kind, pick, amount)
        assert_exact()

    def ids():
        with app.app_context():
            found = db.session.scalars(sa.select(Order.id).order_by(Order.id)).all()
            db.session.remove()
        return found

    def act(kind, pick, amount):
        if kind == "checkout":
            client = customers["alice" if pick % 2 else "bob"]
            body = {
                "items": [{"product_id": products[pick], "quantity": amount}],
                "delivery_method": "pickup",
            }
            assert client.post("/api/orders", json=body).status_code in (201, 409, 422)
            return
        known = ids()
        order_id = known[pick % len(known)]
        url = f"/admin/api/order/{order_id}"
        if kind == "refund":
            body = {"credits": amount, "reason": "Property test"}
            response = admin_client.post(f"{url}/refund", json=body)
            assert response.status_code in (200, 409)
        elif kind == "cancel":
            response = admin_client.post(f"{url}/cancel", json={"reason": "Property test"})
            assert response.status_code in (200, 409)
            if response.status_code == 200:
                cancels[order_id] = response.get_json()["activity"]["id"]
        elif order_id in cancels:
            body = {"activity_id": cancels.pop(order_id)}
            assert admin_client.post(f"{url}/undo", json=body).status_code in (200, 409)

    def assert_exact():
        state = books(app)
        spent: dict[int, int] = {}
        for _, user_id, total, refunded, cancelled in state["orders"]:
            assert 0 <= refunded <= total
            net = 0 if cancelled else total - refunded
            spent[user_id] = spent.get(user_id, 0) + net
        for user_id, credits in state["balances"].items():
            assert credits == opening[user_id] - spent.get(user_id, 0)
        assert state["stored"] == state["truth"]
        assert sum(r for r, _, _ in state["stored"].values()) == sum(spent.values())
        rows = list(csv.DictReader(io.StringIO(admin_client.get("/admin/orders.csv").text)))
        by_number = {o[0]: o for o in state["orders"]}
        assert len(rows) == len(by_number)
        for row in rows:
            _, _, total, refunded, cancelled = by_number[row["order_number"]]
            assert int(row["total_credits"]) == total
            assert int(row["refunded_credits"]) == refunded
            assert row["cancelled"] == ("true" if cancelled else "false")
        with app.app_context():
            assert counts.reconcile() == {} and revenue.reconcile() == {}
            db.session.rollback()
            db.session.remove()

    run()
