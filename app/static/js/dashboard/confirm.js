/* "Are you sure?" in the page's own <dialog> (#confirm-dialog): moving an order to
 * Delivered tells the customer it arrived, so it is asked first. */
import { openDialog } from "./dialogs.js";

/** Ask; resolves true for the confirm button, false for "Not now", Escape or the backdrop.
 *  opts: {title, text, yes (the confirm button's label), no}. Without the dialog: true. */
export function confirmAction(opts) {
  const dialog = document.getElementById("confirm-dialog");
  if (!dialog) return Promise.resolve(true);
  dialog.querySelector("[data-confirm-title]").textContent = opts.title;
  dialog.querySelector("[data-confirm-text]").textContent = opts.text;
  const yes = dialog.querySelector("[data-confirm-yes]");
  yes.textContent = opts.yes || "Confirm";
  dialog.querySelector("[data-confirm-no]").textContent = opts.no || "Not now";
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    openDialog(dialog);
    yes.focus();
  });
}
