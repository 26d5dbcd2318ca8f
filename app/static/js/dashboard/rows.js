/* One table row (a card on phones) from an order summary: the same markup as
 * admin/_order_row.html. A row reads back as a summary (for sorting and matching) from its
 * data-* attributes and cells.
 *
 * A button never changes its label under the pointer (a click meant for "Advance
 * to Shipped" once moved an order to "Out for Delivery"): while the pointer is on a row's
 * actions, a pushed change redraws the rest of the row and the actions wait until the
 * pointer leaves. A click meanwhile still sends the status its button was drawn for
 * (data-from), which the server refuses with who changed the order, if anyone did.
 * An actions cell whose buttons would come out the same (equal actions key) is never
 * rebuilt, hovered or not: a press and its release must land on the same button for the
 * click to happen at all, and a redraw between them (a tag, a note) swallowed the click.
 *
 * Focus put back after a redraw never scrolls (`preventScroll`): the focused row may be
 * off-screen (focus stays on a row after a click on it), and focus() would scroll it into
 * view, moving the whole list under a pointer that is aiming at another row.
 */
import { el } from "../lib/dom.js";
import { hovered } from "../lib/pointer.js";
import { timeElement } from "../lib/shop-time.js";
import { capitalize, formatCount } from "../lib/text.js";
import { actionButtons, actionsKey, badge } from "./order-markup.js";

const latest = new WeakMap(); // row → the summary its held actions wait to show

function cell(label, className) {
  const td = el("td", className || null);
  if (label) td.setAttribute("data-label", label);
  return td;
}

function selectCell(o, selected) {
  const td = el("td", "select");
  const box = el("input", "row-select");
  box.type = "checkbox";
  box.setAttribute("data-select", "");
  box.setAttribute("aria-label", "Select " + o.order_number);
  box.checked = !!selected;
  td.appendChild(box);
  return td;
}

/** The customer's admin page (its URL template is on #dashboard, from url_for). */
function customerCell(o) {
  const td = cell("Customer");
  const root = document.getElementById("dashboard");
  const tpl = root && root.dataset.customerUrlTemplate;
  if (!o.username || !tpl) {
    td.textContent = o.username || "—";
    return td;
  }
  const link = el("a", "customer-link", o.username);
  link.href = tpl.replace("__name__", encodeURIComponent(o.username));
  td.appendChild(link);
  return td;
}

/** The order's tags, each a link to the view of that tag. */
function tagList(tags) {
  const span = el("span", "tag-list");
  span.setAttribute("data-row-tags", "");
  for (const t of tags || []) {
    const link = el("a", "tag", t);
    link.href = "?tag=" + encodeURIComponent(t);
    span.appendChild(link);
  }
  return span;
}

function actionsCell(o) {
  const td = cell(null, "actions");
  const group = el("div", "action-group");
  actionButtons(o, group, false);
  td.appendChild(group);
  return td;
}

function drawActions(tr) {
  const o = latest.get(tr);
  latest.delete(tr);
  const old = tr.querySelector("td.actions");
  if (!o || !old) return;
  const focused = old.contains(document.activeElement) ?
    document.activeElement.getAttribute("data-action") : null;
  const fresh = actionsCell(o);
  tr.replaceChild(fresh, old);
  tr.setAttribute("data-actions-key", actionsKey(o));
  if (focused) {
    const again = fresh.querySelector('[data-action="' + focused + '"]') ||
      fresh.querySelector('[data-action="details"]');
    if (again) again.focus({ preventScroll: true });
  }
}

/** Fill `tr` from summary `o`; `selected`: its bulk checkbox is ticked. */
export function fillRow(tr, o, selected) {
  const oldActions = tr.querySelector("td.actions");
  const same = !!oldActions && tr.getAttribute("data-actions-key") === actionsKey(o);
  const hold = !!oldActions && !same && hovered(oldActions);
  // Held actions stay in the DOM (removing the hovered cell would move the pointer's target);
  // unchanged ones too (a rebuilt button between press and release loses the click).
  const keep = hold || same ? oldActions : null;
  const focused = !keep && tr.contains(document.activeElement) ?
    document.activeElement.getAttribute("data-action") : null;
  const rowFocused = document.activeElement === tr;
  const flag = tr.querySelector("[data-row-flag]");
  tr.setAttribute("data-order-id", o.id);
  tr.setAttribute("data-status", o.status || "");
  tr.setAttribute("data-cancelled", o.cancelled ? "true" : "false");
  tr.setAttribute("data-updated-at", o.updated_at || "");
  tr.setAttribute("data-date-ordered", o.date_ordered || "");
  tr.setAttribute("data-total", String(Number(o.total_credits) || 0));
  tr.setAttribute("data-tags", (o.tags || []).join("|"));
  tr.tabIndex = -1;
  for (const child of Array.from(tr.children)) if (child !== keep) tr.removeChild(child);
  const add = (node) => tr.insertBefore(node, keep);

  add(selectCell(o, selected));
  const tdNum = cell("Order");
  tdNum.appendChild(el("span", "order-number", o.order_number));
  const newFlag = flag || el("span", "row-flag");
  if (!flag) {
    newFlag.setAttribute("data-row-flag", "");
    newFlag.hidden = true;
  }
  tdNum.appendChild(newFlag);
  tdNum.appendChild(tagList(o.tags));
  add(tdNum);
  add(customerCell(o));
  const tdStatus = cell("Status");
  tdStatus.appendChild(badge(o.status, o.cancelled));
  add(tdStatus);
  add(cell("Total", "num")).textContent = formatCount(o.total_credits) + " cr";
  add(cell("Delivery")).textContent = capitalize(o.delivery_method);
  const tdDate = cell("Ordered");
  if (o.date_ordered) tdDate.appendChild(timeElement(o.date_ordered));
  add(tdDate);

  if (hold) {
    if (!latest.has(tr)) {
      oldActions.addEventListener("pointerleave", () => drawActions(tr), { once: true });
    }
    latest.set(tr, o);
    return;
  }
  latest.delete(tr); // held actions that now match again (an undo) need no redraw either
  if (!same) {
    tr.setAttribute("data-actions-key", actionsKey(o));
    tr.appendChild(actionsCell(o));
  }
  if (rowFocused) tr.focus({ preventScroll: true });
  if (focused) {
    const again = tr.querySelector('[data-action="' + focused + '"]') ||
      tr.querySelector('[data-action="details"]');
    if (again) again.focus({ preventScroll: true });
  }
}

/** What a row shows, as much of a summary as sorting and matching need. */
export function rowSummary(tr) {
  const text = (sel) => {
    const n = tr.querySelector(sel);
    return n ? n.textContent.trim() : "";
  };
  return {
    id: Number(tr.getAttribute("data-order-id")),
    order_number: text(".order-number"),
    username: text('td[data-label="Customer"]'),
    status: tr.getAttribute("data-status"),
    cancelled: tr.getAttribute("data-cancelled") === "true",
    date_ordered: tr.getAttribute("data-date-ordered"),
    updated_at: tr.getAttribute("data-updated-at"),
    total_credits: Number(tr.getAttribute("data-total")) || 0,
    tags: (tr.getAttribute("data-tags") || "").split("|").filter(Boolean),
  };
}

/** Server-rendered rows get the key their actions were drawn for. */
export function markRenderedRows(tbody) {
  for (const tr of tbody.querySelectorAll("tr[data-order-id]")) {
    const s = rowSummary(tr);
    const adv = tr.querySelector('[data-action="advance"]');
    s.next_status = adv ? adv.getAttribute("data-next-status") : null;
    tr.setAttribute("data-actions-key", actionsKey(s));
  }
}
