/* The orders table: rows are updated in place, and new orders are inserted live only on the
 * unfiltered first page; elsewhere they are counted in the "N new orders" notice. */
import { capitalize, clear, el, flash, formatCount, isoTime, newerThan } from "./dom.js";
import { actionButtons, badge } from "./order-markup.js";

const OP = window.OrderPulse;

function cell(label, className) {
  const td = el("td", className || null);
  if (label) td.setAttribute("data-label", label);
  return td;
}

/** Fill <tr> from an order summary (same markup as admin/_order_row.html). */
function fillRow(tr, o) {
  tr.setAttribute("data-order-id", o.id);
  tr.setAttribute("data-status", o.status || "");
  tr.setAttribute("data-cancelled", o.cancelled ? "true" : "false");
  tr.setAttribute("data-updated-at", o.updated_at || "");
  tr.setAttribute("data-date-ordered", o.date_ordered || "");
  clear(tr);

  const tdNum = cell("Order");
  tdNum.appendChild(el("span", "order-number", o.order_number));
  tr.appendChild(tdNum);

  tr.appendChild(cell("Customer")).textContent = o.username || "—";

  const tdStatus = cell("Status");
  tdStatus.appendChild(badge(o.status, o.cancelled));
  tr.appendChild(tdStatus);

  tr.appendChild(cell("Total", "num")).textContent = formatCount(o.total_credits) + " cr";
  tr.appendChild(cell("Delivery")).textContent = capitalize(o.delivery_method);

  const tdDate = cell("Ordered");
  if (o.date_ordered) {
    const time = el("time", "js-local-time", OP.formatLocal(o.date_ordered));
    time.setAttribute("datetime", o.date_ordered);
    time.title = String(o.date_ordered).replace("T", " ").replace("Z", " UTC");
    tdDate.appendChild(time);
  }
  tr.appendChild(tdDate);

  const tdActions = cell(null, "actions");
  const group = el("div", "action-group");
  actionButtons(o, group, false);
  tdActions.appendChild(group);
  tr.appendChild(tdActions);
}

function rowSortKey(dateIso, id) {
  return [isoTime(dateIso), Number(id) || 0];
}

export function createFeed(root, cfg) {
  const tbody = root.querySelector("[data-orders-body]");
  const table = root.querySelector("[data-orders-table]");
  const emptyState = root.querySelector("[data-orders-empty]");
  const notice = root.querySelector("[data-new-orders-notice]");
  const noticeText = notice && notice.querySelector("[data-new-orders-text]");
  const newIds = {}; // ids counted in the "N new orders" notice
  let newCount = 0;
  let baselineIso = null; // orders placed after this (server time) are "new"

  function setBaseline(iso) {
    if (!baselineIso && iso) baselineIso = iso;
  }

  function findRow(id) {
    if (!tbody) return null;
    return tbody.querySelector('tr[data-order-id="' + String(parseInt(id, 10)) + '"]');
  }

  /** Where a new row goes on the unfiltered first page (date_ordered desc, id desc), or
   *  null when it is older than a full page's last row (it belongs on a later page). */
  function insertionPoint(o) {
    const key = rowSortKey(o.date_ordered, o.id);
    const rows = tbody.querySelectorAll("tr[data-order-id]");
    for (const row of rows) {
      const other = rowSortKey(row.getAttribute("data-date-ordered"),
        row.getAttribute("data-order-id"));
      if (newerThan(key, other)) return { before: row };
    }
    if (rows.length < cfg.perPage) return { before: null };
    return null;
  }

  function updateEmptyState() {
    if (!tbody) return;
    const has = !!tbody.querySelector("tr[data-order-id]");
    if (table) table.hidden = !has;
    if (emptyState) emptyState.hidden = has;
  }

  function isNewOrder(o, kind) {
    if (kind === "created") return true;
    if (!baselineIso || !o.date_ordered) return false;
    return isoTime(o.date_ordered) > isoTime(baselineIso);
  }

  function countNew(o) {
    if (newIds[o.id]) return;
    newIds[o.id] = true;
    newCount += 1;
    if (notice && noticeText) {
      noticeText.textContent = newCount === 1 ? "1 new order since this page was loaded." :
        newCount + " new orders since this page was loaded.";
      notice.hidden = false;
    }
  }

  function updateRow(tr, o) {
    const known = isoTime(tr.getAttribute("data-updated-at"));
    if (o.updated_at && known && isoTime(o.updated_at) < known) return null; // stale
    const before = tr.getAttribute("data-status") + "|" + tr.getAttribute("data-cancelled");
    const after = o.status + "|" + (o.cancelled ? "true" : "false");
    if (before === after && tr.getAttribute("data-updated-at") === (o.updated_at || "")) {
      return null;
    }
    // Rebuilding the row drops focus; put it back on the same action for keyboard users.
    const hadFocus = tr.contains(document.activeElement) ?
      document.activeElement.getAttribute("data-action") : null;
    fillRow(tr, o);
    if (hadFocus) {
      const again = tr.querySelector('[data-action="' + hadFocus + '"]') ||
        tr.querySelector('[data-action="details"]');
      if (again) again.focus();
    }
    if (before !== after) flash(tr);
    return "updated";
  }

  /** Insert or update a row from a summary. Returns "inserted", "updated" or null. */
  function upsert(o, kind) {
    if (!o || o.id == null || !tbody) return null;
    const existing = findRow(o.id);
    if (existing) return updateRow(existing, o);
    if (!cfg.liveInsert) {
      if (isNewOrder(o, kind)) countNew(o);
      return null;
    }
    const point = insertionPoint(o);
    if (!point) return null;
    const tr = document.createElement("tr");
    fillRow(tr, o);
    tbody.insertBefore(tr, point.before);
    tr.classList.add("row-new");
    // Keep the page at most one page long.
    const rows = tbody.querySelectorAll("tr[data-order-id]");
    for (let i = rows.length - 1; i >= cfg.perPage; i--) tbody.removeChild(rows[i]);
    updateEmptyState();
    return "inserted";
  }

  /** Upsert a batch (a snapshot or poll answer), calling `each(order)` after each one. */
  function merge(list, each) {
    if (!Array.isArray(list)) return;
    // Oldest first, so newer rows end up on top when several are inserted.
    const sorted = list.slice().sort((a, b) =>
      newerThan(rowSortKey(a.date_ordered, a.id), rowSortKey(b.date_ordered, b.id)) ? 1 : -1);
    for (const order of sorted) {
      upsert(order, null);
      each(order);
    }
  }

  /** Replace every row (a reload after a reset): the view's current page. */
  function replace(rows) {
    if (!tbody || !Array.isArray(rows)) return;
    clear(tbody);
    for (const o of rows) {
      const tr = document.createElement("tr");
      fillRow(tr, o);
      tbody.appendChild(tr);
    }
    updateEmptyState();
  }

  return { upsert, merge, replace, findRow, isNewOrder, setBaseline };
}
