/* The return to a tab that was hidden. Orders keep arriving while the admin is elsewhere
 * (the table, the title count and the feed follow them); on the return the page says it
 * once: "145 new orders while you were away", and marks each of those rows "new" until
 * the admin has seen it: the row was on screen for SEEN_MS while the tab was shown, the
 * pointer or focus was on it, or "Mark seen" / the summary's "Mark all seen" was pressed.
 * A row that arrives later for one of those orders (Show, a reload) is marked too. */
import { toast } from "../lib/toasts.js";
import { newOrdersText } from "./bursts.js";

const SEEN_MS = 1500;

export function createAway(feed) {
  const unseen = new Set(); // order ids placed while away, not yet seen in the table
  let arrived = []; // orders placed during the current absence
  let summary = null;
  const timers = new WeakMap(); // row → the timer that marks it seen

  function seen(tr) {
    clearTimeout(timers.get(tr));
    tr.classList.remove("row-unseen");
    tr.removeAttribute("data-unseen");
    unseen.delete(Number(tr.getAttribute("data-order-id")));
    if (observer) observer.unobserve(tr);
  }

  const observer = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const tr = entry.target;
      clearTimeout(timers.get(tr));
      if (entry.isIntersecting && !document.hidden) {
        timers.set(tr, setTimeout(() => seen(tr), SEEN_MS));
      }
    }
  }, { threshold: 0.6 }) : null;

  function mark(tr) {
    if (!tr || tr.classList.contains("row-unseen")) return;
    tr.classList.add("row-unseen");
    tr.setAttribute("data-unseen", "");
    tr.addEventListener("pointerenter", () => seen(tr), { once: true });
    tr.addEventListener("focusin", () => seen(tr), { once: true });
    if (observer) observer.observe(tr);
  }

  /** Mark every row of an unseen order that the table holds now. */
  function markRows() {
    for (const id of unseen) mark(feed.findRow(id));
  }

  function markAllSeen() {
    for (const tr of feed.rows()) if (tr.classList.contains("row-unseen")) seen(tr);
    unseen.clear();
  }

  function back() {
    if (document.hidden || !arrived.length) return;
    const orders = arrived;
    arrived = [];
    for (const o of orders) unseen.add(Number(o.id));
    markRows();
    const text = newOrdersText(orders.length) + " while you were away";
    // One summary: it takes the place of the burst's "N new orders" toast.
    const burstToast = document.querySelector('#toasts [data-group="new-orders"]');
    if (burstToast && burstToast.dismiss) burstToast.dismiss(true);
    if (summary && summary.isConnected) summary.dismiss(true);
    summary = toast("Marked New in the table until seen.", {
      type: "new", title: text, group: "away", timeout: 0,
      actions: [{ label: "Mark all seen", onClick: (t) => { t.dismiss(); markAllSeen(); } }],
    });
    summary.setAttribute("data-away-summary", "");
  }

  document.addEventListener("visibilitychange", back);
  // Rows drawn after the return (Show, a reload) for orders not seen yet.
  const tbody = document.querySelector("[data-orders-body]");
  if (tbody) {
    new MutationObserver(() => { if (unseen.size) markRows(); })
      .observe(tbody, { childList: true });
  }

  /** A new order: remembered if the admin is away (the tab is hidden). */
  function add(order) {
    if (document.hidden) arrived.push(order);
  }

  return { add, markAllSeen, unseenCount: () => unseen.size };
}
