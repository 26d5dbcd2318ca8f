/* Bulk selection: checkboxes on rows (cards on phones) and one for the page,
 * "Select all N matching" for the current view (GET /admin/api/orders/ids?<view>: up to
 * 500 ids), then advance or cancel them with one reason (POST /admin/api/orders/bulk), with
 * each order's result shown; tag them (one tag added or removed); print their packing slips.
 * Rows move from the answer at once, and every dashboard follows from the stream as usual.
 * Requests: on_select_all_matching, on_bulk_advance, on_bulk_cancel, on_bulk_tag
 * (requests.json); the packing slips open as a page of their own.
 *
 * A bulk action means what the page showed (docs/design.md §5a): each selected order keeps
 * the status it showed when it was ticked (`seen`), sent as `from`; the server refuses an
 * order that moved meanwhile and names who moved it, listed here with the others' results.
 * A selected order that leaves the view (pushed changes) leaves the selection, and the bar
 * says so. "Select all N matching" asks for the view as of the version its N was counted
 * at (`version`), so it selects those N and never an order that arrived since. */
import { clear, el } from "../lib/dom.js";
import { getJSON, postJSON } from "../lib/http.js";
import { toast } from "../lib/toasts.js";
import { fromOf, leavers, leftText, shownStatus } from "./hold-rules.js";
import { rowSummary } from "./rows.js";

export function createBulk(cfg, feed, selection, hooks) {
  const bar = document.querySelector("[data-bulk-bar]");
  const tbody = document.querySelector("[data-orders-body]");
  const pageBox = document.querySelector("[data-select-page]");
  if (!bar || !tbody) return { render() {}, follow() {} };
  const countText = bar.querySelector("[data-bulk-count]");
  const allButton = bar.querySelector("[data-bulk-all]");
  const results = bar.querySelector("[data-bulk-results]");
  const summary = bar.querySelector("[data-bulk-results-summary]");
  const failures = bar.querySelector("[data-bulk-failures]");
  const note = bar.querySelector("[data-bulk-note]");
  const seen = new Map(); // id → the status the page showed when it was selected
  let busy = false;

  function render() {
    const n = selection.size;
    const hidden = !n && results.hidden && (!note || note.hidden);
    if (bar.hidden !== hidden) hooks.hold.steady(() => { bar.hidden = hidden; });
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

  /** Select (`on`) or deselect `ids`; `shown(id)` gives each selected one's status as
   *  the page shows it now. */
  function set(ids, on, shown) {
    for (const id of ids) {
      if (on) {
        selection.add(id);
        seen.set(id, shown(id));
      } else {
        selection.delete(id);
        seen.delete(id);
      }
    }
    feed.refreshSelection();
    render();
    hooks.hold.check(); // an empty selection may end the list's hold
  }

  const shownOnPage = (id) => {
    const tr = feed.findRow(id);
    return tr ? shownStatus(rowSummary(tr)) : null;
  };

  function say(text) {
    if (!note) return;
    note.textContent = text;
    note.hidden = !text;
  }

  /** Pushed summaries: selected orders that no longer match the view leave the selection. */
  function follow(orders) {
    const gone = leavers(orders, selection, hooks.matches);
    if (!gone.length) return;
    set(gone.map((o) => Number(o.id)), false);
    say(leftText(gone));
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
        continue;
      }
      const number = r.order ? r.order.order_number : numberOf(r.id);
      const item = el("li", null, r.error.startsWith(number) ? r.error : number + ": " + r.error);
      if (r.changed) item.setAttribute("data-changed-by", r.changed.actor || "");
      failures.appendChild(item);
      if (r.order) {
        // Refused as moved meanwhile: the page now shows it as it is, and so does `seen`.
        hooks.apply(r.order);
        if (selection.has(r.id)) seen.set(r.id, shownStatus(r.order));
      }
    }
    // Refused ones that moved out of the view leave the selection now, not at their frame.
    follow((data.results || []).filter((r) => !r.ok && r.order).map((r) => r.order));
    summary.textContent = verb + " " + data.succeeded + " of " + (data.results || []).length +
      (data.failed ? "; " + data.failed + " could not be:" : ".");
    results.hidden = false;
    set(done, false); // the ones that failed stay selected
  }

  function send(action, reason, extra) {
    const ids = Array.from(selection);
    busy = true;
    render();
    const body = { ids, action, from: fromOf(ids, seen) };
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
    // The view as of the version the button's count was taken at: orders placed since are
    // not among the N it showed.
    const shownCount = feed.count();
    const query = (cfg.filterQuery ? cfg.filterQuery + "&" : "") + "version=" + hooks.version();
    allButton.disabled = true;
    getJSON(cfg.idsUrl + "?" + query).then((data) => {
      set(data.ids, true, (id) => data.seen[String(id)] || shownOnPage(id));
      if (data.total !== shownCount) {
        say(shownCount.toLocaleString("en-US") + " matched when counted; " +
          data.total.toLocaleString("en-US") + " of them still match: those are selected.");
      }
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
    if (!tr) return;
    say("");
    set([Number(tr.getAttribute("data-order-id"))], box.checked, shownOnPage);
  });
  if (pageBox) {
    pageBox.addEventListener("change", () => {
      say("");
      set(feed.rows().filter((tr) => !tr.classList.contains("row-leaving"))
        .map((tr) => Number(tr.getAttribute("data-order-id"))), pageBox.checked, shownOnPage);
    });
  }
  allButton.addEventListener("click", selectAllMatching);
  bar.querySelector('[data-bulk-action="advance"]').addEventListener("click", advance);
  bar.querySelector('[data-bulk-action="cancel"]').addEventListener("click", cancel);
  bar.querySelector('[data-bulk-action="tag"]').addEventListener("click", tag);
  bar.querySelector('[data-bulk-action="slips"]').addEventListener("click", slips);
  bar.querySelector("[data-bulk-clear]").addEventListener("click", () => {
    results.hidden = true;
    say("");
    set(Array.from(selection), false);
  });
  render();
  return { render, follow };
}
