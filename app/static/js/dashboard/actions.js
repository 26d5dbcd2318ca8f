/* The row and dialog buttons: Details, Advance, Cancel.
 * - A move sends the status its button was drawn for ({status, from}); a stale one comes
 *   back 409 naming who changed the order and when, shown as such, and the row shows the
 *   order as it is now (the 409 carries it).
 * - Moving to Delivered asks first (the customer is told it arrived).
 * - Every advance and cancel offers Undo for UNDO_SECONDS (undo.js).
 * - After a move, keyboard focus goes back to the row (or the dialog): its next action.
 * - A click acts on the order whose row was under the pointer when it went down, with the
 *   status its button showed then (hold.js `pressed`), whatever moved meanwhile.
 * An answer redraws the row at once; the counters follow from the stream, or the next poll
 * while it is down. Requests: on_advance, on_cancel (requests.json). */
import { setBusy } from "../lib/dom.js";
import { postJSON, urlFor } from "../lib/http.js";
import { toast } from "../lib/toasts.js";
import { createCancelDialog } from "./cancel-dialog.js";
import { confirmAction } from "./confirm.js";
import { createUndo } from "./undo.js";

/** The summary a table row needs, from the details shape an action answers with. */
export function summaryFromDetails(o) {
  return {
    id: o.id,
    order_number: o.order_number,
    status: o.status,
    username: o.customer ? o.customer.username : o.username,
    email: o.customer ? o.customer.email : o.email,
    total_credits: o.total_credits,
    delivery_method: o.delivery_method,
    date_ordered: o.date_ordered,
    updated_at: o.updated_at,
    cancelled: o.cancelled,
    cancellation_reason: o.cancellation_reason,
    estimated_delivery: o.estimated_delivery,
    actual_delivery: o.actual_delivery,
    next_status: o.next_status,
    tags: o.tags || [],
    refunded_credits: o.refunded_credits || 0,
    carrier: o.carrier || null,
    tracking_number: o.tracking_number || null,
  };
}

function orderIdOf(button, hold) {
  const press = hold && hold.pressed(button);
  if (press && press.id) return press.id;
  const id = button.getAttribute("data-order-id");
  if (id) return id;
  const tr = button.closest("tr[data-order-id]");
  return tr ? tr.getAttribute("data-order-id") : null;
}

export function bindActions(cfg, feed, details, hold) {
  const cancelDialog = createCancelDialog();

  function apply(order) {
    feed.upsert(summaryFromDetails(order));
    details.showIfOpen(order);
  }
  const undo = createUndo(cfg, apply);

  function orderNumberOf(id) {
    const tr = feed.findRow(id);
    const n = tr && tr.querySelector(".order-number");
    if (n) return n.textContent;
    return details.shownNumber(id) || "#" + id;
  }

  /** After a move, focus the order's next action where the admin was (row or dialog),
   *  unless focus has gone somewhere else meanwhile. Never by scrolling: the answer may come
   *  seconds later, with the admin's pointer aiming at another row. */
  function refocus(id, inDialog) {
    const active = document.activeElement;
    const scope = inDialog ? details.dialog : feed.findRow(id);
    if (!scope || (active && active !== document.body && !scope.contains(active))) return;
    const target = scope.querySelector('[data-action="advance"]:not(:disabled)') ||
      (inDialog ? scope.querySelector("[data-close-dialog].btn") :
        scope.querySelector('[data-action="details"]'));
    if (target) target.focus({ preventScroll: true });
  }

  /** A refusal: say why; a 409 carries the order as it is now, shown at once. */
  function refused(err, number) {
    const stale = err.status === 409 && err.data && err.data.changed;
    toast(err.message, { type: "error",
      title: stale ? "Not changed: " + number + " had changed" : "Could not update " + number });
    if (err.status === 409 && err.data && err.data.order) apply(err.data.order);
  }

  async function advance(button) {
    const id = orderIdOf(button, hold);
    const press = hold && hold.pressed(button);
    const from = (press && press.from) || button.getAttribute("data-from") || undefined;
    const next = button.getAttribute("data-next-status");
    if (!id || !next) return;
    const inDialog = !!button.closest("dialog");
    const number = orderNumberOf(id);
    if (next === "Delivered" && !(await confirmAction({
      title: "Mark " + number + " as delivered?",
      text: "The customer is told their order has arrived. You can undo it for " +
        Math.round(cfg.undoMs / 1000) + " s.",
      yes: "Mark delivered",
    }))) {
      if (button.isConnected) button.focus();
      return;
    }
    setBusy(button, true);
    const body = { status: next, from };
    postJSON(urlFor(cfg.statusTpl, id), body).then((data) => {
      apply(data.order);
      refocus(id, inDialog);
      undo.offer(data.order, data.activity, number + " moved to " + data.order.status + ".");
    }).catch((err) => {
      if (button.isConnected) setBusy(button, false);
      refused(err, number);
      refocus(id, inDialog);
    });
  }

  function cancel(button) {
    const id = orderIdOf(button, hold);
    if (!id) return;
    const number = orderNumberOf(id);
    const press = hold && hold.pressed(button);
    const from = (press && press.from) || button.getAttribute("data-from") || undefined;
    const inDialog = !!button.closest("dialog");
    cancelDialog.open({
      what: number,
      orderId: id,
      from,
      // `seen`: the status the dialog shows now (it follows the order while open).
      submit: (reason, seen) => postJSON(urlFor(cfg.cancelTpl, id), { reason, from: seen })
        .then((data) => {
          apply(data.order);
          undo.offer(data.order, data.activity,
            number + " was cancelled and the customer refunded.");
          setTimeout(() => refocus(id, inDialog), 0); // once the cancel dialog has closed
        }).catch((err) => {
          refused(err, number);
          throw err;
        }),
    });
  }

  document.addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    const action = button.getAttribute("data-action");
    if (action === "details") details.open(orderIdOf(button, hold));
    else if (action === "advance") advance(button);
    else if (action === "cancel") cancel(button);
  });

  return { undoLast: undo.undoLast, cancelDialog };
}
