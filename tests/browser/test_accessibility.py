"""Accessibility of the admin dashboard, the storefront and the order page, in
a real browser: WCAG 2.x text contrast measured from computed styles, keyboard reach and
focus indicators on the dashboard, and the stat cards inside a polite live region."""

import json

import pytest

from tests.browser.conftest import customer, customer_page, place_order, use_scheme, wait_live

pytestmark = pytest.mark.browser

# Installs ``window.__contrast(root)``: every visible element under ``root`` with a
# non-empty text node of its own, its text colour against the background it is painted
# on, and the WCAG 2.x contrast ratio. The background is composed from the root down
# (an element's own background, then each ancestor's, until an opaque one; translucent
# colours and `opacity` are blended over what lies beneath). Text over a background
# image or gradient cannot be measured this way: those elements are skipped, and listed.
# Disabled controls are "inactive user interface components", exempt from 1.4.3: listed.
CONTRAST_JS = r"""() => {
  const ctx = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
  function rgba(css) {
    const m = css.match(
      /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/);
    if (m) {
      let a = m[4] === undefined ? 1 : parseFloat(m[4]);
      if (m[4] && m[4].endsWith('%')) a /= 100;
      return [+m[1], +m[2], +m[3], a];
    }
    // Any other syntax (color(), oklab()…): let the canvas convert it.
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  }
  const over = (top, alpha, under) => top.map((c, i) => c * alpha + under[i] * (1 - alpha));
  function luminance([r, g, b]) {
    const lin = (c) => {
      c /= 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  }
  function ratio(a, b) {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }
  const hex = (c) => '#' + c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
  function selector(el) {
    const parts = [];
    for (let n = el; n && n.nodeType === 1 && parts.length < 4; n = n.parentElement) {
      let s = n.tagName.toLowerCase();
      if (n.id) { parts.unshift(s + '#' + n.id); break; }
      const cls = [...n.classList].filter((c) => !c.startsWith('js-')).slice(0, 3);
      if (cls.length) s += '.' + cls.join('.');
      for (const a of ['data-action', 'data-state', 'data-label', 'data-stat']) {
        if (n.hasAttribute(a)) s += `[${a}="${n.getAttribute(a)}"]`;
      }
      parts.unshift(s);
    }
    return parts.join(' > ');
  }
  function ownText(el) {
    let text = '';
    for (const n of el.childNodes) if (n.nodeType === 3) text += n.textContent;
    return text.trim();
  }
  const SKIP_TAGS = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'OPTION', 'TITLE']);

  window.__contrast = function (root) {
    root = root || document.body;
    const result = {checked: 0, offenders: [], skipped: [], inactive: [], samples: []};
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (SKIP_TAGS.has(el.tagName)) continue;
      const text = ownText(el);
      if (!text) continue;
      if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
      const box = el.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1) continue;  // visually-hidden (screen-reader) text
      const style = getComputedStyle(el);
      if (style.clip === 'rect(0px, 0px, 0px, 0px)') continue;
      const sel = selector(el);
      if (el.matches(':disabled') || el.closest('[aria-disabled="true"]')) {
        result.inactive.push(sel);
        continue;
      }
      // The chain of elements painted beneath the text, up to the first opaque background.
      const chain = [];
      let image = null;
      for (let n = el; n; n = n.parentElement) {
        const s = getComputedStyle(n);
        if (s.backgroundImage !== 'none') { image = n; break; }
        chain.push(n);
        if (rgba(s.backgroundColor)[3] >= 1 && parseFloat(s.opacity) >= 1) break;
      }
      if (image) {
        result.skipped.push({selector: sel, text: text.slice(0, 40),
                             reason: 'background image/gradient on ' + selector(image)});
        continue;
      }
      const opacity = (n) => {
        let o = 1;
        for (; n; n = n.parentElement) o *= parseFloat(getComputedStyle(n).opacity);
        return o;
      };
      let bg = [255, 255, 255];  // the canvas
      for (const n of chain.reverse()) {
        const c = rgba(getComputedStyle(n).backgroundColor);
        bg = over(c.slice(0, 3), c[3] * opacity(n), bg);
      }
      const fg = rgba(style.color);
      const fgBlended = over(fg.slice(0, 3), fg[3] * opacity(el), bg);
      const size = parseFloat(style.fontSize);
      const bold = parseInt(style.fontWeight, 10) >= 700;
      const large = size >= 24 || (size >= 18.66 && bold);
      const need = large ? 3 : 4.5;
      const r = ratio(fgBlended, bg);
      result.checked++;
      const row = {selector: sel, text: text.slice(0, 40), fg: hex(fgBlended), bg: hex(bg),
                   ratio: Math.round(r * 100) / 100, need, size, weight: style.fontWeight};
      if (r < need) result.offenders.push(row);
      if (result.samples.length < 400) result.samples.push(row);
    }
    return result;
  };
}"""


def measure(page, root: str | None = None) -> dict:
    page.evaluate(CONTRAST_JS)
    return page.evaluate("(sel) => window.__contrast(sel && document.querySelector(sel))", root)


def assert_contrast(page, name: str, artifacts, root: str | None = None, minimum: int = 10):
    """Measure ``page`` (or ``root`` within it) and fail listing every offender."""
    result = measure(page, root)
    (artifacts / f"contrast-{name}.json").write_text(json.dumps(result, indent=1))
    summary = (
        f"{name}: {result['checked']} text elements checked, "
        f"{len(result['skipped'])} skipped (background image/gradient): "
        f"{[s['selector'] for s in result['skipped']]}, "
        f"{len(result['inactive'])} disabled (exempt)"
    )
    print(summary)
    offenders = "\n".join(
        f"  {o['selector']} “{o['text']}”: {o['fg']} on {o['bg']} = {o['ratio']}:1 "
        f"(needs {o['need']}:1 at {o['size']}px/{o['weight']})"
        for o in result["offenders"]
    )
    assert not result["offenders"], f"{summary}\ncontrast below WCAG AA:\n{offenders}"
    assert result["checked"] >= minimum, summary  # the checker did look at the page
    return result


SCHEMES = ("light", "dark")


def in_scheme(page, scheme: str) -> str:
    """``page`` at rest in ``scheme`` (``use_scheme``); the artifacts' name suffix."""
    use_scheme(page, scheme)
    return "" if scheme == "light" else "-dark"


def test_text_contrast_meets_wcag_aa(dashboard, new_context, live_server, artifacts):
    # The dashboard with a live indicator, rows of every status, a new-order toast and
    # the other toast kinds (one with an Undo button), the bulk bar and a changed-row flag,
    # then the details dialog (with its history) open over it; each in the light theme and
    # in the dark one (prefers-color-scheme: dark).
    shop = customer_page(new_context, "alice", path="/")
    page = dashboard()
    order = place_order(customer(live_server, "alice"), "home delivery", "9 Contrast Street")
    page.wait_for_selector(".toast-new")
    # A cancelled order too (badge on the dashboard, banner on its page).
    gone = place_order(customer(live_server, "alice"))
    page.evaluate(
        """async (id) => {
            const { postJSON, urlFor } = await import('/static/js/lib/http.js');
            return postJSON(urlFor(
                document.getElementById('dashboard').dataset.cancelUrlTemplate, id),
                {reason: 'Contrast check'});
        }""",
        gone["id"],
    )
    # The new-order toast goes after 8 s: one that stays is measured in both themes.
    page.evaluate(
        """async () => {
            const { toast } = await import('/static/js/lib/toasts.js');
            toast('Saved.', {type: 'success', timeout: 0});
            toast('Something failed.', {type: 'error', title: 'Error', timeout: 0});
            toast('Note.', {type: 'info', timeout: 0,
                actions: [{label: 'Undo', onClick() {}}]});
            toast('1 new order', {type: 'new', title: '1 new order', timeout: 0});
        }"""
    )
    page.locator(f'tr[data-order-id="{gone["id"]}"] .badge-cancelled').wait_for()
    page.locator(f'tr[data-order-id="{order["id"]}"] [data-select]').check()
    page.evaluate(
        """(id) => { const f = document.querySelector(
            `tr[data-order-id="${id}"] [data-row-flag]`);
            f.textContent = 'changed'; f.hidden = false; }""",
        order["id"],
    )
    for scheme in SCHEMES:
        suffix = in_scheme(page, scheme)
        if scheme == "dark":
            page.screenshot(path=str(artifacts / "dashboard-dark.png"))
        result = assert_contrast(page, "dashboard" + suffix, artifacts, minimum=100)
        texts = " ".join(s["selector"] for s in result["samples"])
        for part in (
            ".stat-card",
            ".badge",
            ".btn",
            "td",
            "live-indicator",
            ".chip",
            ".toast",
            ".toast-new",
            ".toast-action",
            ".bulk-bar",
            ".row-flag",
            "kbd",
        ):
            assert part in texts, f"no {part} text was measured ({scheme})"

        # Every state of the live indicator, measured synchronously (the page cannot
        # repaint it in between).
        states = page.evaluate(
            """() => {
                const ind = document.querySelector('[data-live-indicator]');
                const was = ind.dataset.state, out = {};
                for (const s of ['connecting', 'live', 'reconnecting', 'offline', 'paused']) {
                    ind.dataset.state = s;
                    out[s] = window.__contrast(ind).offenders;
                }
                ind.dataset.state = was;
                return out;
            }"""
        )
        assert not any(states.values()), f"live indicator states below WCAG AA: {states}"

    page.locator(f'tr[data-order-id="{order["id"]}"] [data-action="details"]').click()
    page.locator("#details-dialog", has_text="9 Contrast Street").wait_for()
    page.locator("#details-dialog [data-history] li").first.wait_for()
    for scheme in SCHEMES:
        suffix = in_scheme(page, scheme)
        result = assert_contrast(
            page, "details-dialog" + suffix, artifacts, root="#details-dialog"
        )
        assert ".history-item" in " ".join(s["selector"] for s in result["samples"])

    # The storefront and the customer's order page, in progress and cancelled.
    shop.reload()
    for scheme in SCHEMES:
        assert_contrast(shop, "storefront" + in_scheme(shop, scheme), artifacts, minimum=20)
    shop.goto(f"/orders/{order['order_number']}")
    shop.wait_for_selector('[data-live-indicator][data-state="live"]')
    for scheme in SCHEMES:
        assert_contrast(shop, "order-page" + in_scheme(shop, scheme), artifacts)
    shop.goto(f"/orders/{gone['order_number']}")
    shop.wait_for_selector("[data-cancelled-banner]:not([hidden])")
    for scheme in SCHEMES:
        assert_contrast(shop, "order-page-cancelled" + in_scheme(shop, scheme), artifacts)


FOCUS_JS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    // The same element unfocused: a bare clone beside it, never rendered (display: none
    // still computes outline and box-shadow), so a card's resting shadow or an active
    // filter's outline does not count as a focus indicator.
    const clone = el.cloneNode(false);
    clone.removeAttribute('id');
    clone.hidden = true;
    el.after(clone);
    const s = getComputedStyle(el), rest = getComputedStyle(clone);
    const outlineOf = (x) => [x.outlineStyle, x.outlineWidth, x.outlineColor].join(' ');
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0
        && outlineOf(s) !== outlineOf(rest);
    const shadow = s.boxShadow !== 'none' && s.boxShadow !== rest.boxShadow;
    clone.remove();
    let kind = null;
    if (el.matches('.chips a.chip')) kind = 'chip';
    else if (el.matches('#orders-q')) kind = 'search';
    else if (el.matches('button[data-action="details"]')) kind = 'details';
    else if (el.matches('button[data-action="advance"]')
             && /^Advance to /.test(el.textContent.trim())) kind = 'advance';
    else if (el.matches('button[data-action="cancel"]')
             && el.textContent.trim() === 'Cancel') kind = 'cancel';
    const label = (el.textContent || el.getAttribute('aria-label') || el.name || '').trim();
    return {kind, indicator: outline || shadow, tag: el.tagName.toLowerCase(),
            cls: el.className, label: label.slice(0, 30)};
}"""


def test_keyboard_reaches_every_control_with_a_visible_focus(dashboard):
    page = dashboard()
    page.emulate_media(reduced_motion="reduce")  # focus styles at rest, not mid-transition
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.evaluate("() => window.scrollTo(0, 0)")
    wanted = {"chip", "search", "details", "advance", "cancel"}
    reached, visited, invisible = set(), [], []
    for _ in range(200):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus is None:
            continue
        visited.append(f"{focus['tag']}.{focus['cls']} “{focus['label']}”")
        if not focus["indicator"]:
            invisible.append(visited[-1])
        if focus["kind"]:
            reached.add(focus["kind"])
        if reached >= wanted:
            break
    assert reached >= wanted, f"Tab never reached {wanted - reached}; visited {visited}"
    assert not invisible, f"focused without a visible focus indicator: {invisible}"

    # Back to the row's "Details" button, by keyboard, and open it with Enter.
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
        if page.evaluate(FOCUS_JS)["kind"] == "details":
            break
    assert page.evaluate(FOCUS_JS)["kind"] == "details"
    order_id = page.evaluate("document.activeElement.closest('tr').dataset.orderId")
    dialog = page.locator("#details-dialog")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('details-dialog').open")
    number = page.locator(f'tr[data-order-id="{order_id}"] .order-number').inner_text()
    dialog.locator(f"text=Order {number}").wait_for()
    assert dialog.evaluate("d => d.contains(document.activeElement)"), "focus left the dialog"
    page.keyboard.press("Escape")
    page.wait_for_function("!document.getElementById('details-dialog').open")
    assert dialog.is_hidden()
    wait_live(page)


def test_stat_cards_are_in_a_polite_live_region(dashboard):
    page = dashboard()
    regions = page.evaluate(
        """() => [...document.querySelectorAll('.stat-card')].map(card => {
            const region = card.closest('[aria-live]');
            return region && region.getAttribute('aria-live');
        })"""
    )
    assert len(regions) == 6
    assert regions == ["polite"] * 6
    # Each count is inside the region too, so screen readers hear it change.
    assert page.evaluate(
        """() => [...document.querySelectorAll('.stat-card [data-stat]')]
             .every(n => n.closest('[aria-live="polite"]'))"""
    )
