/* The order details dialog: loaded once when opened (its items), then kept current from the
 * pushed order summaries while open (status, dates, cancellation), with no request. */
import { openDialog } from "./dialogs.js";
import { capitalize, clear, el, formatCount, urlFor } from "./dom.js";
import { actionButtons, badge } from "./order-markup.js";

const OP = window.OrderPulse;
// What a pushed order summary can change in an open dialog (its items never change).
const LIVE_KEYS = ["status", "cancelled", "cancellation_reason", "actual_delivery",
  "estimated_delivery", "next_status", "updated_at"];

function detailRow(list, label, value, className) {
  const wrap = el("div");
  wrap.appendChild(el("dt", null, label));
  const dd = el("dd", className || null);
  if (value instanceof Node) dd.appendChild(value); else dd.textContent = value == null ? "—" : value;
  wrap.appendChild(dd);
  list.appendChild(wrap);
}

function closeButton() {
  const close = el("button", "btn btn-ghost btn-sm", "Close");
  close.type = "button";
  close.setAttribute("data-close-dialog", "");
  return close;
}

function summaryGrid(o) {
  const grid = el("div", "details-grid");
  const left = el("dl", "detail-list");
  detailRow(left, "Status", badge(o.status, o.cancelled));
  const customer = o.customer || {};
  const who = el("span");
  who.appendChild(el("strong", null, customer.username || "—"));
  if (customer.email) {
    who.appendChild(document.createElement("br"));
    who.appendChild(el("span", "muted", customer.email));
  }
  detailRow(left, "Customer", who);
  detailRow(left, "Ordered", OP.formatLocal(o.date_ordered) || "—");
  detailRow(left, "Total", formatCount(o.total_credits) + " credits");
  grid.appendChild(left);

  const right = el("dl", "detail-list");
  detailRow(right, "Delivery", capitalize(o.delivery_method));
  if (o.delivery_method !== "pickup") {
    detailRow(right, "Address", o.delivery_address || "—", "pre-line");
  }
  detailRow(right, "Estimated", OP.formatLocal(o.estimated_delivery) || "—");
  detailRow(right, "Delivered", OP.formatLocal(o.actual_delivery) || "Not yet");
  grid.appendChild(right);
  return grid;
}

function itemsTable(items) {
  const table = el("table", "table table-compact");
  const thead = el("thead");
  const hr = el("tr");
  [["Product", ""], ["Category", ""], ["Qty", "num"], ["Each", "num"], ["Subtotal", "num"]]
    .forEach(([text, className]) => {
      const th = el("th", className || null, text);
      th.scope = "col";
      hr.appendChild(th);
    });
  thead.appendChild(hr);
  table.appendChild(thead);
  const tb = el("tbody");
  (items || []).forEach((item) => {
    const tr = el("tr");
    const qty = item.quantity != null ? item.quantity : 1;
    tr.appendChild(el("td", null, item.name));
    tr.appendChild(el("td", "muted", item.category));
    tr.appendChild(el("td", "num", qty));
    tr.appendChild(el("td", "num", formatCount(item.credit_value)));
    tr.appendChild(el("td", "num", formatCount(item.credit_value * qty)));
    tb.appendChild(tr);
  });
  if (!items || !items.length) {
    const emptyTr = el("tr");
    const td = el("td", "muted", "No items.");
    td.colSpan = 5;
    emptyTr.appendChild(td);
    tb.appendChild(emptyTr);
  }
  table.appendChild(tb);
  const wrap = el("div", "table-scroll");
  wrap.appendChild(table);
  return wrap;
}

export function createDetails(cfg) {
  const dialog = document.getElementById("details-dialog");
  const body = dialog && dialog.querySelector("[data-details-body]");
  const actions = dialog && dialog.querySelector("[data-details-actions]");
  const title = dialog && dialog.querySelector("#details-title");
  let detailsId = null; // the order asked for (set before its data arrives)
  let shown = null; // the order object the dialog shows
  if (dialog) dialog.addEventListener("close", () => { detailsId = null; });

  function render(o) {
    shown = o;
    title.textContent = "Order " + o.order_number;
    clear(body);
    clear(actions);
    if (o.cancelled) {
      const banner = el("div", "banner banner-cancelled");
      banner.appendChild(el("strong", null, "Cancelled. "));
      banner.appendChild(el("span", null, o.cancellation_reason ?
        "Reason: " + o.cancellation_reason : "No reason given."));
      body.appendChild(banner);
    }
    body.appendChild(summaryGrid(o));
    body.appendChild(el("h3", "details-subtitle", "Items"));
    body.appendChild(itemsTable(o.items));
    actionButtons(o, actions, true);
    actions.appendChild(closeButton());
  }

  function showError(message) {
    clear(body);
    clear(actions);
    body.appendChild(el("p", "notice notice-error", message));
    actions.appendChild(closeButton());
  }

  function load(id) {
    // An answer for an order no longer asked for (the admin moved on) is dropped.
    return OP.getJSON(urlFor(cfg.detailsTpl, id)).then((data) => {
      if (String(detailsId) !== String(id)) return;
      render(data.order);
    }).catch((err) => {
      if (String(detailsId) !== String(id)) return;
      showError(err.message);
    });
  }

  function open(id) {
    if (!dialog) return;
    detailsId = id;
    shown = null;
    clear(body);
    clear(actions);
    body.appendChild(el("p", "muted", "Loading…"));
    title.textContent = "Order details";
    openDialog(dialog);
    load(id);
  }

  /** A newer summary of the order in the dialog (pushed): redraw with its fields. */
  function refreshIfShowing(summary) {
    if (detailsId == null || String(summary.id) !== String(detailsId)) return;
    if (!shown || !dialog || !dialog.open) return;
    if (summary.updated_at && shown.updated_at && summary.updated_at < shown.updated_at) return;
    const moved = LIVE_KEYS.filter((key) => key in summary && summary[key] !== shown[key]);
    if (!moved.length) return;
    const merged = Object.assign({}, shown);
    for (const key of moved) merged[key] = summary[key];
    render(merged);
  }

  /** An action's answer: redraw at once if the dialog is showing that order. */
  function showIfOpen(order) {
    if (dialog && dialog.open && String(detailsId) === String(order.id)) render(order);
  }

  function shownNumber(id) {
    return shown && String(shown.id) === String(id) ? shown.order_number : null;
  }

  return { dialog, open, refreshIfShowing, showIfOpen, shownNumber };
}
