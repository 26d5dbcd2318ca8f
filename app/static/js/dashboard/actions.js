/* The row and dialog buttons: Details, Advance status, and Cancel (with its reason dialog).
 * An answer (or a 409 that carries the order's current state) redraws the row at once; the
 * counters follow from the stream, or from the next poll while it is down. */
import { closeDialog, openDialog } from "./dialogs.js";
import { urlFor } from "./dom.js";

const OP = window.OrderPulse;
const REASON_MAX = 300;

/** The summary a table row needs, from the details shape an action answers with. */
function summaryFromDetails(o) {
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
  };
}

function orderIdOf(button) {
  const id = button.getAttribute("data-order-id");
  if (id) return id;
  const tr = button.closest("tr[data-order-id]");
  return tr ? tr.getAttribute("data-order-id") : null;
}

function setBusy(button, busy, label) {
  if (busy) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.dataset.label = button.textContent;
    if (label) button.textContent = label;
  } else {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    if (button.dataset.label) button.textContent = button.dataset.label;
  }
}

export function bindActions(cfg, feed, details) {
  const cancelDialog = document.getElementById("cancel-dialog");
  const cancelForm = document.getElementById("cancel-form");
  const reasonInput = document.getElementById("cancel-reason");
  const cancelCount = cancelDialog && cancelDialog.querySelector("[data-cancel-count]");
  const cancelError = cancelDialog && cancelDialog.querySelector("[data-cancel-error]");
  const cancelSubmit = cancelDialog && cancelDialog.querySelector("[data-cancel-submit]");
  let cancelId = null;

  function applyResult(order) {
    feed.upsert(summaryFromDetails(order), null);
    details.showIfOpen(order);
  }

  /** A refusal that says what the order looks like now (409): show that state. */
  function applyRefusal(err) {
    if (err.status === 409 && err.data && err.data.order) applyResult(err.data.order);
  }

  function orderNumberOf(id) {
    const tr = feed.findRow(id);
    const n = tr && tr.querySelector(".order-number");
    if (n) return n.textContent;
    return details.shownNumber(id) || "#" + id;
  }

  function advance(button) {
    const id = orderIdOf(button);
    const next = button.getAttribute("data-next-status");
    if (!id || !next) return;
    const number = orderNumberOf(id);
    setBusy(button, true, "Saving…");
    OP.postJSON(urlFor(cfg.statusTpl, id), { status: next }).then((data) => {
      applyResult(data.order);
      OP.toast(number + " is now " + data.order.status + ".", { type: "success" });
    }).catch((err) => {
      if (button.isConnected) setBusy(button, false);
      OP.toast(err.message, { type: "error", title: "Could not update " + number });
      applyRefusal(err);
    });
  }

  function setCancelError(message) {
    if (!cancelError) return;
    cancelError.textContent = message || "";
    cancelError.hidden = !message;
    if (reasonInput) reasonInput.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function openCancel(button) {
    const id = orderIdOf(button);
    if (!id || !cancelDialog) return;
    cancelId = id;
    cancelDialog.querySelector("[data-cancel-number]").textContent = orderNumberOf(id);
    reasonInput.value = "";
    if (cancelCount) cancelCount.textContent = "0";
    setCancelError("");
    if (cancelSubmit) setBusy(cancelSubmit, false);
    openDialog(cancelDialog);
    reasonInput.focus();
  }

  function submitCancel(ev) {
    ev.preventDefault();
    const id = cancelId;
    const reason = reasonInput.value.trim();
    if (!reason) {
      setCancelError("Please give a reason for the customer.");
      reasonInput.focus();
      return;
    }
    if (reason.length > REASON_MAX) {
      setCancelError("Keep the reason to 300 characters or fewer.");
      reasonInput.focus();
      return;
    }
    const number = orderNumberOf(id);
    setBusy(cancelSubmit, true, "Cancelling…");
    OP.postJSON(urlFor(cfg.cancelTpl, id), { reason }).then((data) => {
      setBusy(cancelSubmit, false);
      closeDialog(cancelDialog);
      applyResult(data.order);
      OP.toast(number + " was cancelled and the customer refunded.", { type: "success" });
    }).catch((err) => {
      setBusy(cancelSubmit, false);
      setCancelError(err.message);
      OP.toast(err.message, { type: "error", title: "Could not cancel " + number });
      applyRefusal(err);
    });
  }

  if (reasonInput) {
    reasonInput.addEventListener("input", () => {
      if (cancelCount) cancelCount.textContent = String(reasonInput.value.length);
      if (reasonInput.value.trim()) setCancelError("");
    });
  }
  if (cancelForm) cancelForm.addEventListener("submit", submitCancel);

  document.addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    const action = button.getAttribute("data-action");
    if (action === "details") details.open(orderIdOf(button));
    else if (action === "advance") advance(button);
    else if (action === "cancel") openCancel(button);
  });
}
