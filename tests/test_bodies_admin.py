"""The admin's small bodies checked by pydantic models through ``bodies.check``: tags, notes,
refunds, a move with its tracking number, a cancel, an undo, saved views, products and
presence. Strict types (``true`` and ``"5"`` are not integers, ``null`` is not a list or a
string), our messages and statuses, and one answer for a body with several faults: the one
the checks always gave first (each service's ``REFUSALS``)."""

import pytest

from app.realtime.presence import parse_focus, parse_presence
from app.services import Invalid
from app.services.notes import parse_text
from app.services.order_request import parse_cancel, parse_move
from app.services.products import parse_product
from app.services.refunds import parse_refund
from app.services.saved_views import parse_view
from app.services.tags import parse_tag_change
from app.services.undo import parse_activity_id
from tests.helpers import assert_json_error

NOT_OBJECTS = [None, [], ["text"], "x", 5, True]
ids = {"ids": lambda value: repr(value)[:60]}


def refused(parse, *args) -> tuple[int, str]:
    with pytest.raises(Invalid) as refusal:
        parse(*args)
    return refusal.value.status_code, refusal.value.message


@pytest.mark.parametrize(
    "body, status, message",
    [
        *((body, 400, 'Send JSON {"add"') for body in NOT_OBJECTS),
        ({"add": None}, 400, "add must be a list of tags"),
        ({"add": "vip"}, 400, "add must be a list of tags"),
        ({"add": ["vip"], "remove": {"vip": 1}}, 400, "remove must be a list of tags"),
        ({"add": ["x"] * 21, "remove": 5}, 422, "At most 20 tags in add"),
        ({"add": [str(i) for i in range(21)]}, 422, "At most 20 tags in add"),
        ({"add": ["vip", 5, "bad tag!"]}, 400, "A tag must be a string"),
        ({"add": ["vip", "bad tag!", 5]}, 422, "'bad tag!' is not a tag"),
        ({"add": [True]}, 400, "A tag must be a string"),
        ({"add": ["a -b"]}, 422, "'a -b' is not a tag"),
        ({"add": ["a" * 33]}, 422, "is not a tag: 1 to 32"),
        ({"add": ["ok"], "remove": ["y"] * 21}, 422, "At most 20 tags in remove"),
        ({"add": [], "remove": []}, 422, "Nothing to do"),
        ({"extra": 1}, 422, "Nothing to do"),
        ({"add": ["VIP"], "remove": [" vip "]}, 422, "added and removed at once"),
    ],
    **ids,
)
def test_tags_get_the_first_refusal_in_our_words(body, status, message):
    got_status, got = refused(parse_tag_change, body)
    assert got_status == status and message in got


def test_tags_read_as_before():
    body = {"add": [" Gift  Box ", "gift box", "Ωmega", "日本"], "remove": [], "ids": [1]}
    assert parse_tag_change(body) == (["gift box", "ωmega", "日本"], [])
    assert parse_tag_change({"remove": ["X"] * 20}) == ([], ["x"])


@pytest.mark.parametrize(
    "body, status, message",
    [
        *((body, 400, 'Send JSON {"text"') for body in NOT_OBJECTS),
        ({}, 400, 'Send JSON {"text"'),
        ({"text": None}, 400, 'Send JSON {"text"'),
        ({"text": 5}, 400, 'Send JSON {"text"'),
        ({"text": ["a"]}, 400, 'Send JSON {"text"'),
        ({"text": " \t\n"}, 422, "A note needs some text"),
        ({"text": " " + "n" * 1001}, 422, "at most 1000 characters (this one has 1001)"),
    ],
    **ids,
)
def test_a_note_gets_our_refusal(body, status, message):
    got_status, got = refused(parse_text, body)
    assert got_status == status and message in got


def test_a_note_is_stripped():
    assert parse_text({"text": "  à l'heure 🎉 ", "extra": 1}) == "à l'heure 🎉"
    assert parse_text({"text": "n" * 1000}) == "n" * 1000


@pytest.mark.parametrize(
    "body, status, message",
    [
        *((body, 400, 'Send JSON {"credits"') for body in NOT_OBJECTS),
        ({"reason": "x"}, 400, "credits must be a whole number"),
        ({"credits": True, "reason": None}, 400, "credits must be a whole number"),
        ({"credits": "5", "reason": "x"}, 400, "credits must be a whole number"),
        ({"credits": 5.0, "reason": "x"}, 400, "credits must be a whole number"),
        ({"credits": 0, "reason": None}, 422, "credits must be at least 1"),
        ({"credits": 2**31, "reason": "x"}, 422, "credits are more than the order's total"),
        ({"credits": 10**30, "reason": "x"}, 422, "credits are more than the order's total"),
        ({"credits": 1}, 422, "A refund reason is required"),
        ({"credits": 1, "reason": 5}, 422, "A refund reason is required"),
        ({"credits": 1, "reason": "  "}, 422, "A refund reason is required"),
        ({"credits": 1, "reason": "r" * 301}, 422, "longer than 300 characters"),
    ],
    **ids,
)
def test_a_refund_gets_the_first_refusal_in_our_words(body, status, message):
    got_status, got = refused(parse_refund, body)
    assert got_status == status and message in got


def test_a_refund_reads_as_before():
    assert parse_refund({"credits": 2**31 - 1, "reason": " r" + "r" * 299}) == (
        2**31 - 1,
        "r" * 300,
    )


MOVE = {"status": "Shipped"}


@pytest.mark.parametrize(
    "body, status, message",
    [
        *((body, 400, 'Send JSON {"status"') for body in NOT_OBJECTS),
        ({"from": 5, "carrier": 5}, 400, 'Send JSON {"status"'),
        ({"status": None}, 400, 'Send JSON {"status"'),
        ({**MOVE, "carrier": 5, "from": 5}, 400, "carrier and tracking_number must be strings"),
        ({**MOVE, "carrier": "ups", "tracking_number": ["1"]}, 400, "must be strings"),
        ({**MOVE, "carrier": "UPS", "from": 5}, 422, "Give both a carrier and a tracking"),
        ({**MOVE, "carrier": " ", "tracking_number": "AB123456"}, 422, "Give both"),
        ({**MOVE, "carrier": "Nope", "tracking_number": "x", "from": 1}, 422, "'Nope'; one of"),
        ({**MOVE, "carrier": "UPS", "tracking_number": "AB123456"}, 422, '"1Z" and 16 more'),
        ({**MOVE, "carrier": "dhl", "tracking_number": "ab!12345"}, 422, "not a DHL tracking"),
        ({**MOVE, "from": True}, 400, '"from" must be the status the page showed'),
        ({**MOVE, "from": {"1": "Pending"}}, 400, '"from" must be the status the page showed'),
    ],
    **ids,
)
def test_a_move_gets_the_first_refusal_in_our_words(body, status, message):
    got_status, got = refused(parse_move, body)
    assert got_status == status and message in got


def test_a_move_reads_as_before():
    move = parse_move({"status": "Nope", "from": "Pending", "carrier": None, "extra": 1})
    assert (move.status, move.seen, move.tracking) == ("Nope", "Pending", None)
    body = {**MOVE, "carrier": " ups", "tracking_number": "1z 999-aa1 0123456784"}
    assert parse_move(body).tracking == ("UPS", "1Z999AA10123456784")


def test_a_cancel_body_leaves_the_reason_to_the_cancel():
    assert parse_cancel({"reason": 5}) == (5, None)
    assert parse_cancel({"reason": " r ", "from": "Shipped"}) == (" r ", "Shipped")
    assert refused(parse_cancel, ["reason"]) == (400, 'Send JSON {"reason": "..."}')
    assert refused(parse_cancel, {"from": 1})[0] == 400


@pytest.mark.parametrize(
    "body",
    [*NOT_OBJECTS, {}, {"activity_id": True}, {"activity_id": "5"}, {"activity_id": 5.0}]
    + [{"activity_id": 0}, {"activity_id": 2**31}, {"activity_id": None}],
    **ids,
)
def test_an_undo_is_refused_with_its_shape(body):
    assert refused(parse_activity_id, body) == (
        400,
        'Send JSON {"activity_id": <the id of the change to undo>}',
    )


def test_an_undo_reads_as_before():
    assert parse_activity_id({"activity_id": 2**31 - 1, "extra": None}) == 2**31 - 1


@pytest.mark.parametrize(
    "body, status, message",
    [
        *((body, 400, 'Send JSON {"name"') for body in NOT_OBJECTS),
        ({"query": 5}, 400, "name must be a string and shared true or false"),
        ({"name": " ", "shared": 1, "query": 5}, 400, "name must be a string and shared"),
        ({"name": "", "shared": "true"}, 400, "name must be a string and shared"),
        ({"name": "", "query": {"status": 5}}, 400, "query's values must be strings"),
        ({"name": "", "query": {"a": "b", "q": None}}, 400, "query's values must be strings"),
        ({"name": "", "query": None}, 400, "query must be the table's query string"),
        ({"name": "", "query": ["status=Pending"]}, 400, "query must be the table's"),
        ({"name": " \t "}, 422, "A view needs a name of 1 to 60 characters"),
        ({"name": "a" * 61}, 422, "A view needs a name of 1 to 60 characters"),
    ],
    **ids,
)
def test_a_view_gets_the_first_refusal_in_our_words(body, status, message):
    got_status, got = refused(parse_view, body)
    assert got_status == status and message in got


def test_a_view_reads_as_before():
    body = {"name": "  my   view ", "query": {"status": "Pending", "tag": "vip"}, "shared": None}
    assert parse_view(body) == ("my view", "status=Pending&tag=vip", False)
    assert parse_view({"name": "日本", "shared": True}) == ("日本", "", True)


PRODUCT = {"name": "Loaf", "category": "Bakery", "credit_value": 5}


@pytest.mark.parametrize(
    "body, partial, status, message",
    [
        *((body, False, 400, "Send a JSON object") for body in NOT_OBJECTS),
        ({"zeta": 1, "Name": 5, "name": 5}, True, 400, "Unknown field(s): Name, zeta; known:"),
        ({}, False, 422, "name is required"),
        ({"category": 5, "credit_value": True}, False, 422, "name is required"),
        ({"name": None, "category": None}, True, 400, "name must be a string"),
        ({"name": " ", "category": 5}, True, 422, "name must be 1 to 120 characters"),
        ({**PRODUCT, "category": "c" * 61, "stock": -1}, False, 422, "category must be 1 to 60"),
        ({**PRODUCT, "description": None}, False, 400, "description must be a string"),
        ({**PRODUCT, "description": "d" * 501}, False, 422, "description must be 0 to 500"),
        ({"name": "a", "category": "b"}, False, 422, "credit_value is required"),
        ({**PRODUCT, "credit_value": True}, False, 400, "credit_value must be a whole number"),
        ({**PRODUCT, "credit_value": "5"}, False, 400, "credit_value must be a whole number"),
        ({**PRODUCT, "credit_value": 0}, False, 422, "credit_value must be from 1 to 1,000,000"),
        ({"credit_value": 10**30}, True, 422, "credit_value must be from 1 to 1,000,000"),
        ({"stock": 1.0, "image_url": 5}, True, 400, "stock must be a whole number"),
        ({"stock": 1_000_001}, True, 422, "stock must be from 0 to 1,000,000"),
        ({"image_url": ["x"], "active": None}, True, 400, "image_url must be a string"),
        ({"image_url": "javascript:alert(1)"}, True, 422, "http:// or https://"),
        ({"image_url": "https://" + "e" * 500}, True, 422, "http:// or https://"),
        ({"active": None}, True, 400, "active must be true or false"),
        ({"active": 1}, True, 400, "active must be true or false"),
    ],
    **ids,
)
def test_a_product_gets_the_first_refusal_in_our_words(body, partial, status, message):
    got_status, got = refused(parse_product, body, partial)
    assert got_status == status and message in got


def test_a_product_reads_as_before():
    body = {"active": False, "image_url": " ", "stock": None, **PRODUCT, "name": " Pain "}
    assert parse_product(body) == {
        "name": "Pain",
        "category": "Bakery",
        "credit_value": 5,
        "stock": None,
        "image_url": None,
        "active": False,
    }
    assert list(parse_product(body)) == ["name", "category", "credit_value", "stock"] + [
        "image_url",
        "active",
    ]
    assert parse_product({"stock": 0, "image_url": " https://e.com/x.png "}, partial=True) == {
        "stock": 0,
        "image_url": "https://e.com/x.png",
    }
    assert parse_product({}, partial=True) == {}


@pytest.mark.parametrize(
    "body, status, message",
    [
        *((body, 400, 'Send JSON {"order_id"') for body in NOT_OBJECTS),
        ({"action": "viewing"}, 400, 'Send JSON {"order_id"'),
        ({"order_id": True, "action": 5}, 400, "must be an order id (an integer) or null"),
        ({"order_id": "1"}, 400, "must be an order id (an integer) or null"),
        ({"order_id": 1.0}, 400, "must be an order id (an integer) or null"),
        ({"order_id": 0, "action": "x"}, 400, "must be a positive order id"),
        ({"order_id": 2**63}, 400, "must be a positive order id"),
        ({"order_id": None, "action": "nonsense"}, 422, '"action" needs an "order_id"'),
        ({"order_id": 1, "action": "Viewing"}, 422, '"action" must be one of viewing'),
        ({"order_id": 1, "action": ["viewing"]}, 422, '"action" must be one of viewing'),
    ],
    **ids,
)
def test_presence_gets_the_first_refusal_in_our_words(body, status, message):
    got_status, got = refused(parse_presence, body)
    assert got_status == status and message in got


def test_presence_reads_as_before():
    assert parse_presence({"order_id": None}) == (None, None)
    assert parse_presence({"order_id": 2**63 - 1, "action": None}) == (2**63 - 1, "viewing")
    assert parse_focus(7, "cancelling") == (7, "cancelling")
    assert parse_focus(None, None) == (None, None)


# Through the endpoints: a body that is no JSON object is the same 400 as any other
# malformed body, and a body is checked before the order it names is read.
ENDPOINTS = [
    ("post", "/admin/api/order/{id}/notes", 'Send JSON {"text"'),
    ("patch", "/admin/api/order/{id}/notes/1", 'Send JSON {"text"'),
    ("post", "/admin/api/order/{id}/tags", 'Send JSON {"add"'),
    ("post", "/admin/api/order/{id}/refund", 'Send JSON {"credits"'),
    ("post", "/admin/api/order/{id}/status", 'Send JSON {"status"'),
    ("post", "/admin/api/order/{id}/cancel", 'Send JSON {"reason"'),
    ("post", "/admin/api/order/{id}/undo", 'Send JSON {"activity_id"'),
    ("post", "/admin/api/views", 'Send JSON {"name"'),
    ("post", "/admin/api/products", "Send a JSON object"),
    ("patch", "/admin/api/products/1", "Send a JSON object"),
    ("post", "/admin/api/presence", 'Send JSON {"order_id"'),
]


@pytest.mark.parametrize("method, url, message", ENDPOINTS, ids=lambda v: str(v)[:40])
@pytest.mark.one_database
def test_a_body_that_is_no_object_is_a_400_at_every_endpoint(
    admin_client, placed, method, url, message
):
    url = url.format(id=placed["id"])
    for raw in ("", "{", "[1]", '"text"', "null"):
        response = getattr(admin_client, method)(url, data=raw, content_type="application/json")
        assert_json_error(response, 400, message)


@pytest.mark.parametrize(
    "url, body",
    [
        ("/admin/api/order/999999/status", {"status": "Shipped", "from": 1}),
        ("/admin/api/order/999999/cancel", {"reason": "late", "from": True}),
    ],
)
def test_a_malformed_from_is_a_400_whatever_order_the_url_names(admin_client, url, body):
    assert_json_error(admin_client.post(url, json=body), 400, '"from" must be the status')


def test_the_first_refusal_reaches_the_client(admin_client, placed):
    url = f"/admin/api/order/{placed['id']}"
    shipped = {"status": "Shipped", "carrier": "Nope", "tracking_number": "x", "from": 5}
    assert_json_error(admin_client.post(f"{url}/status", json=shipped), 422, "Unknown carrier")
    body = {"order_id": 999999, "action": "viewing"}
    assert_json_error(admin_client.post("/admin/api/presence", json=body), 404, "not found")
    body = {"order_id": placed["id"], "action": "advancing", "extra": 1}
    answer = admin_client.post("/admin/api/presence", json=body).get_json()
    assert (answer["order_id"], answer["action"]) == (placed["id"], "advancing")
