/* The cancel dialog: one reason for one order (POST …/cancel with the status its button
 * showed) or for the bulk selection (bulk.js sends it). The reason is checked here as the
 * server checks it (1..300 characters) before anything is sent.
 *
 * For one order it follows the order live (docs/design.md §5a): when someone else moves or
 * cancels it meanwhile (`follow`, from pushed frames or a 409's answer), a line says who
 * and what, the typed reason stays, and the admin gets a next step: "Cancel anyway" (from
 * the status now shown) or, when it can no longer be cancelled, only "Close". A failed
 * submit (offline included) keeps the reason and says why.
 *
 * Closing it without cancelling (Esc, "Keep order", the backdrop) keeps the typed reason as
 * a draft for that order (or for the bulk selection): the next open shows it again, and
 * says so. The heading reads "Cancel order ORD-…" for one, "Cancel 87 orders" for many. */
import { setBusy } from "../lib/dom.js";
import { closeDialog, openDialog } from "./dialogs.js";
import { cancelAfterChange } from "./presence-text.js";

const REASON_MAX = 300;

/** `submit(reason)` → a promise: resolved, the dialog closes; rejected with an Error, its
 *  message shows under the reason. */
export function createCancelDialog() {
  const dialog = document.getElementById("cancel-dialog");
  const form = document.getElementById("cancel-form");
  const input = document.getElementById("cancel-reason");
  if (!dialog || !form || !input) return { open() {} };
  const count = dialog.querySelector("[data-cancel-count]");
  const error = dialog.querySelector("[data-cancel-error]");
  const submitButton = dialog.querySelector("[data-cancel-submit]");
  const number = dialog.querySelector("[data-cancel-number]");
  const verb = dialog.querySelector("[data-cancel-verb]");
  const drafts = new Map(); // order id (or "bulk") → the reason typed, not sent
  let sent = false;
  const help = dialog.querySelector("[data-cancel-help]");
  const helpText = help ? help.textContent : "";
  const change = dialog.querySelector("[data-cancel-change]");
  const keep = dialog.querySelector(".dialog-foot [data-close-dialog]");
  const keepText = keep ? keep.textContent : "";
  let onSubmit = null;
  let current = null; // {orderId, from}: the one order this dialog is for (null: bulk)

  function setChange(text) {
    if (!change) return;
    change.textContent = text || "";
    change.hidden = !text;
  }

  function setError(message) {
    if (!error) return;
    error.textContent = message || "";
    error.hidden = !message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  /** opts: {what (e.g. "ORD-…" or "12 orders"), help, button, submit(reason, from),
   *  orderId and from (one order: its id and the status its button showed)}. */
  function open(opts) {
    onSubmit = opts.submit;
    current = opts.orderId != null ? { orderId: String(opts.orderId), from: opts.from } : null;
    dialog.setAttribute("data-order-id", current ? current.orderId : "");
    number.textContent = opts.what;
    if (verb) verb.textContent = current ? "Cancel order" : "Cancel";
    if (help) help.textContent = opts.help || helpText;
    submitButton.textContent = opts.button || "Cancel order";
    submitButton.hidden = false;
    if (keep) keep.textContent = keepText;
    const draft = drafts.get(draftKey()) || "";
    setChange(draft ? "Your reason from before is kept: send it, or change it." : "");
    input.value = draft;
    sent = false;
    if (count) count.textContent = String(draft.length);
    setError("");
    setBusy(submitButton, false);
    openDialog(dialog);
    input.focus();
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const reason = input.value.trim();
    if (!reason) {
      setError("Please give a reason for the customer.");
      input.focus();
      return;
    }
    if (reason.length > REASON_MAX) {
      setError("Keep the reason to 300 characters or fewer.");
      input.focus();
      return;
    }
    if (!onSubmit) return;
    setBusy(submitButton, true);
    onSubmit(reason, current ? current.from : undefined).then(() => {
      setBusy(submitButton, false);
      sent = true;
      drafts.delete(draftKey());
      closeDialog(dialog);
    }).catch((err) => {
      setBusy(submitButton, false);
      if (err.status === 409 && err.data && err.data.order) {
        follow(err.data.order, err.data.changed ? err.data.changed.actor : null);
      }
      setError(err.message);
    });
  });
  input.addEventListener("input", () => {
    if (count) count.textContent = String(input.value.length);
    if (input.value.trim()) setError("");
  });

  function draftKey() {
    return current ? current.orderId : "bulk";
  }

  // However it closes (Esc, Keep order, the backdrop), a reason typed and not sent stays.
  dialog.addEventListener("close", () => {
    if (sent) return;
    if (input.value.trim()) drafts.set(draftKey(), input.value);
    else drafts.delete(draftKey());
  });

  /** `order` (a summary or details) changed, by `actor`: if this dialog is open for it,
   *  say so and offer what still makes sense. */
  function follow(order, actor) {
    if (!current || !dialog.open || !order || String(order.id) !== current.orderId) return;
    const next = cancelAfterChange(order, current.from, actor);
    if (!next.note) return;
    current.from = next.from;
    setChange(next.note);
    submitButton.hidden = !next.canCancel;
    if (next.button) submitButton.textContent = next.button;
    if (keep && !next.canCancel) keep.textContent = "Close";
  }

  return {
    open,
    follow,
    /** The order id this dialog is open for (a string), or null. */
    currentOrder: () => (current && dialog.open ? current.orderId : null),
  };
}
