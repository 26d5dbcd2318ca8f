"""The dashboard on a phone (390 px), a tablet (820 px) and a desktop (1440 px) in Chromium: no
sideways scrolling, every row action (and the bulk checkbox) visible and clickable, the
details dialog inside a phone's screen, the Live pill covering nothing, the toasts out of
the row actions' way. Screenshots of each go to artifacts/."""

import pytest

from tests.browser.conftest import SIZES, customer, place_order, sized_dashboard

pytestmark = pytest.mark.browser

OVERFLOW_JS = """() => {
    const doc = document.documentElement;
    const wide = [...document.querySelectorAll('.table-scroll, .dialog[open] .dialog-body')]
        .filter((n) => n.scrollWidth > n.clientWidth + 1).map((n) => n.className);
    return {page: doc.scrollWidth - window.innerWidth, wide};
}"""


@pytest.mark.parametrize("size", list(SIZES))
def test_every_row_action_is_visible_and_clickable(new_context, live_server, artifacts, size):
    # Rows with every set of buttons: Pending (Details, Advance, Cancel) on top.
    place_order(customer(live_server, "alice"))
    context, page = sized_dashboard(new_context, size)
    assert page.evaluate(OVERFLOW_JS) == {"page": 0, "wide": []}
    page.screenshot(path=str(artifacts / f"layout-{size}.png"), full_page=True)
    rows = page.locator("[data-orders-body] tr")
    assert rows.count() >= 5
    checked = 0
    for i in range(5):
        tr = rows.nth(i)
        controls = tr.locator("[data-action], [data-select]")
        for j in range(controls.count()):
            control = controls.nth(j)
            control.scroll_into_view_if_needed()
            box = control.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size][0], (
                size,
                control.evaluate("b => b.outerHTML"),
                box,
            )
            # Visible, enabled, not covered by anything (toasts, the pill, a header).
            control.click(trial=True, timeout=3000)
            checked += 1
    assert checked >= 15
    # Clicking for real works: the first row's Details opens the dialog.
    rows.first.locator('[data-action="details"]').click()
    dialog = page.locator("#details-dialog")
    dialog.locator("[data-history] li").first.wait_for()
    assert page.evaluate(OVERFLOW_JS) == {"page": 0, "wide": []}
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size][0]
    for name in ("[data-details-actions] [data-close-dialog]", '[data-action="cancel"]'):
        dialog.locator(name).click(trial=True)
    page.screenshot(path=str(artifacts / f"layout-{size}-details.png"))


@pytest.mark.parametrize("size", list(SIZES))
def test_the_live_pill_and_the_toasts_cover_no_row_action(new_context, live_server, size):
    context, page = sized_dashboard(new_context, size)
    pill = page.locator("[data-live-indicator]")
    # In the header's flow, not floating over the page.
    assert pill.evaluate("n => getComputedStyle(n).position") == "static"
    assert pill.evaluate("n => !!n.closest('.site-header')")
    page.evaluate(
        """async () => {
            const { toast } = await import('/static/js/lib/toasts.js');
            for (let i = 0; i < 6; i++) toast('Toast ' + i, {type: 'new', timeout: 0});
        }"""
    )
    region = page.locator("#toasts").bounding_box()
    width, height = SIZES[size]
    assert region["height"] <= 0.45 * height  # capped: never most of the screen
    if size == "desktop":
        # Bottom centre, over the table's text columns, away from its row actions.
        page.locator("[data-orders-body] tr").nth(3).scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, 200)")
        hits = page.evaluate(
            """(r) => [...document.querySelectorAll(
                    '[data-orders-body] [data-action], [data-orders-body] [data-select]')]
                .map((b) => b.getBoundingClientRect())
                .filter((b) => b.right > r.x && b.left < r.x + r.width &&
                               b.bottom > r.y && b.top < r.y + r.height).length""",
            page.locator("#toasts").bounding_box(),
        )
        assert hits == 0
    else:
        assert region["y"] < 60  # on top, on phones and tablets
    assert page.locator("#toasts .toast").count() == 4  # at most four at once
    page.click("[data-dismiss-toasts]")
    assert page.locator("#toasts .toast").count() == 0
