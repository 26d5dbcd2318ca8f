/* Presence on the dashboard (docs/design.md §5a): who else has it open (beside the live
 * pill), who is viewing or acting on each order (a line under its number, and in an open
 * dialog), and what a colleague just did to the order an open dialog shows.
 *
 * Everything shown comes from `event: presence` frames (the whole table, sent when it
 * changes) and `event: order` frames; nothing is polled. What this page tells the server
 * goes only on its admin's own actions (requests.json): opening the details rides the
 * details request itself; opening the cancel dialog, closing a dialog and closing the tab
 * with a dialog open each send one POST /admin/api/presence. The server renews presence
 * while the stream is open, and the stream's URL names the open dialog when it reconnects.
 */
import { clear, el } from "../lib/dom.js";
import { csrfToken, postJSON } from "../lib/http.js";
import { byOrder, changeText, focusText, othersHere } from "./presence-text.js";

function setLine(node, text) {
  if (!node) return;
  if (node.textContent !== text) node.textContent = text;
  node.hidden = !text;
}

/** hooks: {details (details.js), cancelDialog (cancel-dialog.js), stream (stream-leader.js:
 *  setFocus)}. Returns {apply(presence frame), orderChanged(order frame)}. */
export function createPresence(cfg, hooks) {
  const { details, cancelDialog, stream } = hooks;
  const bar = document.querySelector("[data-presence]");
  const list = bar && bar.querySelector("[data-presence-list]");
  const tbody = document.querySelector("[data-orders-body]");
  const detailsDialog = details.dialog;
  const detailsWho = detailsDialog && detailsDialog.querySelector("[data-details-presence]");
  const detailsChange = detailsDialog && detailsDialog.querySelector("[data-details-change]");
  const cancelNode = document.getElementById("cancel-dialog");
  const cancelWho = cancelNode && cancelNode.querySelector("[data-cancel-presence]");
  let admins = [];
  let watchers = {}; // order id → the entries focused on it (not this page's session)
  let told = ""; // this tab's open dialog as last told: "<action>:<order id>" or ""
  let rowsPending = false;

  function numberOf(id) {
    const n = tbody && tbody.querySelector('tr[data-order-id="' + id + '"] .order-number');
    return n ? n.textContent : "order #" + id;
  }

  function renderBar() {
    if (!bar || !list) return;
    const others = othersHere(admins, cfg.presenceSession, cfg.username);
    clear(list);
    for (const person of others) {
      const item = el("li", "presence-person", person.you ? "You (another window)" :
        person.username);
      const doing = admins.filter((a) => a.username === person.username && a.order_id != null &&
        a.session !== cfg.presenceSession);
      item.title = doing.length ?
        doing.map((a) => a.action + " " + numberOf(a.order_id)).join(", ") :
        "On the dashboard";
      list.appendChild(item);
    }
    bar.hidden = others.length === 0;
  }

  /** The line under each row's order number; rows redrawn by the feed get theirs back. */
  function renderRows() {
    rowsPending = false;
    if (!tbody) return;
    for (const tr of tbody.querySelectorAll("tr[data-order-id]")) {
      const entries = watchers[tr.getAttribute("data-order-id")];
      const text = focusText(entries, cfg.username);
      let line = tr.querySelector("[data-presence-line]");
      if (!text) {
        if (line) line.remove();
        continue;
      }
      const number = tr.querySelector(".order-number");
      if (!line && number) {
        line = el("span", "presence-line");
        line.setAttribute("data-presence-line", "");
        number.parentNode.insertBefore(line, number.nextSibling);
      }
      if (!line) continue;
      if (line.textContent !== text) line.textContent = text;
      const acting = entries.some((a) => a.action && a.action !== "viewing");
      line.setAttribute("data-acting", acting ? "true" : "false");
    }
  }

  function scheduleRows() {
    if (rowsPending) return;
    rowsPending = true;
    setTimeout(renderRows, 0); // not requestAnimationFrame: hidden tabs keep up too
  }

  function renderDialogs() {
    const about = (id) => {
      const text = id ? focusText(watchers[id], cfg.username) : "";
      return text ? "Also on this order: " + text + "." : "";
    };
    setLine(detailsWho, about(details.currentId()));
    setLine(cancelWho, about(cancelDialog.currentOrder()));
  }

  function apply(data) {
    admins = data.admins || [];
    watchers = byOrder(admins, cfg.presenceSession);
    renderBar();
    renderRows();
    renderDialogs();
  }

  /** A colleague changed an order: an open dialog showing it says who, what, and what
   *  is left to do (the cancel dialog adapts its own buttons). */
  function orderChanged(event) {
    const text = changeText(event, cfg.username);
    if (!text) return;
    const order = event.order;
    if (details.currentId() === String(order.id)) {
      const next = order.next_status && !order.cancelled ?
        " Next: Advance to " + order.next_status + "?" : "";
      setLine(detailsChange, text + next);
    }
    cancelDialog.follow(order, event.actor);
  }

  // -- what this page tells the server (on its admin's actions only) ---------------------
  function currentFocus() {
    const cancelling = cancelDialog.currentOrder();
    if (cancelling) return "cancelling:" + cancelling;
    const viewing = details.currentId();
    return viewing ? "viewing:" + viewing : "";
  }

  function tell(focus) {
    const [action, id] = focus ? focus.split(":") : [null, null];
    const body = id ? { order_id: Number(id), action } : { order_id: null };
    // Best effort: the next stream (re)connection names the dialog again.
    postJSON(cfg.presenceUrl, body).catch(() => {});
  }

  function dialogsChanged() {
    const focus = currentFocus();
    if (!details.currentId()) setLine(detailsChange, "");
    renderDialogs();
    if (focus === told || !cfg.presenceUrl) return;
    const before = told;
    told = focus;
    stream.setFocus(focus);
    // The details dialog just opened: its own request (with the page's header) said so.
    const opened = focus.startsWith("viewing:") && !before.endsWith(":" + focus.slice(8));
    if (!opened) tell(focus);
  }

  const watch = new MutationObserver(dialogsChanged);
  for (const dialog of [detailsDialog, cancelNode]) {
    if (dialog) watch.observe(dialog, { attributes: true, attributeFilter: ["open"] });
  }
  if (detailsDialog) {
    detailsDialog.addEventListener("close", () => setLine(detailsChange, ""));
  }
  if (tbody) new MutationObserver(scheduleRows).observe(tbody, { childList: true, subtree: true });

  window.addEventListener("pagehide", () => {
    if (!told || !cfg.presenceUrl) return;
    // The tab closes with a dialog open: keepalive lets the request outlive the page.
    fetch(cfg.presenceUrl, {
      method: "POST",
      keepalive: true,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ order_id: null }),
    }).catch(() => {});
    told = "";
  });

  return { apply, orderChanged };
}
