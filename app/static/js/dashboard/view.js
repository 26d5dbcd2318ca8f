/* The table's view in the browser (live filtered, paged and searched views): which
 * orders match it, in which order they sort, and how each pushed change moves its count,
 * all from the pushed order summaries and activity entries, with no request.
 *
 * The rules mirror the server's (app/services/order_query.py OrderFilter): a status filter
 * excludes cancelled orders ("Cancelled" is the cancelled ones); q matches the order number,
 * username, email or a tag, case-insensitively; tag is one of the order's tags (summaries carry
 * them, a `tagged` entry's note says what moved: "+vip -gift"); from/to are the shop's
 * local dates, inclusive; sorts are by ordered time, total or workflow position, ties
 * broken by id.
 */
import { createTimeFormat, isoTime, parseInstant } from "../lib/time-format.js";

const STATUSES = ["Pending", "Shipped", "Out for Delivery", "Delivered"];
const STAT_OF = {
  "": "total_orders", Pending: "pending_count", Shipped: "shipped_count",
  "Out for Delivery": "out_for_delivery", Delivered: "delivered_count",
  Cancelled: "cancelled_count",
};

/** [before, after] of one activity entry, each [status, cancelled] or null (no order). */
function statesOf(entry) {
  const from = entry.from_status;
  const to = entry.to_status;
  switch (entry.kind) {
    case "created": return [null, [to || "Pending", false]];
    case "status":
    case "status_undone": return [[from, false], [to, false]];
    case "cancelled": return [[from, false], [from, true]];
    case "cancel_undone": return [[from, true], [to, false]];
    default: return [null, null];
  }
}

/** The tags added and removed by a `tagged` entry ("+vip +gift wrap -rush": a tag may hold
 *  spaces, so each one starts at a " +" or " -"). */
export function tagChange(note) {
  const added = [];
  const removed = [];
  for (const part of (" " + (note || "")).split(/ (?=[+-])/)) {
    if (part[0] === "+") added.push(part.slice(1));
    else if (part[0] === "-") removed.push(part.slice(1));
  }
  return { added, removed };
}

/** The view of `cfg` (config.js: its filter, and the shop's zone for the date filter):
 *  {matches(order), delta(entry, order), compare(a, b), filtered, countStat, newestFirst,
 *  sortsByStatus}. DOM-free. */
export function createView(cfg) {
  const f = cfg.filter;
  const { localDay } = createTimeFormat(cfg.timeZone);

  function localDayOf(iso) {
    const d = parseInstant(iso);
    return d ? localDay(d) : "";
  }

  const q = f.q.toLowerCase();
  const tag = f.tag || "";
  const filtered = !!(f.status || q || tag || f.from || f.to);
  // A view whose count is a counter: the pushed stats give it exactly.
  const countStat = q || tag || f.from || f.to ? null : STAT_OF[f.status] || null;

  const tagged = (tags) => !tag || (tags || []).includes(tag);

  function statusMatches(status, cancelled) {
    if (!f.status) return true;
    if (f.status === "Cancelled") return !!cancelled;
    return !cancelled && status === f.status;
  }

  /** The parts of the view an order never leaves (its number, customer and date; a search
   *  also matches its tags). */
  function fixedMatches(o) {
    if (q && ![o.order_number, o.username, o.email, ...(o.tags || [])].some(
      (v) => String(v || "").toLowerCase().includes(q))) return false;
    if (f.from || f.to) {
      const day = localDayOf(o.date_ordered);
      if (!day || (f.from && day < f.from) || (f.to && day > f.to)) return false;
    }
    return true;
  }

  function matches(o) {
    return !!o && statusMatches(o.status, o.cancelled) && fixedMatches(o) && tagged(o.tags);
  }

  /** +1, -1 or 0: what the change `entry` did to the number of orders in the view
   *  (`order`: any summary of that order, for its number, customer and date). */
  function delta(entry, order) {
    if (!entry || !order || !fixedMatches(order)) return 0;
    if (entry.kind === "tagged") {
      if (!tag || !statusMatches(order.status, order.cancelled)) return 0;
      const { added, removed } = tagChange(entry.note);
      return added.includes(tag) ? 1 : removed.includes(tag) ? -1 : 0;
    }
    if (!tagged(order.tags)) return 0;
    const [before, after] = statesOf(entry);
    const inBefore = before ? statusMatches(before[0], before[1]) : false;
    const inAfter = after ? statusMatches(after[0], after[1]) : false;
    return (inAfter ? 1 : 0) - (inBefore ? 1 : 0);
  }

  function key(o) {
    const id = Number(o.id) || 0;
    const placed = isoTime(o.date_ordered);
    if (f.sort === "total") return [Number(o.total_credits) || 0, id];
    if (f.sort === "status") {
      const rank = o.cancelled ? STATUSES.length : STATUSES.indexOf(o.status);
      return [rank < 0 ? STATUSES.length : rank, placed, id];
    }
    return [placed, id];
  }

  /** < 0 when `a` comes before `b` in the view's order. */
  function compare(a, b) {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      if (ka[i] !== kb[i]) return (ka[i] < kb[i] ? -1 : 1) * (f.dir === "asc" ? 1 : -1);
    }
    return 0;
  }

  return {
    matches,
    delta,
    compare,
    filtered,
    countStat,
    // New orders always go on top: the one view where they are inserted as they come.
    newestFirst: f.sort === "ordered" && f.dir === "desc",
    // A status change moves a row in this order.
    sortsByStatus: f.sort === "status",
  };
}
