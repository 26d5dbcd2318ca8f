/* The rules behind stable targets (docs/design.md §5a), DOM-free so that node --test can
 * check them (tests/js/hold-rules.test.mjs); hold.js and bulk.js apply them to the page. */

/** How long after a finger lifts the list stays held: the admin is still aiming (a second
 *  tap, a scroll then a tap) and a touch has no hover to tell. */
export const TOUCH_LINGER_MS = 3000;
/** The pointer must stay out of the list this long before queued changes go in, so that
 *  brushing past its edge does not let rows move. */
export const RELEASE_GRACE_MS = 250;

/** Why the orders list must not move now: a list of reasons, empty when it may.
 *  state: {pointerInside (a mouse or pen over the list), touching (a finger down on it),
 *  touchUntil and now (ms: the linger after the last touch), keyboardFocus (focus visible
 *  inside the list), dialogOpen, selected (orders ticked for a bulk action)}. */
export function holdReasons(state) {
  const reasons = [];
  if (state.pointerInside) reasons.push("pointer");
  if (state.touching || (state.touchUntil && state.now < state.touchUntil)) reasons.push("touch");
  if (state.keyboardFocus) reasons.push("focus");
  if (state.dialogOpen) reasons.push("dialog");
  if (state.selected) reasons.push("selection");
  return reasons;
}

/** What the page shows as an order's state, as the bulk API's `from` takes it: its status,
 *  or "Cancelled" (a cancelled order keeps the status it was cancelled in). */
export function shownStatus(order) {
  if (!order) return null;
  return order.cancelled ? "Cancelled" : order.status || null;
}

/** The selected orders among `orders` (pushed summaries) that no longer match the view:
 *  they leave the selection. `selected` has `has(id)`, `matches(order)` is the view's. */
export function leavers(orders, selected, matches) {
  const gone = [];
  const seenIds = new Set();
  for (const o of orders || []) {
    if (!o || o.id == null) continue;
    const id = Number(o.id);
    if (seenIds.has(id) || !selected.has(id) || matches(o)) continue;
    seenIds.add(id);
    gone.push(o);
  }
  return gone;
}

/** "ORD-1 left this view (now Shipped) and the selection." for up to three orders, else a
 *  count: what the bulk bar says when selected rows leave. */
export function leftText(orders) {
  if (!orders.length) return "";
  const what = (o) => o.order_number + (o.cancelled ? " (cancelled)" : " (now " + o.status + ")");
  if (orders.length <= 3) {
    return orders.map(what).join(", ") + " left this view and the selection.";
  }
  return orders.length + " selected orders left this view and the selection.";
}

/** The bulk request's `from`: {"<id>": status shown} for every id of `ids`, from `seen`
 *  (a Map id → status shown when it was selected). An id without one is left out, which
 *  the server refuses as a whole (422) rather than act on what nobody saw. */
export function fromOf(ids, seen) {
  const from = {};
  for (const id of ids) {
    const shown = seen.get(Number(id));
    if (shown) from[String(id)] = shown;
  }
  return from;
}
