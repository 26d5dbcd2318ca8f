"""Bad input everywhere: property-based tests with hypothesis.

Every JSON and form endpoint gets random and hostile values: wrong types, huge numbers,
unicode (NUL, lone surrogates, right-to-left marks), nulls, overlong strings, malformed JSON
and the wrong content type. Two properties must hold for every example:

- never a 5xx, and API paths always answer with a JSON ``{"success": ...}`` object;
- a refused request (4xx, or a form that comes back with an error) leaves the database
  exactly as it was (users, balances, orders, items, every ``order_counts`` row).

Each test builds one app and draws 25 examples against it (200 under
``ORDERPULSE_TEST_SCALE=full``; ``deadline=None``: a first request may compile templates),
so the module stays within a few seconds per database. The examples are derandomized: the
same ones on every run, so a failure here is reproducible.
"""

import json
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import Product, User
from tests.factories import make_order
from tests.helpers import scaled
from tests.security_helpers import flashes, snapshot

EXAMPLES = scaled(25, 200)
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure here is reproducible
)

# -- strategies ----------------------------------------------------------------------------

NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "x\udfffy",
        "\u202eevil",
        "𝕌𝕟𝕚𝕔𝕠𝕕𝕖 🧨",
        "²",
        "١٢٣",
        "０１",
        "1e3",
        "-1",
        "0x10",
        "9" * 30,
        "Shipped ",
        "home delivery\n",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "x" * 5000,
    ]
)
TEXT = st.one_of(NASTY_TEXT, st.text(max_size=40), st.text(min_size=250, max_size=400))
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
# Form values travel as text: anything the browser could send (no lone surrogates, which no
# UTF-8 body can carry; NUL and other control characters are fair game).
FORM_TEXT = st.one_of(
    NASTY_TEXT.filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
JUNK_BODIES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"{", b"[1,2", b'{"a":}', b"null", b"\xff\xfe\x00", b'"x"', b"NaN"]),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/json; charset=latin-1",
        "",
    ]
)
HEADER_TEXT = st.one_of(
    st.none(),
    # Any Latin-1 text an HTTP header can carry (a header ends at CR/LF).
    st.text(alphabet=st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=120),
)


def json_requests(body: st.SearchStrategy) -> st.SearchStrategy:
    """``client.post`` keyword arguments: a JSON body, or junk/with a wrong content type."""
    return st.one_of(
        body.map(lambda value: {"json": value}),
        JSON_VALUES.map(lambda value: {"json": value}),
        st.tuples(JUNK_BODIES, CONTENT_TYPES).map(lambda t: {"data": t[0], "content_type": t[1]}),
        st.tuples(body, CONTENT_TYPES).map(
            lambda t: {"data": json.dumps(t[0]), "content_type": t[1]}
        ),
        st.dictionaries(st.sampled_from(["status", "reason", "items"]), FORM_TEXT).map(
            lambda form: {"data": form}
        ),
    )


def form_requests(fields: dict) -> st.SearchStrategy:
    """Form posts with each of ``fields`` drawn from its strategy or left out, extra junk
    fields, or a raw body with a random content type."""
    return st.one_of(
        st.fixed_dictionaries({}, optional=fields).map(lambda form: {"data": form}),
        st.tuples(JUNK_BODIES, CONTENT_TYPES).map(lambda t: {"data": t[0], "content_type": t[1]}),
        JSON_VALUES.map(lambda value: {"json": value}),
    )


# -- the properties ------------------------------------------------------------------------


def check(app, response, before, *, api: bool, refused: bool | None = None):
    """Never 5xx; API answers are JSON objects; a refusal writes nothing.

    ``refused`` defaults to "status is 4xx"; form views pass their own reading (they answer
    302 whether or not they did something).
    """
    body = response.get_data(as_text=True)
    assert response.status_code < 500, body[:500]
    if api:
        assert response.is_json, body[:200]
        payload = response.get_json()
        assert isinstance(payload, dict) and isinstance(payload.get("success"), bool)
        assert payload["success"] is (response.status_code < 400)
    if refused is None:
        refused = response.status_code >= 400
    if refused:
        assert snapshot(app) == before


def error_flashed(client) -> bool:
    return any(category == "error" for category, _ in flashes(client))


@pytest.fixture
def order_ids(app, shop):
    """Orders of alice's to act on: ``[pending id, another pending id]``."""
    with app.app_context():
        product = db.session.get(Product, shop.products[0].id)
        alice = db.session.get(User, shop.alice.id)
        return [make_order(alice, [(product, 1)]).id for _ in range(2)]


# -- JSON endpoints ------------------------------------------------------------------------

ITEMS = st.one_of(
    SCALARS,
    st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {"product_id": st.one_of(st.integers(1, 4), SCALARS), "quantity": SCALARS}
            ),
            JSON_VALUES,
        ),
        max_size=4,
    ),
    st.lists(st.just({"product_id": 1, "quantity": 1}), min_size=51, max_size=60),
)
ORDER_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "items": ITEMS,
        "delivery_method": st.one_of(st.sampled_from(["pickup", "home delivery"]), SCALARS),
        "delivery_address": SCALARS,
    },
)


@SETTINGS
@given(request=json_requests(ORDER_BODIES), key=HEADER_TEXT)
def test_api_orders_never_fails_or_half_writes(app, customer_client, shop, request, key):
    before = snapshot(app)
    headers = {} if key is None else {"Idempotency-Key": key}
    response = customer_client.post("/api/orders", headers=headers, **request)
    check(app, response, before, api=True)


ORDER_ID_PATHS = st.one_of(
    st.sampled_from([0, 1]),  # an index into the fixture's orders
    st.integers(min_value=0, max_value=2**70).map(lambda n: ("raw", n)),
)


def admin_url(order_ids, choice, action):
    if isinstance(choice, tuple):
        return f"/admin/api/order/{choice[1]}/{action}"
    return f"/admin/api/order/{order_ids[choice]}/{action}"


@SETTINGS
@given(
    target=ORDER_ID_PATHS,
    request=json_requests(
        st.fixed_dictionaries(
            {},
            optional={
                "status": st.one_of(
                    st.sampled_from(["Shipped", "Out for Delivery", "Delivered", "Pending"]),
                    SCALARS,
                ),
                # The status the page showed: stale, unknown or not a string.
                "from": st.one_of(st.sampled_from(["Pending", "Shipped", "Cancelled"]), SCALARS),
            },
        )
    ),
)
def test_admin_status_never_fails_or_half_writes(app, admin_client, order_ids, target, request):
    before = snapshot(app)
    response = admin_client.post(admin_url(order_ids, target, "status"), **request)
    check(app, response, before, api=True)


@SETTINGS
@given(
    target=ORDER_ID_PATHS,
    request=json_requests(st.fixed_dictionaries({}, optional={"reason": SCALARS})),
)
def test_admin_cancel_never_fails_or_half_writes(app, admin_client, order_ids, target, request):
    before = snapshot(app)
    response = admin_client.post(admin_url(order_ids, target, "cancel"), **request)
    check(app, response, before, api=True)


@SETTINGS
@given(
    target=ORDER_ID_PATHS,
    request=json_requests(
        st.fixed_dictionaries(
            {}, optional={"activity_id": st.one_of(st.integers(-2, 6), SCALARS, JSON_VALUES)}
        )
    ),
)
def test_admin_undo_never_fails_or_half_writes(app, admin_client, order_ids, target, request):
    """Undo with any body: the fixture's orders have only "created" entries (not undoable)
    and low ids hit them, other orders' entries or none."""
    before = snapshot(app)
    response = admin_client.post(admin_url(order_ids, target, "undo"), **request)
    check(app, response, before, api=True)
    assert response.status_code >= 400


# -- form endpoints ------------------------------------------------------------------------


@SETTINGS
@given(
    request=form_requests(
        {"username": st.one_of(st.just("alice"), FORM_TEXT), "password": FORM_TEXT}
    )
)
def test_login_never_fails_or_writes(app, client, shop, request):
    before = snapshot(app)
    response = client.post("/auth/login", **request)
    check(app, response, before, api=False, refused=True)  # logging in writes nothing
    assert response.status_code in (200, 303, 400, 413), response.status_code
    with client.session_transaction() as session:
        assert "_user_id" not in session  # no drawn password is alice's


@SETTINGS
@given(
    request=form_requests(
        {
            "username": st.one_of(st.sampled_from(["alice", "new.user_1"]), FORM_TEXT),
            "email": st.one_of(st.just("new@example.com"), FORM_TEXT),
            "password": st.one_of(st.just("longpassword1"), FORM_TEXT),
            "confirm": st.one_of(st.just("longpassword1"), FORM_TEXT),
        }
    )
)
def test_register_never_fails_and_writes_only_on_success(app, shop, request):
    client = app.test_client()
    before = snapshot(app)
    response = client.post("/auth/register", **request)
    created = response.status_code == 302 and response.headers["Location"] == "/"
    check(app, response, before, api=False, refused=not created)
    if created:
        assert len(snapshot(app)["users"]) == len(before["users"]) + 1
        with app.app_context():  # a fresh name each time, so later examples can succeed
            db.session.execute(
                db.delete(User).where(User.id == max(u.id for u in snapshot(app)["users"]))
            )
            db.session.commit()


CART_FIELDS = {
    "product_id": st.one_of(st.sampled_from(["1", "2", "4"]), FORM_TEXT),
    "quantity": st.one_of(st.sampled_from(["1", "0", "99", "100"]), FORM_TEXT),
}


@SETTINGS
@given(request=form_requests(CART_FIELDS))
def test_cart_add_never_fails_nor_writes(app, client, shop, request):
    before = snapshot(app)
    response = client.post("/cart/add", **request)
    check(app, response, before, api=False, refused=True)  # the cart lives in the session
    with client.session_transaction() as session:
        cart = session.get("cart", {})
    assert all(1 <= quantity <= 99 for quantity in cart.values()), cart
    assert all(pid in {str(p.id) for p in shop.products} for pid in cart), cart


@SETTINGS
@given(request=form_requests(CART_FIELDS))
def test_cart_update_never_fails_nor_writes(app, client, shop, request):
    client.post("/cart/add", data={"product_id": shop.products[0].id, "quantity": 1})
    before = snapshot(app)
    response = client.post("/cart", **request)
    check(app, response, before, api=False, refused=True)
    with client.session_transaction() as session:
        cart = session.get("cart", {})
    assert all(1 <= quantity <= 99 for quantity in cart.values()), cart


@SETTINGS
@given(
    request=form_requests(
        {
            "delivery_method": st.one_of(st.sampled_from(["pickup", "home delivery"]), FORM_TEXT),
            "delivery_address": FORM_TEXT,
            "idempotency_key": FORM_TEXT,
        }
    ),
    quantity=st.sampled_from([1, 2, 99]),
)
def test_checkout_never_fails_and_writes_only_an_order(
    app, customer_client, shop, request, quantity
):
    customer_client.post("/cart", data={"product_id": shop.products[3].id, "quantity": 0})
    customer_client.post(
        "/cart/add", data={"product_id": shop.products[3].id, "quantity": quantity}
    )
    customer_client.get("/cart")  # consume the flashes so far
    before = snapshot(app)
    response = customer_client.post("/checkout", **request)
    placed = response.status_code == 302 and response.headers["Location"].startswith("/orders/")
    check(app, response, before, api=False, refused=not placed)
    after = snapshot(app)
    if placed:
        assert len(after["orders"]) in (len(before["orders"]), len(before["orders"]) + 1)
        [(credits_before, credits_after)] = [
            (b.credits, a.credits)
            for b, a in zip(before["users"], after["users"], strict=True)
            if b.id == shop.alice.id
        ]
        assert credits_after >= 0 and credits_after <= credits_before
    else:
        assert response.status_code in (200, 302, 303, 400, 413, 422), response.status_code


# -- query strings and URL segments --------------------------------------------------------

PAGE_PATHS = st.sampled_from(
    ["/", "/orders", "/admin/manage_orders", "/admin/api/order-updates", "/cart", "/checkout"]
)
QUERY_VALUES = st.one_of(
    FORM_TEXT, st.integers(min_value=-(2**80), max_value=2**80).map(str), st.just("")
)


@SETTINGS
@given(
    path=PAGE_PATHS,
    query=st.dictionaries(
        st.sampled_from(["page", "q", "category", "status", "minutes", "next"]),
        QUERY_VALUES,
        max_size=3,
    ),
    segment=FORM_TEXT,
)
def test_pages_never_fail_on_hostile_urls(app, admin_client, order_ids, path, query, segment):
    before = snapshot(app)
    response = admin_client.get(path, query_string=query)
    check(app, response, before, api=path.startswith("/admin/api/"), refused=True)
    quoted = urllib.parse.quote(segment, safe="")
    for url in (f"/orders/{quoted}", f"/admin/api/order/{quoted}/details"):
        response = admin_client.get(url)
        check(app, response, before, api=url.startswith("/admin/api/"), refused=True)


# -- the bugs these properties found, kept as plain examples ---------------------------------


def test_huge_ids_and_pages_are_not_found_not_a_crash(admin_client, order_ids):
    huge = 10**25
    assert admin_client.get(f"/admin/api/order/{huge}/details").status_code == 404
    response = admin_client.post(f"/admin/api/order/{huge}/status", json={"status": "Shipped"})
    assert response.status_code == 404 and response.is_json
    for path in ("/", "/orders", "/admin/manage_orders"):
        assert admin_client.get(path, query_string={"page": str(huge)}).status_code == 200


@pytest.mark.parametrize(
    "path", ["/auth/login", "/auth/register", "/cart/add", "/cart", "/checkout"]
)
@pytest.mark.parametrize("body", ["false", '" "', "[1, 2]", "{"], ids=repr)
@pytest.mark.one_database
def test_a_json_body_posted_to_a_form_is_a_bad_form(app, customer_client, shop, path, body):
    before = snapshot(app)
    response = customer_client.post(path, data=body, content_type="application/json")
    assert response.status_code in (200, 302, 400), response.status_code
    assert snapshot(app) == before


@pytest.mark.parametrize("product_id", ["²", "١", "2147483648", "9" * 25])
def test_odd_product_ids_are_refused_with_a_flash(client, shop, product_id):
    response = client.post("/cart/add", data={"product_id": product_id, "quantity": "1"})
    assert response.status_code == 302
    assert [category for category, _ in flashes(client)] == ["error"]


@pytest.mark.parametrize("text", ["\x00", "bad\x00reason", "\ud800", "a\udfffb"], ids=repr)
def test_text_the_database_cannot_store_is_400(app, admin_client, order_ids, text):
    before = snapshot(app)
    # JSON escapes carry NUL and lone surrogates; no database here can store them.
    body = json.dumps({"reason": text})
    response = admin_client.post(
        f"/admin/api/order/{order_ids[0]}/cancel", data=body, content_type="application/json"
    )
    assert response.status_code == 400 and response.is_json
    assert snapshot(app) == before


def test_nul_in_forms_and_queries_is_refused(app, client, shop):
    before = snapshot(app)
    login = client.post("/auth/login", data={"username": "ali\x00ce", "password": "x"})
    assert login.status_code == 303 and login.headers["Location"] == "/auth/login"
    assert [category for category, _ in flashes(client)] == ["error"]
    assert client.get("/", query_string={"q": "tea\x00"}).status_code == 400
    assert client.get("/orders/ORD%00").status_code == 400
    assert snapshot(app) == before


def test_deeply_nested_json_is_400(customer_client, shop):
    body = "[" * 30_000 + "]" * 30_000  # within the 64 KiB cap, beyond the parser's depth
    response = customer_client.post("/api/orders", data=body, content_type="application/json")
    assert response.status_code == 400 and response.is_json
