"""Presence (docs/design.md §5a): the table every hub keeps, the frames it sends, the
route and the requests that tell it what an admin has open, and the stream's heartbeat
contract that the page's watchdog relies on."""

import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User
from app.realtime.backends import encode
from app.realtime.presence import Presence
from app.realtime.presence_board import PresenceBoard, session_key
from tests.factories import make_order, make_user, seed_shop
from tests.helpers import assert_json_error, csrf_token, data, logged_in_client, message
from tests.presence_helpers import admins, has_admin, lacks_admin

STREAM = "/admin/orders/stream"
CONFIG = {
    "PRESENCE_RENEW_SECONDS": 1.0,
    "PRESENCE_TTL_SECONDS": 3.0,
    "PRESENCE_LEAVE_GRACE_SECONDS": 0.5,
    "PRESENCE_COALESCE_SECONDS": 0.2,
}


def here(worker, key="s1", name="maria", order_id=None, action=None, at=0.0):
    return {
        "op": "here",
        "worker": worker,
        "user_id": 7,
        "username": name,
        "session": key,
        "order_id": order_id,
        "action": action,
        "at": at,
    }


def focus(order_id, action, at, key="s1"):
    body = {"op": "focus", "user_id": 7, "username": "maria", "session": key}
    return {**body, "order_id": order_id, "action": action, "at": at}


# -- the board ------------------------------------------------------------------------------
def shown(board: PresenceBoard) -> list[dict]:
    return json.loads(board.frame().decode().split("data: ", 1)[1])["admins"]


def test_an_entry_is_shown_while_a_worker_claims_it_and_goes_without_renewal():
    board = PresenceBoard(ttl=3.0)
    board.apply(here("w1"), now=10.0)
    assert [a["username"] for a in shown(board)] == ["maria"]
    board.expire(12.9)
    assert shown(board), "renewed within the TTL"
    board.apply(here("w1"), now=12.9)
    board.expire(15.8)
    assert shown(board)
    board.expire(15.9)
    assert shown(board) == [], "no renewal for the TTL: gone (a worker that died)"


def test_a_gone_from_one_worker_keeps_the_entry_another_still_claims():
    board = PresenceBoard(ttl=3.0)
    board.apply(here("w1"), now=0)
    board.apply(here("w2"), now=0)
    board.apply({"op": "gone", "worker": "w1", "session": "s1"}, now=1)
    assert shown(board)
    board.apply({"op": "gone", "worker": "w2", "session": "s1"}, now=1)
    assert shown(board) == []


def test_a_focus_replaces_another_only_when_newer():
    board = PresenceBoard(ttl=3.0)
    board.apply(here("w1"), now=0)
    board.apply(focus(5, "cancelling", at=100.0), now=0)
    board.apply(here("w1", order_id=4, action="viewing", at=99.0), now=0.5)  # a stale renewal
    [entry] = shown(board)
    assert (entry["order_id"], entry["action"]) == (5, "cancelling")
    assert entry["since"].endswith("Z")
    board.apply(focus(None, None, at=101.0), now=1)
    [entry] = shown(board)
    assert (entry["order_id"], entry["action"], entry["since"]) == (None, None, None)


def test_a_focus_that_arrives_before_its_session_is_kept_until_the_session_comes():
    board = PresenceBoard(ttl=3.0)
    board.apply(focus(5, "viewing", at=100.0), now=0)
    assert shown(board) == [], "no worker holds a dashboard of that session yet"
    board.apply(here("w1"), now=1)
    assert shown(board)[0]["order_id"] == 5
    lone = PresenceBoard(ttl=3.0)
    lone.apply(focus(5, "viewing", at=100.0), now=0)
    lone.expire(3.1)
    assert lone.entries == {}, "an unclaimed focus is forgotten after the TTL"


def test_the_frame_lists_each_session_once_in_name_order_and_counts_changes():
    board = PresenceBoard(ttl=3.0)
    board.apply(here("w1", key="b", name="zoe"), now=0)
    board.apply(here("w1", key="a", name="Maria"), now=0)
    changes = board.changes
    board.apply(here("w1", key="a", name="Maria"), now=1)  # a renewal changes nothing shown
    assert board.changes == changes
    frame = board.frame().decode()
    assert frame.startswith("event: presence\ndata: ") and "\nid:" not in frame
    entries = shown(board)
    assert [e["username"] for e in entries] == ["Maria", "zoe"]
    assert set(entries[0]) == {"user_id", "username", "session", "order_id", "action", "since"}


def test_a_malformed_message_is_ignored_not_fatal():
    sent = []
    presence = Presence(CONFIG, sent.extend)
    presence.receive([{"op": "here", "session": "s1"}, {"op": "nonsense"}, here("w1")])
    assert presence.step(0.0, None) is not None
    assert [a["username"] for a in admins(_frame(presence))] == ["maria"]


def _frame(presence) -> dict:
    text = presence.frame().decode()
    return {"event": "presence", "data": text.split("data: ", 1)[1].strip()}


# -- one worker's announcements ---------------------------------------------------------------
def test_a_worker_announces_its_sessions_renews_them_and_says_goodbye_after_the_grace():
    sent = []
    presence = Presence(CONFIG, sent.extend)
    presence.step(0.0, {(7, "sid-1"): "maria"})
    assert [(m["op"], m["username"]) for m in sent] == [("here", "maria")]
    assert sent[0]["session"] == session_key(7, "sid-1") != "sid-1", "the id is never sent"
    sent.clear()
    presence.step(0.5, None)
    assert sent == [], "nothing to say between renewals"
    presence.step(1.0, None)
    assert [m["op"] for m in sent] == ["here"], "renewed every PRESENCE_RENEW_SECONDS"
    sent.clear()
    presence.step(1.1, {})  # its last stream closed
    presence.step(1.5, {(7, "sid-1"): "maria"})  # and came back within the grace
    assert [m["op"] for m in sent] == []
    presence.step(1.6, {})
    presence.step(2.0, None)
    assert [m["op"] for m in sent] == ["here"]
    presence.step(2.1, None)
    assert [m["op"] for m in sent] == ["here", "gone"]


def test_a_hello_makes_every_worker_renew_at_once():
    sent = []
    presence = Presence(CONFIG, sent.extend)
    presence.step(0.0, {(7, "sid-1"): "maria"})
    sent.clear()
    presence.receive([{"type": "presence", "op": "hello", "worker": "other"}])
    presence.step(0.1, None)
    assert [m["op"] for m in sent] == ["here"]


def test_every_message_has_a_constant_size():
    """A user, a session, an order, an action: no list, whatever the number of admins
    (docs/design.md §5b)."""
    sent = []
    presence = Presence(CONFIG, sent.extend)
    long_name = "é" * 64  # the longest username, all escaped in JSON
    presence.focus(7, long_name, "sid-1", 2**63 - 1, "cancelling")
    presence.step(0.0, {(user, f"sid-{user}"): long_name for user in range(500)})
    presence.step(5.0, {})
    presence.step(6.0, None)
    assert {m["op"] for m in sent} == {"focus", "here", "gone"}
    for sent_message in sent:
        assert len(encode([sent_message])) < 600
        assert not any(isinstance(v, list | dict) for v in sent_message.values())


# -- the routes and the stream -------------------------------------------------------------
@pytest.fixture
def presence_app(make_app):
    return make_app(**CONFIG)


@pytest.fixture
def two_admins(presence_app):
    shop = seed_shop(presence_app)
    with presence_app.app_context():
        make_user("admin", credits=0, username="maria")
        order_id = make_order(db.session.get(User, shop.alice.id)).id
        db.session.remove()
    boss = logged_in_client(presence_app, shop.admin.username)
    maria = logged_in_client(presence_app, "maria")
    return presence_app, boss, maria, order_id, shop


def dashboard(open_stream, client, query=""):
    stream = open_stream(client, STREAM + query)
    assert stream.response.status_code == 200
    stream.wait_for(message("initial"), timeout=5)
    return stream


def test_a_new_dashboard_gets_presence_right_after_its_first_frame(two_admins, open_stream):
    app, boss, _maria, _order_id, _shop = two_admins
    stream = open_stream(boss, STREAM)
    first = stream.wait_for(lambda f: f.get("data") is not None, timeout=5)
    assert data(first)["type"] == "initial"
    presence = stream.next_frame(timeout=5)
    assert presence["event"] == "presence"
    if not has_admin("boss")(presence):  # the hub had not yet heard its own announcement
        stream.wait_for(has_admin("boss"), timeout=5)


def test_dialogs_opened_and_closed_show_on_the_other_dashboards(two_admins, open_stream):
    app, boss, maria, order_id, _shop = two_admins
    watcher = dashboard(open_stream, boss)
    dashboard(open_stream, maria)
    watcher.wait_for(has_admin("maria", order_id=None), timeout=5)
    answer = maria.post("/admin/api/presence", json={"order_id": order_id, "action": "cancelling"})
    assert answer.get_json() == {"success": True, "order_id": order_id, "action": "cancelling"}
    watcher.wait_for(has_admin("maria", order_id=order_id, action="cancelling"), timeout=5)
    assert maria.post("/admin/api/presence", json={"order_id": None}).status_code == 200
    watcher.wait_for(has_admin("maria", order_id=None, action=None), timeout=5)


def test_the_details_request_of_the_page_script_means_viewing(two_admins, open_stream):
    app, boss, maria, order_id, _shop = two_admins
    watcher = dashboard(open_stream, boss)
    dashboard(open_stream, maria)
    watcher.wait_for(has_admin("maria"), timeout=5)
    url = f"/admin/api/order/{order_id}/details"
    assert maria.get(url).status_code == 200  # not the page's script: nothing announced
    assert maria.get(url, headers={"X-CSRFToken": csrf_token(maria)}).status_code == 200
    frame = watcher.wait_for(has_admin("maria", order_id=order_id), timeout=5)
    assert not any(
        f["event"] == "presence" and has_admin("maria", order_id=order_id)(f)
        for f in watcher.seen[:-1]
    ), "the first GET, without the page's header, announced nothing"
    assert has_admin("maria", action="viewing")(frame)


def test_the_stream_url_carries_the_dialog_the_page_has_open(two_admins, open_stream):
    app, boss, maria, order_id, _shop = two_admins
    watcher = dashboard(open_stream, boss)
    dashboard(open_stream, maria, f"?focus=cancelling:{order_id}")
    watcher.wait_for(has_admin("maria", order_id=order_id, action="cancelling"), timeout=5)


@pytest.mark.parametrize("focus", ["cancelling:x", "dancing:4", "cancelling:-1", ":", "7"])
def test_a_malformed_focus_never_fails_the_stream(two_admins, open_stream, focus):
    app, boss, _maria, _order_id, _shop = two_admins
    stream = dashboard(open_stream, boss, f"?focus={focus}")
    frame = stream.wait_for(has_admin("boss"), timeout=5)
    assert has_admin("boss", order_id=None)(frame)


def test_a_closed_dashboard_leaves_the_others_within_the_grace(two_admins, open_stream):
    app, boss, maria, _order_id, _shop = two_admins
    watcher = dashboard(open_stream, boss)
    hers = dashboard(open_stream, maria)
    watcher.wait_for(has_admin("maria"), timeout=5)
    hers.close()
    watcher.wait_for(lacks_admin("maria"), timeout=5)


@pytest.mark.parametrize(
    "body, status, words",
    [
        ("not json", 400, "send json"),
        ([1, 2], 400, "send json"),
        ({"action": "viewing"}, 400, "send json"),
        ({"order_id": "seven"}, 400, "order_id"),
        ({"order_id": True}, 400, "order_id"),
        ({"order_id": 0}, 400, "positive"),
        ({"order_id": 2**64}, 400, "positive"),
        ({"order_id": 999999}, 404, "not found"),
        ({"order_id": "12x", "action": "viewing"}, 400, "order_id"),
        ({"order_id": None, "action": "viewing"}, 422, "needs"),
        ({"order_id": "ORDER", "action": "dancing"}, 422, "action"),
    ],
)
@pytest.mark.one_database
def test_the_presence_route_refuses_bad_input(two_admins, body, status, words):
    app, _boss, maria, order_id, _shop = two_admins
    if isinstance(body, dict) and body.get("order_id") == "ORDER":
        body = {**body, "order_id": order_id}
    if isinstance(body, str):
        answer = maria.post("/admin/api/presence", data=body, content_type="application/json")
    else:
        answer = maria.post("/admin/api/presence", json=body)
    assert_json_error(answer, status, words)


def test_the_presence_route_is_for_admins(two_admins):
    app, _boss, _maria, order_id, shop = two_admins
    body = {"order_id": order_id, "action": "viewing"}
    assert_json_error(app.test_client().post("/admin/api/presence", json=body), 401)
    alice = logged_in_client(app, shop.alice.username)
    assert_json_error(alice.post("/admin/api/presence", json=body), 403)


def test_a_presence_change_costs_no_query_whatever_the_orders(make_app, open_stream):
    """O(admins), never O(orders): the hub applies a change and encodes its frame from
    memory; the frame's size does not depend on how many orders there are."""
    app = make_app(
        **{**CONFIG, "PRESENCE_COALESCE_SECONDS": 0.01},
        HUB_VERSION_POLL_SECONDS=60,
        SSE_REVALIDATE_SECONDS=60,
        SSE_LIFETIME_SECONDS=60,
    )
    shop = seed_shop(app)
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        for _ in range(40):
            make_order(alice)
        db.session.remove()
    stream = dashboard(open_stream, logged_in_client(app, shop.admin.username))
    stream.wait_for(has_admin("boss"), timeout=5)
    hub = app.extensions["realtime"]
    [(user_id, session_id)] = hub.registry.admin_sessions(-1)[1]
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        sizes = set()
        for order_id in range(1, 21):
            hub.presence.focus(user_id, "boss", session_id, order_id, "viewing")
            frame = stream.wait_for(has_admin("boss", order_id=order_id), timeout=5)
            sizes.add(len(frame["data"]) - len(str(order_id)))
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert statements == []
    assert len(sizes) <= 2  # the same entries; only the timestamps' digits may differ


# -- the heartbeat contract ------------------------------------------------------------------
def test_first_frames_tell_the_heartbeat_interval(app, admin_client, open_stream):
    stream = open_stream(admin_client, STREAM)
    initial = data(stream.wait_for(message("initial"), timeout=5))
    assert initial["heartbeat_ms"] == round(app.config["SSE_HEARTBEAT_SECONDS"] * 1000)
    reset = open_stream(admin_client, STREAM + "?last_event_id=999999")
    body = data(reset.wait_for(message("reset"), timeout=5))
    assert body["heartbeat_ms"] == initial["heartbeat_ms"]


def test_heartbeats_reach_a_page_script(admin_client, open_stream):
    """An EventSource never hands comments to the page: the heartbeat is an event too."""
    stream = open_stream(admin_client, STREAM)
    beat = stream.wait_for(lambda f: f.get("comment") == "heartbeat", timeout=5)
    assert beat["event"] == "heartbeat" and beat["data"] == "{}"
