"""The shop owner's tools in Chromium: a note, a tag and a tracking number made in one
admin's dashboard reach another admin's open dashboard (and the tracking number the
customer's order page) within a second, with no request of those pages; a saved view's count
follows arrivals; the storefront's stock follows a checkout; packing slips print to PDF at
one order per page. Screenshots of the catalogue and a customer's page go to artifacts/."""

import re

import pytest

from tests.browser.conftest import (
    customer,
    customer_page,
    other_admin,
    place_order,
    post_json,
    row,
)
from tests.browser.seed import SECOND_ADMIN
from tests.browser.test_push import Requests

pytestmark = pytest.mark.browser
WITHIN_1S = 1000  # ms: the target for a change to show on every open page


class PageRequests(Requests):
    """A customer's page: its own stream is ``/orders/<n>/stream``, not the dashboard's."""

    def __init__(self, page, stream_path: str):
        self.stream_path = stream_path
        super().__init__(page)

    def _sent(self, request):
        if request.url.split("?")[0].endswith(self.stream_path):
            self.streams += 1
        else:
            self.sent.append(self._name(request))


def open_details(page, order_id):
    row(page, order_id).locator('[data-action="details"]').click()
    page.locator("#details-dialog .details-tools").wait_for()


def test_notes_tags_and_tracking_reach_every_page_within_a_second(
    dashboard, new_context, live_server
):
    order = place_order(customer(live_server, "judy"), "home delivery", "7 Quay Road")
    watcher = dashboard()  # admin's open dashboard
    row(watcher, order["id"]).wait_for(timeout=3000)
    open_details(watcher, order["id"])  # its own click: one details request, before counting
    shop = customer_page(new_context, "judy", path=f"/orders/{order['order_number']}")
    shop.wait_for_selector('[data-live-indicator][data-state="live"]')
    watcher_requests = Requests(watcher)
    shop_requests = PageRequests(shop, f"/orders/{order['order_number']}/stream")

    maria = dashboard(new_context(*SECOND_ADMIN))
    row(maria, order["id"]).wait_for(timeout=3000)
    open_details(maria, order["id"])
    tools = maria.locator("#details-dialog .details-tools")

    tools.locator('input[aria-label="New tag"]').fill("Gift Wrap")
    tools.locator("text=Add tag").click()
    tools.locator(".tag", has_text="gift wrap").wait_for()
    row(watcher, order["id"]).locator("[data-row-tags] .tag", has_text="gift wrap").wait_for(
        timeout=WITHIN_1S
    )
    watcher.locator("#details-dialog .details-tools .tag", has_text="gift wrap").wait_for(
        timeout=WITHIN_1S
    )

    tools.locator('textarea[aria-label="New note"]').fill("Ring twice: the bell is broken")
    tools.locator("text=Add note").click()
    tools.locator("[data-notes] .note-item").wait_for()
    watcher.locator("[data-notes] .note-item", has_text="Ring twice").wait_for(timeout=WITHIN_1S)
    watcher.locator("[data-activity-list]", has_text="Ring twice").wait_for(timeout=WITHIN_1S)

    tools.locator('select[aria-label="Carrier"]').select_option("DHL")
    tools.locator('input[aria-label="Tracking number"]').fill("jd 0146 0000 1234")
    tools.locator("button", has_text="Ship").click()
    maria.locator("#details-dialog .badge", has_text="Shipped").wait_for()
    shop.locator("[data-tracking-row]:not([hidden])", has_text="JD014600001234").wait_for(
        timeout=WITHIN_1S
    )
    watcher.locator("#details-dialog", has_text="JD014600001234").wait_for(timeout=WITHIN_1S)
    shop.locator("[data-status-badge] .badge", has_text="Shipped").wait_for(timeout=WITHIN_1S)

    # Nothing internal reached the customer's page, and neither page asked for anything.
    assert "Ring twice" not in shop.content() and "gift wrap" not in shop.content()
    assert watcher_requests.sent == [], watcher_requests.sent
    assert shop_requests.sent == [], shop_requests.sent
    assert watcher_requests.streams == 0 and shop_requests.streams == 0


def test_a_saved_views_count_follows_arrivals(dashboard, new_context, live_server):
    page = dashboard()
    page.goto("/admin/manage_orders?status=Pending")
    page.wait_for_selector('[data-live-indicator][data-state="live"]')
    page.click("[data-save-view]")
    page.fill("#save-view-name", "Waiting to ship")
    page.click("[data-save-view-submit]")
    chip = page.locator("[data-saved-view]", has_text="Waiting to ship")
    chip.wait_for()
    requests = Requests(page)
    pending = live_server.query(
        "SELECT count(*) FROM orders WHERE status = 'Pending' AND cancelled = 0"
    )[0][0]
    count = chip.locator("[data-view-count]")
    assert count.inner_text() == f"{pending:,}"
    shop = customer(live_server, "ivan")
    for n in (1, 2):
        place_order(shop)
        page.wait_for_function(
            "([sel, want]) => document.querySelector(sel).textContent === want",
            arg=["[data-saved-view] [data-view-count]", f"{pending + n:,}"],
            timeout=3000,
        )
    # The browser's own favicon fetch after the navigation is not the page's.
    own = [r for r in requests.sent if not r.startswith("GET /static/")]
    assert own == [], own


def test_the_storefront_shows_stock_live(new_context, live_server):
    body = {"stock": 3, "active": True}
    result = post_json(other_admin(live_server), "/admin/api/products/2", body, method="PATCH")
    assert result["status"] == 200, result
    browsing = customer_page(new_context, "olivia", path="/")
    card = browsing.locator('[data-product-id="2"]')
    card.locator("[data-stock-label]", has_text="Only 3 left").wait_for()
    buyer = customer(live_server, "peggy")
    for left, label in ((1, "Only 1 left"), (0, "Out of stock")):
        body = {
            "items": [{"product_id": 2, "quantity": 2 if left == 1 else 1}],
            "delivery_method": "pickup",
        }
        assert post_json(buyer, "/api/orders", body)["status"] == 201
        card.locator("[data-stock-label]", has_text=label).wait_for(timeout=WITHIN_1S)
    assert card.locator("[data-add-button]").is_disabled()
    refused = post_json(
        buyer,
        "/api/orders",
        {"items": [{"product_id": 2, "quantity": 1}], "delivery_method": "pickup"},
    )
    assert refused["status"] == 409 and "out of stock" in refused["body"]["error"]


def test_packing_slips_print_one_order_per_page(new_context, live_server, artifacts):
    shop = customer(live_server, "rupert")
    orders = [place_order(shop, "home delivery", f"{n} Long Street") for n in (1, 2, 3)]
    admin = new_context(*SECOND_ADMIN).new_page()
    ids = ",".join(str(o["id"]) for o in orders)
    admin.goto(f"/admin/orders/packing-slips?ids={ids}")
    assert admin.locator(".slip").count() == 3
    pdf = admin.pdf(format="A4", print_background=True)
    (artifacts / "packing-slips.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 3, f"{pages} pages for 3 orders"
    one = admin.context.new_page()
    one.goto(f"/admin/orders/{orders[0]['id']}/packing-slip")
    pdf = one.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1


def test_screenshots_of_the_catalogue_and_a_customer(new_context, live_server, artifacts):
    shop = customer(live_server, "trent")
    orders = [place_order(shop, "home delivery", "3 Orchard Row", quantity=q) for q in (4, 2, 1)]
    maria = other_admin(live_server)
    refund = {"credits": 5, "reason": "One loaf arrived squashed"}
    assert post_json(maria, f"/admin/api/order/{orders[0]['id']}/refund", refund)["status"] == 200
    cancel = {"reason": "Asked to cancel by phone"}
    assert post_json(maria, f"/admin/api/order/{orders[1]['id']}/cancel", cancel)["status"] == 200
    page = new_context(*SECOND_ADMIN).new_page()
    page.goto("/admin/products")
    page.screenshot(path=str(artifacts / "catalogue.png"))
    page.goto("/admin/customers/trent")
    page.locator("text=Balance history").wait_for()
    assert page.locator("text=+5 cr").count() == 1  # the refund, with the balance after it
    page.screenshot(path=str(artifacts / "customer.png"))
    shop = customer_page(new_context, "sybil", path="/")
    shop.locator("[data-stock-label]:not([hidden])").first.wait_for()
    shop.screenshot(path=str(artifacts / "storefront-stock.png"))
