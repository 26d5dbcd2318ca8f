/* Bulk selection (issue 13's UI): checkboxes on rows (cards on phones) and one for the page,
 * "Select all N matching" for the current view (GET /admin/api/orders/ids?<view>: up to
 * 500 ids), then advance or cancel them with one reason (POST /admin/api/orders/bulk), with
 * each order's result shown; tag them (one tag added or removed); print their packing slips.
 * Rows move from the answer at once, and every dashboard follows from the stream as usual.
 * Requests: on_select_all_matching, on_bulk_advance, on_bulk_cancel, on_bulk_tag
 * (requests.json); the packing slips open as a page of their own. */
import { clear, el } from "../lib/dom.js";
import { getJSON, postJSON } from "../lib/http.js";
import { toast } from "../lib/toasts.js";

export function createBulk(cfg, feed, selection, hooks) {
  const bar = document.querySelector("[data-bulk-bar]");
  const tbody = document.querySelector("[data-orders-body]");
  const pageBox = document.querySelector("[data-select-page]");
  if (!bar || !tbody) return { render() {} };
  const countText = bar.querySelector("[data-bulk-count]");
  const allButton = bar.querySelector("[data-bulk-all]");
  const results = bar.querySelector("[data-bulk-results]");
  const summary = bar.querySelector("[data-bulk-results-summary]");
  const failures = bar.querySelector("[data-bulk-failures]");
  let busy = false;

  function render() {
    const n = selection.size;
    bar.hidden = !n && results.hidden;
    countText.textContent = n === 1 ? "1 selected" : n + " selected";
    const total = feed.count();
    allButton.hidden = !n || total <= n;
    allButton.textContent = "Select all " + total.toLocaleString("en-US") + " matching";
    for (const b of bar.querySelectorAll("[data-bulk-action]")) b.disabled = !n || busy;
    if (pageBox) {
      const ids = feed.rows().map((tr) => Number(tr.getAttribute("data-order-id")));
      const picked = ids.filter((id) => selection.has(id)).length;
      pageBox.checked = !!ids.length && picked === ids.length;
      pageBox.indeterminate = picked > 0 && picked < ids.length;
    }
  }

  function set(ids, on) {
    for (const id of ids) if (on) selection.add(id); else selection.delete(id);
    feed.refreshSelection();
    render();
  }

  function numberOf(id) {
    const tr = feed.findRow(id);
    const n = tr && tr.querySelector(".order-number");
    return n ? n.textContent : "#" + id;
  }

  function showResults(data, verb) {
    const done = [];
    clear(failures);
    for (const r of data.results || []) {
      if (r.ok) {
        hooks.apply(r.order);
        done.push(r.id);
      } else {
        failures.appendChild(el("li", null, numberOf(r.id) + ": " + r.error));
      }
    }
    summary.textContent = verb + " " + data.succeeded + " of " + (data.results || []).length +
      (data.failed ? "; " + data.failed + " could not be:" : ".");
    results.hidden = false;
    set(done, false); // the ones that failed stay selected
  }

  function send(action, reason, extra) {
    const ids = Array.from(selection);
    busy = true;
    render();
    const body = { ids, action };
    if (reason) body.reason = reason;
    Object.assign(body, extra || {});
    return postJSON(cfg.bulkUrl, body).then((data) => {
      showResults(data, { advance: "Advanced", cancel: "Cancelled", tag: "Tagged" }[action]);
    }).finally(() => {
      busy = false;
      render();
    });
  }

  async function advance() {
    const n = selection.size;
    const ok = await hooks.confirm({
      title: "Advance " + n + (n === 1 ? " order" : " orders") + " one step?",
      text: "Each moves to its next status; those out for delivery are marked Delivered and " +
        "their customers told. Orders that cannot move are listed after.",
      yes: "Advance " + n,
    });
    if (!ok) return;
    send("advance").catch((err) => toast(err.message, { type: "error",
      title: "Bulk advance failed" }));
  }

  function cancel() {
    const n = selection.size;
    hooks.cancelDialog.open({
      what: n + (n === 1 ? " order" : " orders"),
      button: "Cancel " + n + (n === 1 ? " order" : " orders"),
      help: "Each customer is refunded and sees this reason on their tracking page.",
      submit: (reason) => send("cancel", reason),
    });
  }

  /** Tag the selection: one tag added to or removed from each order. */
  function tag() {
    const dialog = document.getElementById("bulk-tag-dialog");
    if (!dialog) return;
    const n = selection.size;
    const form = dialog.querySelector("form");
    const error = dialog.querySelector("[data-bulk-tag-error]");
    form.reset();
    error.hidden = true;
    dialog.querySelector("[data-bulk-tag-what]").textContent =
      n + (n === 1 ? " order" : " orders");
    form.onsubmit = (ev) => {
      ev.preventDefault();
      const name = form.elements.tag.value;
      const mode = form.elements.mode.value;
      send("tag", null, { [mode]: [name] }).then(() => dialog.close()).catch((err) => {
        error.textContent = err.message;
        error.hidden = false;
      });
    };
    hooks.openDialog(dialog);
    form.elements.tag.focus();
  }

  /** The selection's packing slips, one order per printed page, in a new tab. */
  function slips() {
    const ids = Array.from(selection).slice(0, 500).join(",");
    window.open(cfg.packingSlipsUrl + "?ids=" + ids, "_blank", "noopener");
  }

  function selectAllMatching() {
    const url = cfg.idsUrl + (cfg.filterQuery ? "?" + cfg.filterQuery : "");
    allButton.disabled = true;
    getJSON(url).then((data) => {
      set(data.ids, true);
      if (data.truncated) {
        toast("The first " + data.limit + " of " + data.total.toLocaleString("en-US") +
          " matching orders are selected (" + data.limit + " per bulk action).", {});
      }
    }).catch((err) => toast(err.message, { type: "error", title: "Could not select" }))
      .finally(() => { allButton.disabled = false; });
  }

  tbody.addEventListener("change", (ev) => {
    const box = ev.target.closest("[data-select]");
    const tr = box && box.closest("tr[data-order-id]");
    if (tr) set([Number(tr.getAttribute("data-order-id"))], box.checked);
  });
  if (pageBox) {
    pageBox.addEventListener("change", () => set(
      feed.rows().map((tr) => Number(tr.getAttribute("data-order-id"))), pageBox.checked));
  }
  allButton.addEventListener("click", selectAllMatching);
  bar.querySelector('[data-bulk-action="advance"]').addEventListener("click", advance);
  bar.querySelector('[data-bulk-action="cancel"]').addEventListener("click", cancel);
  bar.querySelector('[data-bulk-action="tag"]').addEventListener("click", tag);
  bar.querySelector('[data-bulk-action="slips"]').addEventListener("click", slips);
  bar.querySelector("[data-bulk-clear]").addEventListener("click", () => {
    results.hidden = true;
    set(Array.from(selection), false);
  });
  render();
  return { render };
}
