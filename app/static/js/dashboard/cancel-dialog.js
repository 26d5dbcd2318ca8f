/* The cancel dialog: one reason for one order (POST …/cancel with the status its button
 * showed) or for the bulk selection (bulk.js sends it). The reason is checked here as the
 * server checks it (1..300 characters) before anything is sent. */
import { setBusy } from "../lib/dom.js";
import { closeDialog, openDialog } from "./dialogs.js";

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
  const help = dialog.querySelector("[data-cancel-help]");
  const helpText = help ? help.textContent : "";
  let onSubmit = null;

  function setError(message) {
    if (!error) return;
    error.textContent = message || "";
    error.hidden = !message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  /** opts: {what (e.g. "ORD-…" or "12 orders"), help, button, submit(reason)}. */
  function open(opts) {
    onSubmit = opts.submit;
    number.textContent = opts.what;
    if (help) help.textContent = opts.help || helpText;
    submitButton.textContent = opts.button || "Cancel order";
    input.value = "";
    if (count) count.textContent = "0";
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
    onSubmit(reason).then(() => {
      setBusy(submitButton, false);
      closeDialog(dialog);
    }).catch((err) => {
      setBusy(submitButton, false);
      setError(err.message);
    });
  });
  input.addEventListener("input", () => {
    if (count) count.textContent = String(input.value.length);
    if (input.value.trim()) setError("");
  });

  return { open };
}
