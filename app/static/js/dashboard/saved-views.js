/* Saved views (GET/POST/DELETE /admin/api/views): the chips above the table open a view in
 * one click and show how many orders it matches. The hub keeps the numbers live (`event:
 * views` {counts}, and `view_counts` in the first frame), so a count follows arrivals with
 * no request. "Save this view" names the table's current arguments (private, or shared with
 * every admin); × deletes one of your own. Requests: on_save_view, on_delete_view
 * (requests.json). */
import { el, flash, setBusy } from "../lib/dom.js";
import { postJSON, sendJSON } from "../lib/http.js";
import { formatCount } from "../lib/text.js";
import { toast } from "../lib/toasts.js";
import { openDialog } from "./dialogs.js";

export function createSavedViews(cfg, confirm) {
  const box = document.querySelector("[data-saved-views]");
  const list = box && box.querySelector("[data-saved-view-list]");
  const empty = box && box.querySelector("[data-saved-views-empty]");
  const dialog = document.getElementById("save-view-dialog");
  if (!box || !list) return { apply() {} };
  const form = dialog && dialog.querySelector("form");
  const nameInput = dialog && dialog.querySelector("[name=name]");
  const sharedInput = dialog && dialog.querySelector("[name=shared]");
  const error = dialog && dialog.querySelector("[data-save-view-error]");
  const submit = dialog && dialog.querySelector("[data-save-view-submit]");

  /** Pushed counts {view id: n}: each chip shown says its number, flashed when it moved. */
  function apply(counts) {
    for (const [id, n] of Object.entries(counts || {})) {
      const chip = list.querySelector('[data-saved-view="' + Number(id) + '"]');
      const node = chip && chip.querySelector("[data-view-count]");
      if (!node) continue;
      const text = formatCount(n);
      if (node.textContent !== text) {
        node.textContent = text;
        flash(node);
      }
    }
  }

  function chipFor(v) {
    const li = el("li", "saved-view-item");
    const link = el("a", "chip", v.name);
    link.href = window.location.pathname + (v.query ? "?" + v.query : "");
    link.setAttribute("data-saved-view", v.id);
    link.title = v.shared ? "Shared with every admin" : "Only you see this view";
    const count = el("span", "chip-count", formatCount(v.count || 0));
    count.setAttribute("data-view-count", "");
    link.appendChild(document.createTextNode(" "));
    link.appendChild(count);
    li.appendChild(link);
    const cross = el("button", "chip-remove", "×");
    cross.type = "button";
    cross.setAttribute("data-delete-view", v.id);
    cross.setAttribute("aria-label", "Delete the view " + v.name);
    li.appendChild(cross);
    return li;
  }

  function save(ev) {
    ev.preventDefault();
    error.hidden = true;
    setBusy(submit, true);
    const body = { name: nameInput.value, query: cfg.filterQuery, shared: sharedInput.checked };
    postJSON(cfg.viewsUrl, body).then((data) => {
      list.appendChild(chipFor(data.view));
      if (empty) empty.hidden = true;
      dialog.close();
      toast("Saved the view “" + data.view.name + "”.", { type: "success" });
    }).catch((err) => {
      error.textContent = err.message;
      error.hidden = false;
    }).finally(() => setBusy(submit, false));
  }

  async function remove(button) {
    const id = button.getAttribute("data-delete-view");
    const chip = list.querySelector('[data-saved-view="' + Number(id) + '"]');
    const name = chip ? chip.firstChild.textContent.trim() : "this view";
    const ok = await confirm({ title: "Delete the view “" + name + "”?",
      text: "The orders stay as they are; only the shortcut goes.", yes: "Delete view" });
    if (!ok) return;
    sendJSON("DELETE", cfg.viewsUrl + "/" + encodeURIComponent(id)).then(() => {
      button.closest("li").remove();
      if (empty) empty.hidden = !!list.querySelector("li");
    }).catch((err) => toast(err.message, { type: "error", title: "Could not delete" }));
  }

  box.addEventListener("click", (ev) => {
    const del = ev.target.closest("[data-delete-view]");
    if (del) remove(del);
    if (ev.target.closest("[data-save-view]") && dialog) {
      form.reset();
      error.hidden = true;
      openDialog(dialog);
      nameInput.focus();
    }
  });
  if (form) form.addEventListener("submit", save);
  return { apply };
}
