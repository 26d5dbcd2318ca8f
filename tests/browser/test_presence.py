"""Presence and the dialogs that follow their order, in Chromium (docs/design.md §5a): two
admins on the dashboard see each other, who is viewing or cancelling which order, a dialog
names who changed its order and leaves a next step, a closed tab disappears, and presence
costs the page a request only on its admin's own actions (requests.json)."""

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import customer, place_order, post_json, row, wait_live
from tests.browser.seed import SECOND_ADMIN

pytestmark = pytest.mark.browser
REQUESTS = json.loads(
    (Path(__file__).resolve().parents[2] / "app/static/js/dashboard/requests.json").read_text()
)
PRESENCE = "POST " + urlsplit(REQUESTS["on_open_cancel_dialog"][0].split(" ", 1)[1]).path


def two_dashboards(dashboard, new_context):
    """``(admin's page, maria's page)``, each showing the other on the dashboard."""
    mine = dashboard()
    hers = dashboard(new_context(*SECOND_ADMIN))
    here(mine, "maria").wait_for()
    here(hers, "admin").wait_for()
    return mine, hers


def here(page, username):
    return page.locator("[data-presence-list] li", has_text=username)


def line(page, order_id):
    return row(page, order_id).locator("[data-presence-line]")


def fresh_order(live_server):
    return place_order(customer(live_server, "erin"))


def test_each_admin_sees_who_else_is_here_and_on_which_order(dashboard, new_context, live_server):
    order = fresh_order(live_server)
    mine, hers = two_dashboards(dashboard, new_context)
    row(mine, order["id"]).wait_for()
    row(hers, order["id"]).wait_for()
    assert hers.locator("[data-presence]").is_visible()
    assert here(mine, "admin").count() == 0, "a page never lists its own session"

    row(mine, order["id"]).locator('[data-action="details"]').click()
    line(hers, order["id"]).filter(has_text="admin is viewing").wait_for()
    mine.locator('#details-dialog [data-action="cancel"]').click()
    line(hers, order["id"]).filter(has_text="admin is cancelling").wait_for()

    # maria opens the same order: her dialog says who else is on it.
    row(hers, order["id"]).locator('[data-action="details"]').click()
    hers.locator("[data-details-presence]", has_text="admin is cancelling").wait_for()
    line(mine, order["id"]).filter(has_text="maria is viewing").wait_for()
    mine.locator("[data-cancel-presence]", has_text="maria is viewing").wait_for()

    mine.locator("#cancel-dialog .dialog-foot [data-close-dialog]").click()
    line(hers, order["id"]).filter(has_text="admin is viewing").wait_for()
    mine.locator("#details-dialog .dialog-head [data-close-dialog]").click()
    line(hers, order["id"]).wait_for(state="detached")
    hers.locator("[data-details-presence]").wait_for(state="hidden")


def test_the_losing_admin_keeps_the_reason_and_gets_a_next_step(
    dashboard, new_context, live_server
):
    order = fresh_order(live_server)
    mine, hers = two_dashboards(dashboard, new_context)
    tr = row(mine, order["id"])
    tr.locator('[data-action="cancel"]').click()
    mine.fill("#cancel-reason", "The customer called to cancel")
    line(hers, order["id"]).filter(has_text="admin is cancelling").wait_for()

    # maria advances it meanwhile: the open dialog says so, keeps the reason, and offers
    # to cancel from the status it now shows.
    row(hers, order["id"]).locator('[data-action="advance"]').click()
    note = mine.locator("[data-cancel-change]", has_text="maria moved it to Shipped")
    note.wait_for()
    assert mine.input_value("#cancel-reason") == "The customer called to cancel"
    submit = mine.locator("[data-cancel-submit]")
    assert submit.inner_text() == "Cancel anyway"
    submit.click()
    tr.locator(".badge", has_text="Cancelled").wait_for()
    [(status, cancelled, reason)] = live_server.query(
        "SELECT status, cancelled, cancellation_reason FROM orders WHERE id = ?", order["id"]
    )
    assert (status, bool(cancelled), reason) == ("Shipped", True, "The customer called to cancel")


def test_an_open_details_dialog_follows_its_order_and_names_who_moved_it(
    dashboard, new_context, live_server
):
    order = fresh_order(live_server)
    mine, hers = two_dashboards(dashboard, new_context)
    row(mine, order["id"]).locator('[data-action="details"]').click()
    dialog = mine.locator("#details-dialog")
    dialog.locator('[data-action="advance"]', has_text="Advance to Shipped").wait_for()
    line(hers, order["id"]).filter(has_text="admin is viewing").wait_for()
    mine.mouse.move(0, 0)  # not resting on the buttons: they may change
    result = post_json(hers, f"/admin/api/order/{order['id']}/status", {"status": "Shipped"})
    assert result["status"] == 200, result
    dialog.locator(
        "[data-details-change]",
        has_text="maria moved it to Shipped. Next: Advance to Out for Delivery?",
    ).wait_for()
    dialog.locator('[data-action="advance"]', has_text="Advance to Out for Delivery").wait_for()
    dialog.locator(".badge", has_text="Shipped").first.wait_for()


def test_a_cancel_that_lost_the_race_can_only_be_closed(dashboard, new_context, live_server):
    order = fresh_order(live_server)
    mine, hers = two_dashboards(dashboard, new_context)
    row(mine, order["id"]).locator('[data-action="cancel"]').click()
    mine.fill("#cancel-reason", "Out of stock")
    result = post_json(
        hers, f"/admin/api/order/{order['id']}/cancel", {"reason": "Customer asked"}
    )
    assert result["status"] == 200, result
    mine.locator("[data-cancel-change]", has_text="maria cancelled this order already").wait_for()
    assert mine.locator("[data-cancel-submit]").is_hidden()
    keep = mine.locator("#cancel-dialog .dialog-foot [data-close-dialog]")
    assert keep.inner_text() == "Close"
    keep.click()
    mine.locator("#cancel-dialog").wait_for(state="hidden")


def test_a_closed_tab_leaves_the_other_dashboards(dashboard, new_context, live_server):
    order = fresh_order(live_server)
    mine, hers = two_dashboards(dashboard, new_context)
    row(hers, order["id"]).locator('[data-action="details"]').click()
    line(mine, order["id"]).filter(has_text="maria is viewing").wait_for()
    hers.close()
    here(mine, "maria").wait_for(state="detached", timeout=10000)
    line(mine, order["id"]).wait_for(state="detached", timeout=10000)
    assert mine.locator("[data-presence]").is_hidden()


def test_presence_costs_a_request_only_on_the_admins_own_actions(
    dashboard, new_context, live_server
):
    order = fresh_order(live_server)
    mine, hers = two_dashboards(dashboard, new_context)
    sent: list[str] = []
    stream_path = urlsplit(REQUESTS["stream"].split(" ", 1)[1]).path
    mine.on(
        "request",
        lambda r: (
            urlsplit(r.url).path != stream_path
            and sent.append(f"{r.method} {urlsplit(r.url).path}")
        ),
    )
    # Another admin moving around costs this page nothing.
    for action in ("viewing", "cancelling", None):
        body = {"order_id": order["id"] if action else None, "action": action}
        assert post_json(hers, "/admin/api/presence", body)["status"] == 200
    line(mine, order["id"]).wait_for(state="detached")
    assert sent == []

    details = f"GET /admin/api/order/{order['id']}/details"
    row(mine, order["id"]).locator('[data-action="details"]').click()
    line(hers, order["id"]).filter(has_text="admin is viewing").wait_for()
    assert sent == [details], "opening the details tells presence through its own request"
    mine.locator('#details-dialog [data-action="cancel"]').click()
    line(hers, order["id"]).filter(has_text="admin is cancelling").wait_for()
    mine.locator("#cancel-dialog .dialog-foot [data-close-dialog]").click()
    line(hers, order["id"]).filter(has_text="admin is viewing").wait_for()
    mine.locator("#details-dialog .dialog-head [data-close-dialog]").click()
    line(hers, order["id"]).wait_for(state="detached")
    assert sent == [details, PRESENCE, PRESENCE, PRESENCE]
    assert REQUESTS["on_open_details"] == [details.replace(str(order["id"]), "{id}")]
    assert REQUESTS["on_close_dialog"] == [PRESENCE]
    wait_live(mine)
