/* The details dialog's body: the summary grid, the items and the order's history. */
import { el } from "../lib/dom.js";
import { timeElement } from "../lib/shop-time.js";
import { capitalize, formatCount, slug } from "../lib/text.js";
import { activityText } from "./activity-text.js";
import { badge } from "./order-markup.js";

function when(iso, fallback) {
  return iso ? timeElement(iso) : fallback;
}

function detailRow(list, label, value, className) {
  const wrap = el("div");
  wrap.appendChild(el("dt", null, label));
  const dd = el("dd", className || null);
  if (value instanceof Node) dd.appendChild(value); else dd.textContent = value == null ? "—" : value;
  wrap.appendChild(dd);
  list.appendChild(wrap);
}

export function cancelledBanner(o) {
  const banner = el("div", "banner banner-cancelled");
  banner.appendChild(el("strong", null, "Cancelled. "));
  banner.appendChild(el("span", null, o.cancellation_reason ?
    "Reason: " + o.cancellation_reason : "No reason given."));
  return banner;
}

/** "UPS 1Z…", the number a link to the carrier's page when there is one (http(s) only). */
function trackingLink(o) {
  const span = el("span", null, (o.carrier || "") + " ");
  const url = o.tracking_url || "";
  const node = /^https?:\/\//.test(url) ? el("a", null, o.tracking_number) :
    el("span", null, o.tracking_number);
  if (node.tagName === "A") {
    node.href = url;
    node.target = "_blank";
    node.rel = "noopener noreferrer";
  }
  span.appendChild(node);
  return span;
}

export function summaryGrid(o) {
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
  detailRow(left, "Ordered", when(o.date_ordered, "—"));
  detailRow(left, "Total", formatCount(o.total_credits) + " credits");
  grid.appendChild(left);

  const right = el("dl", "detail-list");
  detailRow(right, "Delivery", capitalize(o.delivery_method));
  if (o.delivery_method !== "pickup") {
    detailRow(right, "Address", o.delivery_address || "—", "pre-line");
  }
  if (o.cancelled) {
    // A cancelled order is never delivered: no estimate, no "not yet".
    detailRow(right, "Delivery date", "None: the order was cancelled");
  } else {
    detailRow(right, "Estimated", when(o.estimated_delivery, "—"));
    detailRow(right, "Delivered", when(o.actual_delivery, "Not yet"));
  }
  if (o.tracking_number) detailRow(right, "Tracking", trackingLink(o));
  if (o.refunded_credits) {
    detailRow(left, "Refunded", formatCount(o.refunded_credits) + " credits");
  }
  grid.appendChild(right);
  return grid;
}

/** The items as a table that fits a phone (the category drops below 480 px, in app.css). */
export function itemsTable(items) {
  const table = el("table", "table table-compact items-table");
  const thead = el("thead");
  const hr = el("tr");
  [["Product", ""], ["Category", "col-category"], ["Qty", "num"], ["Each", "num"],
    ["Subtotal", "num"]].forEach(([text, className]) => {
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
    tr.appendChild(el("td", "item-name", item.name));
    tr.appendChild(el("td", "muted col-category", item.category));
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
  return table;
}

/** One history entry: what happened, who did it, when. */
export function historyItem(a) {
  const li = el("li", "history-item history-" + slug(a.kind));
  li.setAttribute("data-history-id", a.id);
  li.appendChild(el("span", "activity-dot"));
  const body = el("div", "activity-body");
  body.appendChild(el("span", "activity-text", activityText(a, "it")));
  if (a.at) body.appendChild(timeElement(a.at, "activity-time muted small"));
  li.appendChild(body);
  return li;
}
