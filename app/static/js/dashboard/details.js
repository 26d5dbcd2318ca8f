/* The order details dialog: loaded once when opened (its items, history and notes), then
 * kept current from pushed data while open, with no request: order summaries (status,
 * dates, cancellation, tags, refunds, tracking) and activity entries (its history: placed,
 * each move, the cancel, undos, notes, tags, refunds, with actor and time). Below them,
 * details-tools.js: tags, notes, shipping with tracking, refunds, the packing slip. The destructive "Cancel order…" sits apart from Close; the action
 * buttons, like a row's, wait while the pointer is on them (a label never changes under it).
 */
import { clear, el } from "../lib/dom.js";
import { getJSON, urlFor } from "../lib/http.js";
import { hovered } from "../lib/pointer.js";
import { openDialog } from "./dialogs.js";
import {
  cancelledBanner, historyItem, itemsTable, summaryGrid,
} from "./details-markup.js";
import { createDetailsTools } from "./details-tools.js";
import { actionButtons, actionsKey } from "./order-markup.js";

// What a pushed order summary can change in an open dialog (its items never change).
const LIVE_KEYS = ["status", "cancelled", "cancellation_reason", "actual_delivery",
  "estimated_delivery", "next_status", "updated_at", "tags", "refunded_credits", "carrier",
  "tracking_number"];
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function closeButton() {
  const close = el("button", "btn btn-ghost btn-sm", "Close");
  close.type = "button";
  close.setAttribute("data-close-dialog", "");
  return close;
}

export function createDetails(cfg, hooks) {
  const dialog = document.getElementById("details-dialog");
  const body = dialog && dialog.querySelector("[data-details-body]");
  const actions = dialog && dialog.querySelector("[data-details-actions]");
  const danger = dialog && dialog.querySelector("[data-details-danger]");
  const foot = actions && actions.parentNode;
  const title = dialog && dialog.querySelector("#details-title");
  let detailsId = null; // the order asked for (set before its data arrives)
  let shown = null; // the order object the dialog shows
  let history = null; // its <ol>
  let heldKey = null; // the actions drawn, while held under the pointer
  let live = null; // the part pushed changes redraw; the tools below it stay
  const tools = createDetailsTools(cfg, hooks);
  if (dialog) dialog.addEventListener("close", () => { detailsId = null; shown = null; });

  function drawActions(o) {
    const focused = foot.contains(document.activeElement) ?
      document.activeElement.getAttribute("data-action") || "close" : null;
    clear(actions);
    clear(danger);
    actionButtons(o, actions, true, danger);
    actions.appendChild(closeButton());
    heldKey = actionsKey(o);
    if (focused) {
      const again = foot.querySelector('[data-action="' + focused + '"]') ||
        actions.querySelector('[data-action="advance"]') ||
        actions.querySelector("[data-close-dialog]");
      again.focus();
    }
  }

  function render(o, entries, notes) {
    const changed = !shown || heldKey !== actionsKey(o);
    shown = o;
    title.textContent = "Order " + o.order_number;
    if (notes || !live) {
      clear(body);
      live = el("div");
      body.append(live, tools.show(o, notes));
    } else {
      tools.update(o);
    }
    clear(live);
    if (o.cancelled) live.appendChild(cancelledBanner(o));
    live.appendChild(summaryGrid(o));
    live.appendChild(el("h3", "details-subtitle", "Items"));
    const wrap = el("div", "items-wrap");
    wrap.appendChild(itemsTable(o.items));
    live.appendChild(wrap);
    live.appendChild(el("h3", "details-subtitle", "History"));
    const old = history;
    history = el("ol", "history-list");
    history.setAttribute("data-history", "");
    if (entries) entries.forEach((a) => history.appendChild(historyItem(a)));
    else if (old) for (const li of Array.from(old.children)) history.appendChild(li);
    live.appendChild(history);
    if (!changed) return;
    if (hovered(foot)) {
      foot.addEventListener("pointerleave", () => { if (shown) drawActions(shown); },
        { once: true });
      return;
    }
    drawActions(o);
  }

  /** Pushed activity entries: those of the order shown join its history, once each. */
  function addActivity(entries) {
    if (!shown || !history) return;
    tools.applyEntries(entries);
    for (const a of entries || []) {
      if (!a || String(a.order_id) !== String(shown.id)) continue;
      if (history.querySelector('[data-history-id="' + Number(a.id) + '"]')) continue;
      history.appendChild(historyItem(a));
    }
  }

  function showError(message) {
    live = null;
    clear(body);
    clear(actions);
    clear(danger);
    body.appendChild(el("p", "notice notice-error", message));
    actions.appendChild(closeButton());
  }

  function load(id) {
    // An answer for an order no longer asked for (the admin moved on) is dropped.
    return getJSON(urlFor(cfg.detailsTpl, id)).then((data) => {
      if (String(detailsId) !== String(id)) return;
      render(data.order, data.history || [], data.notes || []);
    }).catch((err) => {
      if (String(detailsId) !== String(id)) return;
      showError(err.message);
    });
  }

  function open(id) {
    if (!dialog || id == null) return;
    detailsId = id;
    shown = null;
    history = null;
    heldKey = null;
    live = null;
    clear(body);
    clear(actions);
    clear(danger);
    body.appendChild(el("p", "muted", "Loading…"));
    actions.appendChild(closeButton());
    title.textContent = "Order details";
    openDialog(dialog);
    load(id);
  }

  /** A newer summary of the order in the dialog (pushed): redraw with its fields. */
  function refreshIfShowing(summary) {
    if (detailsId == null || String(summary.id) !== String(detailsId)) return;
    if (!shown || !dialog || !dialog.open) return;
    if (summary.updated_at && shown.updated_at && summary.updated_at < shown.updated_at) return;
    const moved = LIVE_KEYS.filter((key) => key in summary && !same(summary[key], shown[key]));
    if (!moved.length) return;
    const merged = Object.assign({}, shown);
    for (const key of moved) merged[key] = summary[key];
    render(merged);
  }

  /** An action's answer: redraw at once if the dialog is showing that order. */
  function showIfOpen(order) {
    if (dialog && dialog.open && shown && String(detailsId) === String(order.id)) {
      render(Object.assign({}, shown, order));
    }
  }

  function shownNumber(id) {
    return shown && String(shown.id) === String(id) ? shown.order_number : null;
  }

  return { dialog, open, refreshIfShowing, showIfOpen, shownNumber, addActivity,
    isOpen: () => !!(dialog && dialog.open),
    /** The order id the open dialog is for (a string), or null. */
    currentId: () => (dialog && dialog.open && detailsId != null ? String(detailsId) : null) };
}
