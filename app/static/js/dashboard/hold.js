/* Stable targets (docs/design.md §5a): the orders list never moves under the admin's hand.
 *
 * The list is "held" while a mouse or pen pointer is over it, a finger touches it (and for
 * TOUCH_LINGER_MS after), keyboard focus is visibly inside it, a dialog is open or orders
 * are selected (hold-rules.js). While it is held:
 * - rows are neither inserted nor removed: feed.js queues new orders behind its "N new
 *   orders · show" bar and keeps rows that leave the view in place, marked, until
 *   `whenFree` runs them (RELEASE_GRACE_MS after the hold ends);
 * - the table's column widths are frozen (a wider status or label elsewhere would slide
 *   every button sideways), then released with the hold;
 * - whatever still changes height above the element the admin is aiming at (a marked row,
 *   the "new orders" bar, the bulk bar, the saved views' counts) is offset by scrolling the
 *   same distance, so that element stays where it was on the screen: synchronously around
 *   the list's own updates (`steady`), and from a ResizeObserver for the rest.
 * A press acts on the order whose row was under it: the order id and the status its button
 * showed are read from the row element at pointerdown (`pressed`), never from a position.
 */
import { RELEASE_GRACE_MS, TOUCH_LINGER_MS, holdReasons } from "./hold-rules.js";

export function createHold(region, selectionSize) {
  const table = region ? region.querySelector("[data-orders-table]") : null;
  let pointerInside = !!region && region.matches(":hover");
  let touching = false;
  let touchUntil = 0;
  let lastPointer = null; // {x, y} of the last mouse or pen position
  let anchor = null; // the element the admin aims at, and where it was on the screen
  let anchorTop = 0;
  let frozen = false;
  let releaseTimer = null;
  let press = null; // {button, id, from}: the action button under the last pointerdown
  const waiting = new Set();

  function reasons() {
    const active = document.activeElement;
    return holdReasons({
      pointerInside,
      touching,
      touchUntil,
      now: Date.now(),
      keyboardFocus: !!region && !!active && region.contains(active) &&
        active.matches(":focus-visible"),
      dialogOpen: !!document.querySelector("dialog[open]"),
      selected: selectionSize() > 0,
    });
  }

  const held = () => !!region && reasons().length > 0;

  /** The element under the pointer (or focused, or touched) inside the list. */
  function aimedAt() {
    if (lastPointer && pointerInside) {
      const under = document.elementFromPoint(lastPointer.x, lastPointer.y);
      if (under && region.contains(under)) return under.closest("tr[data-order-id]") || under;
    }
    const active = document.activeElement;
    if (active && region.contains(active)) return active.closest("tr[data-order-id]") || active;
    return null;
  }

  function record(element) {
    anchor = element || aimedAt();
    anchorTop = anchor ? anchor.getBoundingClientRect().top : 0;
  }

  /** Scroll by however far the aimed-at element moved since it was recorded. */
  function compensate() {
    if (!anchor || !anchor.isConnected || !held()) return;
    const moved = anchor.getBoundingClientRect().top - anchorTop;
    if (Math.abs(moved) >= 0.5) window.scrollBy(0, moved);
    anchorTop = anchor.getBoundingClientRect().top;
  }

  /** Freeze the table's column widths (desktop layout only: cards are boxes of their own). */
  function freeze() {
    if (frozen || !table || table.hidden || getComputedStyle(table).display !== "table") return;
    const heads = Array.from(table.querySelectorAll("thead th"));
    const widths = heads.map((th) => th.getBoundingClientRect().width);
    table.style.width = table.getBoundingClientRect().width + "px";
    heads.forEach((th, i) => { th.style.width = widths[i] + "px"; });
    table.style.tableLayout = "fixed";
    table.setAttribute("data-steady", "");
    frozen = true;
  }

  function unfreeze() {
    if (!frozen) return;
    table.style.width = "";
    table.style.tableLayout = "";
    for (const th of table.querySelectorAll("thead th")) th.style.width = "";
    table.removeAttribute("data-steady");
    frozen = false;
  }

  function release() {
    releaseTimer = null;
    if (held()) return;
    unfreeze();
    const jobs = Array.from(waiting);
    waiting.clear();
    for (const job of jobs) job();
  }

  /** Re-check the hold soon: when it has ended, run what waited for it. */
  function check() {
    if (releaseTimer) clearTimeout(releaseTimer);
    releaseTimer = setTimeout(release, RELEASE_GRACE_MS);
  }

  /** Run `job` once the list is free (now, if it is). */
  function whenFree(job) {
    if (!held()) {
      job();
      return;
    }
    waiting.add(job);
  }

  /** Run `change` (a DOM update of the list or around it); while held, with the columns
   *  frozen and the aimed-at element kept where it was on the screen. */
  function steady(change) {
    if (!held()) return change();
    freeze();
    if (!anchor || !anchor.isConnected) record();
    const result = change();
    compensate();
    return result;
  }

  /** The pointerdown's order, if `button` is the one pressed: {id, from}. */
  function pressed(button) {
    return press && press.button === button ? press : null;
  }

  if (region) {
    region.addEventListener("pointerenter", (ev) => {
      if (ev.pointerType === "touch") return;
      pointerInside = true;
    });
    region.addEventListener("pointerleave", (ev) => {
      if (ev.pointerType === "touch") return;
      pointerInside = false;
      check();
    });
    document.addEventListener("pointermove", (ev) => {
      if (ev.pointerType === "touch") return;
      lastPointer = { x: ev.clientX, y: ev.clientY };
      record();
    }, { passive: true });
    document.addEventListener("pointerdown", (ev) => {
      const button = ev.target.closest && ev.target.closest("button[data-action]");
      const row = button && button.closest("tr[data-order-id]");
      press = button ? {
        button,
        id: row ? row.getAttribute("data-order-id") : button.getAttribute("data-order-id"),
        from: button.getAttribute("data-from") || undefined,
      } : null;
      if (ev.pointerType === "touch" && region.contains(ev.target)) {
        touching = true;
        record(ev.target.closest("tr[data-order-id]") || ev.target);
      }
    }, true);
    // A press counts for the click it starts, not for a later one from the keyboard.
    document.addEventListener("click", () => setTimeout(() => { press = null; }, 0));
    // The admin resized the window: the frozen widths no longer fit it.
    window.addEventListener("resize", unfreeze);
    const lift = (ev) => {
      if (ev.pointerType !== "touch" || !touching) return;
      touching = false;
      touchUntil = Date.now() + TOUCH_LINGER_MS;
      setTimeout(check, TOUCH_LINGER_MS + 10);
    };
    document.addEventListener("pointerup", lift, true);
    document.addEventListener("pointercancel", lift, true);
    document.addEventListener("focusin", () => { record(); check(); });
    document.addEventListener("focusout", check);
    // A dialog's close does not bubble: heard in the capture phase.
    document.addEventListener("close", check, true);
    // The admin's own scrolling moves the target on purpose: measure from there.
    window.addEventListener("scroll", () => {
      if (anchor && anchor.isConnected) anchorTop = anchor.getBoundingClientRect().top;
    }, { passive: true });
    if (typeof ResizeObserver === "function") {
      const watcher = new ResizeObserver(() => compensate());
      const dashboard = region.parentElement;
      for (const child of dashboard ? Array.from(dashboard.children) : []) watcher.observe(child);
      watcher.observe(region);
    }
  }

  return { held, reasons, whenFree, steady, check, pressed, freeze };
}
