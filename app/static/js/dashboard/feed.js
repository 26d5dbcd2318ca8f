/* The orders table, live in any view, from pushed summaries only:
 * - a row still in the view is redrawn in place (rows.js holds its buttons under the pointer);
 * - on the first page a row that leaves the view (moved on, cancelled) says so briefly and
 *   goes (once the pointer is off it); on later pages rows never reshuffle: a changed row
 *   gets a "changed" badge instead;
 * - new orders go on top of the newest-first, unfiltered first page as they come; in any
 *   other view a new matching order that belongs on this page is counted in "N new
 *   matching orders — Show" (on the first page Show inserts them, elsewhere it opens the
 *   view's first page, keeping the filter);
 * - the result count follows the stat counters (status-only views) or each activity entry's
 *   move into or out of the view (view.js), each entry counted once; "page 2 of N" follows
 *   it (the pager's Next/Previous page by key: app/services/keyset.py);
 * - while the admin aims at the list (hold.js: pointer, touch, keyboard focus, a dialog or a
 *   selection), no row moves: new orders wait in the "N new orders" bar even on the live
 *   first page and go in when the hold ends, leaving rows stay (marked) until then, and a
 *   row whose status changes is marked in place.
 */
import { clear, flash } from "../lib/dom.js";
import { isoTime } from "../lib/time-format.js";
import { fillRow, markRenderedRows, rowSummary } from "./rows.js";

const LEAVE_MS = 2500;

export function createFeed(root, cfg, view, selection, hold) {
  const tbody = root.querySelector("[data-orders-body]");
  const table = root.querySelector("[data-orders-table]");
  const emptyState = root.querySelector("[data-orders-empty]");
  const notice = root.querySelector("[data-new-orders-notice]");
  const noticeText = notice && notice.querySelector("[data-new-orders-text]");
  const showNew = notice && notice.querySelector("[data-show-new]");
  const viewNotice = root.querySelector("[data-view-notice]");
  const countNode = root.querySelector("[data-result-count]");
  const countNoun = root.querySelector("[data-result-noun]");
  const pageLabel = root.querySelector("[data-page-label]");
  const pageCount = root.querySelector("[data-page-count]");
  const firstPage = cfg.page === 1;
  // The one view where new orders are inserted as they arrive, as the dashboard always did.
  const liveInsert = firstPage && !view.filtered && view.newestFirst;
  const pending = new Map(); // id → newest summary of a new matching order not shown yet
  const counted = new Set(); // activity ids already applied to the count
  let count = countNode ? parseInt(countNode.textContent.replace(/[^\d]/g, ""), 10) || 0 : 0;
  let baselineIso = null; // orders placed after this (server time) are "new"
  if (tbody) markRenderedRows(tbody);

  function rows() {
    return tbody ? Array.from(tbody.querySelectorAll("tr[data-order-id]")) : [];
  }

  function findRow(id) {
    if (!tbody) return null;
    return tbody.querySelector('tr[data-order-id="' + String(parseInt(id, 10)) + '"]');
  }

  function setCount(n) {
    count = Math.max(0, n);
    if (countNode) countNode.textContent = count.toLocaleString("en-US");
    if (countNoun) countNoun.textContent = count === 1 ? "result" : "results";
    // "page 2 of 27": the page count follows the live count (never below this page).
    const pages = Math.max(cfg.page, Math.ceil(count / cfg.perPage));
    if (pageCount) pageCount.textContent = String(pages);
    if (pageLabel) pageLabel.hidden = pages <= 1;
  }

  function say(text) {
    if (viewNotice) viewNotice.textContent = text;
  }

  function updateEmptyState() {
    if (!tbody) return;
    const has = !!tbody.querySelector("tr[data-order-id]");
    if (table) table.hidden = !has;
    if (emptyState) emptyState.hidden = has;
  }

  function showPendingNotice() {
    for (const [id, o] of pending) if (!view.matches(o) || findRow(id)) pending.delete(id);
    if (!notice || !noticeText) return;
    const n = pending.size;
    notice.hidden = !n;
    const what = liveInsert ? " new order" : " new matching order";
    noticeText.textContent = n + what + (n === 1 ? "" : "s");
  }

  /** Does `o` (not on the page) sort into this page? Then it would show after a reload. */
  function belongsHere(o) {
    const list = rows().filter((tr) => !tr.classList.contains("row-leaving"));
    if (!list.length) return firstPage;
    if (view.compare(o, rowSummary(list[list.length - 1])) < 0) return true;
    return firstPage && list.length < cfg.perPage;
  }

  /** A new row at its place in the view's order; the page stays one page long. */
  function insert(o) {
    const tr = document.createElement("tr");
    fillRow(tr, o, selection.has(o.id));
    const before = rows().find((row) => view.compare(o, rowSummary(row)) < 0) || null;
    tbody.insertBefore(tr, before);
    tr.classList.add("row-new");
    const all = rows();
    for (let i = all.length - 1; i >= cfg.perPage; i--) tbody.removeChild(all[i]);
    updateEmptyState();
  }

  /** A row that changed while the list was held: marked in place until the hold ends. */
  function holdMark(tr, o) {
    markChanged(tr, o.cancelled ? "cancelled" : "now " + o.status);
    tr.setAttribute("data-held-change", "");
    hold.whenFree(clearHoldMarks);
  }

  function clearHoldMarks() {
    for (const tr of rows()) {
      if (!tr.hasAttribute("data-held-change") || tr.classList.contains("row-leaving")) continue;
      tr.removeAttribute("data-held-change");
      tr.querySelector("[data-row-flag]").hidden = true;
    }
  }

  function markChanged(tr, text) {
    const flag = tr.querySelector("[data-row-flag]");
    if (!flag) return;
    flag.textContent = text;
    flag.title = text; // the table cuts a long flag with an ellipsis
    flag.hidden = false;
  }

  /** A first-page row that no longer matches: say so, then remove it once the pointer is
   *  off it (rows below must not slide under a click); it stays if it matches again. */
  function leave(tr, o) {
    const what = o.cancelled ? "cancelled" : "now " + o.status;
    markChanged(tr, what + " · leaving this view");
    say(o.order_number + " is " + what + ": it leaves this view.");
    if (tr.classList.contains("row-leaving")) return;
    tr.classList.add("row-leaving");
    const go = () => {
      if (!tr.isConnected) return;
      if (view.matches(rowSummary(tr))) {
        tr.classList.remove("row-leaving");
        tr.querySelector("[data-row-flag]").hidden = true;
        return;
      }
      if (hold.held()) {
        hold.whenFree(go); // rows below must not slide up under the admin's aim
        return;
      }
      if (tr.contains(document.activeElement)) {
        // Keyboard focus moves to the next row rather than falling to <body>, without
        // scrolling: the row may be off-screen, and the page must not jump to it.
        const next = tr.nextElementSibling || tr.previousElementSibling;
        if (next) next.focus({ preventScroll: true });
      }
      tr.remove();
      updateEmptyState();
    };
    setTimeout(go, LEAVE_MS);
  }

  function updateRow(tr, o) {
    const known = isoTime(tr.getAttribute("data-updated-at"));
    if (o.updated_at && known && isoTime(o.updated_at) < known) return null; // stale
    // Tags move without updated_at: they are part of what a row shows and matches on.
    const before = [tr.getAttribute("data-status"), tr.getAttribute("data-cancelled"),
      tr.getAttribute("data-tags")].join("|");
    const after = [o.status, o.cancelled ? "true" : "false", (o.tags || []).join("|")].join("|");
    if (before === after && tr.getAttribute("data-updated-at") === (o.updated_at || "")) {
      return null;
    }
    const moved = tr.getAttribute("data-status") !== (o.status || "") ||
      tr.getAttribute("data-cancelled") !== (o.cancelled ? "true" : "false");
    fillRow(tr, o, selection.has(o.id));
    if (before === after) return "updated";
    flash(tr);
    if (moved && hold.held() && view.matches(o)) holdMark(tr, o);
    if (!view.matches(o)) {
      if (firstPage) leave(tr, o);
      else markChanged(tr, "changed: " + (o.cancelled ? "cancelled" : o.status));
    } else if (view.sortsByStatus) {
      markChanged(tr, "changed"); // its place in this order moved: no reshuffle under the pointer
    }
    return "updated";
  }

  /** Insert or update a row from a summary. Returns "inserted", "updated" or null. */
  function upsert(o) {
    if (!o || o.id == null || !tbody) return null;
    const existing = findRow(o.id);
    if (existing) return updateRow(existing, o);
    if (!view.matches(o)) {
      if (pending.delete(o.id)) showPendingNotice();
      return null;
    }
    if (!belongsHere(o)) return null;
    if (liveInsert && !hold.held()) {
      insert(o);
      return "inserted";
    }
    pending.set(o.id, o);
    showPendingNotice();
    // On the live first page the hold only delays them: they go in once it ends.
    if (liveInsert) hold.whenFree(letIn);
    return null;
  }

  /** Upsert a batch (a snapshot or poll answer), calling `each(order)` after each one. */
  function merge(list, each) {
    if (!Array.isArray(list)) return;
    // Oldest first, so newer rows end up on top when several are inserted.
    const sorted = list.slice().sort((a, b) => isoTime(a.date_ordered) - isoTime(b.date_ordered) ||
      (Number(a.id) - Number(b.id)));
    for (const order of sorted) {
      upsert(order);
      each(order);
    }
  }

  /** "Show": the new matching orders, inserted at their places (first page only); `focus`:
   *  the newest takes keyboard focus (a click on Show, not the hold ending). */
  function showPending(focus) {
    const list = Array.from(pending.values()).filter((o) => view.matches(o) && !findRow(o.id));
    pending.clear();
    list.sort(view.compare).reverse().forEach(insert);
    showPendingNotice();
    const first = list.length && focus ? findRow(list[list.length - 1].id) : null;
    if (first) first.focus();
  }
  const letIn = () => showPending(false);
  if (showNew) showNew.addEventListener("click", () => showPending(true));

  /** The stats moved: a status-only view's count is one of them. */
  function applyStats(stats) {
    if (stats && view.countStat && stats[view.countStat] != null) {
      setCount(Number(stats[view.countStat]));
    }
  }

  /** Activity entries (any order, repeats ignored) with the orders they changed (by id):
   *  each moves the count of a filtered, searched or dated view by -1, 0 or +1. */
  function applyEntries(entries, ordersById) {
    for (const entry of entries || []) {
      if (!entry || entry.id == null || counted.has(entry.id)) continue;
      counted.add(entry.id);
      if (view.countStat) continue;
      const d = view.delta(entry, ordersById.get(String(entry.order_id)));
      if (d) setCount(count + d);
    }
  }

  /** Entries the page's numbers already include (the bootstrap, a reload). */
  function markCounted(entries) {
    for (const entry of entries || []) if (entry && entry.id != null) counted.add(entry.id);
  }

  /** Replace every row (a reload after a reset): the view's current page. */
  function replace(list, total) {
    if (!tbody || !Array.isArray(list)) return;
    clear(tbody);
    for (const o of list) {
      const tr = document.createElement("tr");
      fillRow(tr, o, selection.has(o.id));
      tbody.appendChild(tr);
    }
    pending.clear();
    showPendingNotice();
    if (total != null) setCount(Number(total));
    updateEmptyState();
  }

  const setBaseline = (iso) => { if (!baselineIso && iso) baselineIso = iso; };

  function isNewOrder(o, kind) {
    if (kind === "created") return true;
    if (!baselineIso || !o.date_ordered) return false;
    return isoTime(o.date_ordered) > isoTime(baselineIso);
  }

  /** Redraw a row's checkbox after the selection changed elsewhere. */
  function refreshSelection() {
    for (const tr of rows()) {
      const box = tr.querySelector("[data-select]");
      if (box) box.checked = selection.has(Number(tr.getAttribute("data-order-id")));
    }
  }

  return {
    // While held, every change of the list keeps the admin's target still (hold.steady).
    upsert: (o) => hold.steady(() => upsert(o)),
    merge: (list, each) => hold.steady(() => merge(list, each)),
    replace, findRow, rows, isNewOrder, setBaseline, applyStats, applyEntries,
    markCounted, refreshSelection, count: () => count,
  };
}
