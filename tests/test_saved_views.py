"""Saved views: private or shared, checked like the API's arguments, with counts that the
hub pushes to every dashboard as orders arrive (event: views)."""

import pytest

from app.extensions import db
from app.models import User
from tests.factories import make_order, make_user
from tests.helpers import assert_json_error, data, logged_in_client, message
from tests.security_helpers import snapshot

URL = "/admin/api/views"


def save(client, name="Pending VIP", query="status=Pending&tag=vip", shared=False):
    return client.post(URL, json={"name": name, "query": query, "shared": shared})


@pytest.fixture
def ann(app, shop):
    with app.app_context():
        make_user("admin", username="ann")
    return logged_in_client(app, "ann")


def test_a_view_is_saved_normalised_and_listed_with_its_count(admin_client, placed):
    response = save(admin_client, query="?tag=VIP&status=Pending&page=3&per_page=50")
    assert response.status_code == 201
    view = response.get_json()["view"]
    assert view["query"] == "status=Pending&tag=vip"  # page and per_page are not a view
    assert (view["mine"], view["shared"], view["owner"], view["count"]) == (True, False, "boss", 0)
    admin_client.post(f"/admin/api/order/{placed['id']}/tags", json={"add": ["vip"]})
    [listed] = admin_client.get(URL).get_json()["views"]
    assert listed["id"] == view["id"] and listed["count"] == 1
    page = admin_client.get("/admin/manage_orders").get_data(as_text=True)
    assert "Pending VIP" in page and f'data-saved-view="{view["id"]}"' in page


def test_a_query_object_is_accepted_too(admin_client, shop):
    response = admin_client.post(URL, json={"name": "Today", "query": {"range": "today"}})
    assert response.get_json()["view"]["query"] == "range=today"


def test_private_views_stay_private_and_shared_ones_are_for_everyone(admin_client, ann, shop):
    private = save(admin_client, "Mine").get_json()["view"]
    shared = save(admin_client, "Team", "status=Shipped", shared=True).get_json()["view"]
    names = [v["name"] for v in ann.get(URL).get_json()["views"]]
    assert names == ["Team"]
    assert_json_error(ann.delete(f"{URL}/{private['id']}"), 404)
    assert_json_error(ann.delete(f"{URL}/{shared['id']}"), 403)
    assert admin_client.delete(f"{URL}/{shared['id']}").get_json() == {
        "success": True,
        "id": shared["id"],
    }
    assert ann.get(URL).get_json()["views"] == []


@pytest.mark.parametrize(
    "body, status",
    [
        (None, 400),
        ({"name": 5, "query": ""}, 400),
        ({"name": "x", "query": 5}, 400),
        ({"name": "x", "query": {"status": 1}}, 400),
        ({"name": "x", "query": "", "shared": "yes"}, 400),
        ({"name": "x", "query": "status=Lost"}, 400),
        ({"name": "x", "query": "from=2026-13-45"}, 400),
        ({"name": "x", "query": "tag=%3Cb%3E"}, 400),
        ({"name": "   ", "query": ""}, 422),
        ({"name": "x" * 61, "query": ""}, 422),
    ],
)
@pytest.mark.one_database
def test_bad_views_are_refused_with_nothing_written(app, admin_client, shop, body, status):
    before = snapshot(app)
    assert_json_error(admin_client.post(URL, json=body), status)
    assert snapshot(app) == before


def test_one_name_per_admin_and_at_most_20(app, admin_client, shop):
    assert save(admin_client, "Same").status_code == 201
    assert_json_error(save(admin_client, "Same"), 409, "already")
    for i in range(19):
        assert save(admin_client, f"View {i}").status_code == 201
    assert_json_error(save(admin_client, "One more"), 422, "at most 20")


def test_deleting_an_unknown_view_is_404(admin_client, shop):
    assert_json_error(admin_client.delete(f"{URL}/999"), 404)


def test_counts_follow_arrivals_on_every_dashboard(app, open_stream, admin_client, shop):
    view_id = save(admin_client, "All pending", "status=Pending").get_json()["view"]["id"]
    stream = open_stream(admin_client, "/admin/orders/stream")
    initial = data(stream.wait_for(message("initial")))
    assert initial["view_counts"] == {str(view_id): 0}
    with app.app_context():
        make_order(db.session.get(User, shop.alice.id))
    frame = stream.wait_for(lambda f: f["event"] == "views")
    assert data(frame) == {"counts": {str(view_id): 1}}
