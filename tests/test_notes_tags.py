"""Internal notes and tags on orders: the routes' rules, bad input with nothing written,
the live events on the dashboards, and nothing of it on the customer's stream."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import OrderNote
from tests.helpers import assert_json_error, data, logged_in_client, message, order_event
from tests.security_helpers import snapshot

ADMIN_STREAM = "/admin/orders/stream"


def note(client, order_id, text="Customer called: leave at the door"):
    return client.post(f"/admin/api/order/{order_id}/notes", json={"text": text})


def tag(client, order_id, add=(), remove=()):
    body = {"add": list(add), "remove": list(remove)}
    return client.post(f"/admin/api/order/{order_id}/tags", json=body)


def test_a_note_is_written_listed_and_in_the_history(admin_client, placed):
    response = note(admin_client, placed["id"])
    assert response.status_code == 201
    body = response.get_json()
    assert body["note"]["text"] == "Customer called: leave at the door"
    assert body["note"]["author"] == "boss" and body["note"]["edited"] is False
    assert body["activity"]["kind"] == "note"
    assert body["activity"]["ref_id"] == body["note"]["id"]
    details = admin_client.get(f"/admin/api/order/{placed['id']}/details").get_json()
    assert [n["text"] for n in details["notes"]] == ["Customer called: leave at the door"]
    assert [e["kind"] for e in details["history"]] == ["created", "note"]
    listed = admin_client.get(f"/admin/api/order/{placed['id']}/notes").get_json()
    assert listed["notes"] == details["notes"]


@pytest.mark.parametrize(
    "body, status",
    [
        (None, 400),
        ([], 400),
        ({}, 400),
        ({"text": 5}, 400),
        ({"text": "   "}, 422),
        ({"text": "x" * 1001}, 422),
    ],
)
@pytest.mark.one_database
def test_bad_notes_are_refused_with_nothing_written(app, admin_client, placed, body, status):
    before = snapshot(app)
    response = admin_client.post(f"/admin/api/order/{placed['id']}/notes", json=body)
    assert_json_error(response, status)
    assert snapshot(app) == before


def test_notes_on_an_unknown_order_are_404(admin_client, shop):
    assert_json_error(note(admin_client, 999), 404)


def test_only_the_author_edits_or_deletes_a_note_within_the_window(app, admin_client, placed):
    note_id = note(admin_client, placed["id"]).get_json()["note"]["id"]
    url = f"/admin/api/order/{placed['id']}/notes/{note_id}"
    edited = admin_client.patch(url, json={"text": "Leave with the neighbour"})
    assert edited.status_code == 200
    assert edited.get_json()["note"]["text"] == "Leave with the neighbour"
    assert edited.get_json()["note"]["edited"] is True
    assert edited.get_json()["activity"]["kind"] == "note_edited"

    with app.app_context():
        from tests.factories import make_user

        make_user("admin", username="ann")
    ann = logged_in_client(app, "ann")
    before = snapshot(app)
    assert_json_error(ann.patch(url, json={"text": "mine now"}), 403)
    assert_json_error(ann.delete(url), 403)
    assert snapshot(app) == before

    with app.app_context():  # the window passes
        row = db.session.get(OrderNote, note_id)
        row.created_at -= timedelta(seconds=app.config["NOTE_EDIT_SECONDS"] + 1)
        db.session.commit()
    before = snapshot(app)
    assert_json_error(admin_client.patch(url, json={"text": "late"}), 409, "too late")
    assert_json_error(admin_client.delete(url), 409, "too late")
    assert snapshot(app) == before


def test_a_deleted_note_leaves_the_list_and_cannot_be_deleted_twice(admin_client, placed):
    note_id = note(admin_client, placed["id"]).get_json()["note"]["id"]
    url = f"/admin/api/order/{placed['id']}/notes/{note_id}"
    deleted = admin_client.delete(url)
    assert deleted.status_code == 200
    assert deleted.get_json()["activity"]["kind"] == "note_deleted"
    assert admin_client.get(f"/admin/api/order/{placed['id']}/notes").get_json()["notes"] == []
    assert_json_error(admin_client.delete(url), 404)
    assert_json_error(admin_client.patch(url, json={"text": "again"}), 404)
    # Another order's note id is 404 too.
    assert_json_error(admin_client.delete(f"/admin/api/order/999/notes/{note_id}"), 404)


def test_notes_and_tags_reach_every_dashboard_but_never_the_customer(
    app, open_stream, admin_client, customer_client, placed
):
    other_admin = logged_in_client(app, "boss")
    dashboard = open_stream(other_admin, ADMIN_STREAM)
    mine = open_stream(customer_client, f"/orders/{placed['number']}/stream")
    mine.wait_for(message("initial"))
    note(admin_client, placed["id"], "Fragile: glass jar")
    frame = dashboard.wait_for(order_event("note"))
    body = data(frame)
    assert body["activity"]["note"] == "Fragile: glass jar"
    assert body["actor"] == "boss" and body["order"]["id"] == placed["id"]
    tag(admin_client, placed["id"], add=["VIP", "gift wrap"])
    tagged = data(dashboard.wait_for(order_event("tagged")))
    assert tagged["order"]["tags"] == ["gift wrap", "vip"]
    assert tagged["activity"]["note"] == "+vip +gift wrap"
    # A status move after them reaches the customer; nothing before it did.
    admin_client.post(f"/admin/api/order/{placed['id']}/status", json={"status": "Shipped"})
    update = mine.wait_for(message("update"))
    assert data(update)["status"] == "Shipped"
    seen = [data(f) for f in mine.seen if f.get("data") and f["event"] == "message"]
    assert [b.get("activity", {}).get("kind") for b in seen] == [None, "status"]
    assert "Fragile" not in str(seen) and "vip" not in str(seen)


def test_tags_are_normalised_added_and_removed(admin_client, placed):
    response = tag(admin_client, placed["id"], add=["  Rush  Order ", "VIP"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["changed"] is True and body["tags"] == ["rush order", "vip"]
    assert body["order"]["tags"] == ["rush order", "vip"]
    again = tag(admin_client, placed["id"], add=["vip"]).get_json()
    assert again["changed"] is False
    removed = tag(admin_client, placed["id"], remove=["rush order"]).get_json()
    assert removed["tags"] == ["vip"]


@pytest.mark.parametrize(
    "body, status",
    [
        (None, 400),
        ({"add": "vip"}, 400),
        ({"add": [1]}, 400),
        ({}, 422),
        ({"add": [""]}, 422),
        ({"add": ["x" * 33]}, 422),
        ({"add": ["<b>"]}, 422),
        ({"add": ["vip"], "remove": ["VIP"]}, 422),
        ({"add": [f"t{i}" for i in range(21)]}, 422),
    ],
)
@pytest.mark.one_database
def test_bad_tags_are_refused_with_nothing_written(app, admin_client, placed, body, status):
    before = snapshot(app)
    response = admin_client.post(f"/admin/api/order/{placed['id']}/tags", json=body)
    assert_json_error(response, status)
    assert snapshot(app) == before


def test_an_order_holds_at_most_20_tags(app, admin_client, placed):
    assert tag(admin_client, placed["id"], add=[f"t{i}" for i in range(20)]).status_code == 200
    before = snapshot(app)
    assert_json_error(tag(admin_client, placed["id"], add=["one-more"]), 422, "at most 20")
    assert snapshot(app) == before


def test_tag_filters_the_table_the_csv_and_select_all(app, admin_client, shop):
    from app.models import Product, User
    from tests.factories import make_order

    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        product = db.session.get(Product, shop.products[0].id)
        ids = [make_order(alice, [(product, 1)]).id for _ in range(3)]
    tag(admin_client, ids[0], add=["vip"])
    tag(admin_client, ids[2], add=["vip", "gift"])
    page = admin_client.get("/admin/manage_orders?tag=VIP").get_data(as_text=True)
    assert page.count('data-order-id="') == 2
    found = admin_client.get("/admin/api/orders/ids?tag=vip").get_json()
    assert found["ids"] == [ids[2], ids[0]] and found["total"] == 2
    csv_text = admin_client.get("/admin/orders.csv?tag=gift").get_data(as_text=True)
    assert csv_text.count("\r\n") == 2 and "gift vip" in csv_text
    assert_json_error(admin_client.get("/admin/api/orders/ids?tag=%3Cb%3E"), 400, "tag")
    assert admin_client.get("/admin/manage_orders?tag=%3Cb%3E").status_code == 200  # lenient


def test_bulk_tag_adds_and_removes_on_each_order(app, admin_client, shop):
    from app.models import Product, User
    from tests.factories import make_order

    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        product = db.session.get(Product, shop.products[0].id)
        ids = [make_order(alice, [(product, 1)]).id for _ in range(3)]
    body = {"ids": [*ids, 999], "action": "tag", "add": ["rush"]}
    response = admin_client.post("/admin/api/orders/bulk", json=body)
    result = response.get_json()
    assert (result["succeeded"], result["failed"]) == (3, 1)
    assert all(r["order"]["tags"] == ["rush"] for r in result["results"] if r["ok"])
    removed = admin_client.post(
        "/admin/api/orders/bulk", json={"ids": ids, "action": "tag", "remove": ["rush"]}
    ).get_json()
    assert all(r["order"]["tags"] == [] for r in removed["results"])
    before = snapshot(app)
    bad = {"ids": ids, "action": "tag", "add": ["ok", "<nope>"]}
    assert_json_error(admin_client.post("/admin/api/orders/bulk", json=bad), 422)
    assert snapshot(app) == before


def test_a_note_or_tag_after_a_move_leaves_its_undo_possible(admin_client, placed):
    moved = admin_client.post(
        f"/admin/api/order/{placed['id']}/status", json={"status": "Shipped"}
    )
    activity_id = moved.get_json()["activity"]["id"]
    note(admin_client, placed["id"])
    tag(admin_client, placed["id"], add=["late"])
    undo = admin_client.post(
        f"/admin/api/order/{placed['id']}/undo", json={"activity_id": activity_id}
    )
    assert undo.status_code == 200
    assert undo.get_json()["order"]["status"] == "Pending"


def test_the_customer_never_sees_notes_or_tags_on_their_page(
    app, admin_client, customer_client, placed
):
    note(admin_client, placed["id"], "Secret: difficult customer")
    tag(admin_client, placed["id"], add=["watchlist"])
    page = customer_client.get(f"/orders/{placed['number']}").get_data(as_text=True)
    assert "Secret" not in page and "watchlist" not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OrderNote.id))) == 1


def test_the_search_finds_orders_by_tag(admin_client, placed):
    tag(admin_client, placed["id"], add=["Gift Wrap"])
    found = admin_client.get("/admin/api/orders/ids?q=WRAP").get_json()
    assert found["ids"] == [placed["id"]]
    assert admin_client.get("/admin/api/orders/ids?q=nothing-like-it").get_json()["ids"] == []
