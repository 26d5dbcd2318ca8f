/* Keyboard shortcuts, listed in the "?" dialog (admin/_dialogs.html):
 * j / k next / previous row, Enter details of the focused row, a advance it, c cancel it,
 * x select it, u undo the newest change still on offer, / search, ? the list.
 * Ignored while typing in a field, with a modifier key held, or while a dialog is open (its
 * own keys apply there: Tab, Enter, Escape). Rows take focus (tabindex=-1) but stay out of
 * the Tab order, so Tab still walks the controls. */
import { openDialog } from "./dialogs.js";

function typing(target) {
  return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]");
}

export function bindKeyboard(feed, hooks) {
  const search = document.getElementById("orders-q");
  const help = document.getElementById("shortcuts-dialog");
  const helpButton = document.querySelector("[data-show-shortcuts]");

  function currentRow() {
    const active = document.activeElement;
    return active && active.closest ? active.closest("tr[data-order-id]") : null;
  }

  function move(step) {
    const rows = feed.rows();
    if (!rows.length) return;
    const here = rows.indexOf(currentRow());
    const next = here < 0 ? (step > 0 ? 0 : rows.length - 1) :
      Math.min(rows.length - 1, Math.max(0, here + step));
    rows[next].focus();
    rows[next].scrollIntoView({ block: "nearest" });
  }

  function press(row, action) {
    const button = row && row.querySelector('[data-action="' + action + '"]:not(:disabled)');
    if (button) button.click();
    return !!button;
  }

  function showHelp() {
    if (help) openDialog(help);
  }
  if (helpButton) helpButton.addEventListener("click", showHelp);

  document.addEventListener("keydown", (ev) => {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (typing(ev.target) || document.querySelector("dialog[open]")) return;
    const row = currentRow();
    let handled = true;
    switch (ev.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "/": if (search) { search.focus(); search.select(); } break;
      case "?": showHelp(); break;
      case "u": handled = hooks.undoLast(); break;
      case "a": handled = press(row, "advance"); break;
      case "c": handled = press(row, "cancel"); break;
      case "x": {
        const box = row && row.querySelector("[data-select]");
        if (box) box.click();
        handled = !!box;
        break;
      }
      case "Enter":
        // On a button Enter clicks it; on the row itself it opens the details.
        handled = !!row && ev.target === row && press(row, "details");
        break;
      default: handled = false;
    }
    if (handled) ev.preventDefault();
  });
}
