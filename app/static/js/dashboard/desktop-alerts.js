/* Opt-in desktop notifications: asked for on a click of "Desktop alerts" (the
 * browser's permission prompt needs one), remembered per browser. While the tab is hidden
 * or unfocused, new orders gather into bursts (bursts.js: LIVE_BURST_QUIET_MS of quiet ends
 * one, LIVE_BURST_MAX_MS at most): ONE notification per burst, whose text counts every
 * order unseen since the tab was left ("145 new orders since you left this tab") and names
 * the newest; clicking it focuses the tab and opens that order. A browser with several
 * dashboard tabs notifies once: the highest order id notified is shared in localStorage. */
import { createBursts, newOrdersText } from "./bursts.js";

const PREF_KEY = "orderpulse.desktopAlerts";
const SEEN_KEY = "orderpulse.notifiedUpTo";

function stored(key) {
  try { return window.localStorage.getItem(key); } catch (e) { return null; }
}

function store(key, value) {
  try { window.localStorage.setItem(key, value); } catch (e) { /* blocked: per tab only */ }
}

const looking = () => !document.hidden && document.hasFocus();

/** `onOpen(id)` shows an order's details; `burst`: {quietMs, maxMs} (config.js). */
export function createDesktopAlerts(onOpen, burst) {
  const toggle = document.querySelector("[data-desktop-alerts]");
  const supported = "Notification" in window;
  let wanted = stored(PREF_KEY) === "on";
  const unseen = new Map(); // id → order: new since the admin last looked at this tab

  const granted = () => supported && window.Notification.permission === "granted";
  const on = () => wanted && granted();

  function showToggle() {
    if (!toggle) return;
    toggle.hidden = !supported;
    const denied = supported && window.Notification.permission === "denied";
    toggle.textContent = "Desktop alerts: " + (on() ? "on" : denied ? "blocked" : "off");
    toggle.setAttribute("aria-pressed", on() ? "true" : "false");
    toggle.title = denied ? "Notifications are blocked for this site in the browser's settings" :
      "A notification per burst of new orders while this tab is in the background";
  }

  function notify(burstOrders) {
    const upTo = parseInt(stored(SEEN_KEY) || "0", 10) || 0;
    const fresh = burstOrders.filter((o) => Number(o.id) > upTo);
    // Back on the tab meanwhile: the toast and the title count say it already.
    if (!fresh.length || !on() || looking()) return;
    const newest = fresh.reduce((a, b) => (Number(b.id) > Number(a.id) ? b : a));
    store(SEEN_KEY, String(newest.id));
    const title = unseen.size === 1 ? "New order " + newest.order_number :
      newOrdersText(unseen.size) + " since you left this tab";
    const body = (unseen.size > 1 ? "Newest: " + newest.order_number + " from " :
      "From ") + (newest.username || "a customer") + " — " + newest.total_credits + " credits";
    try {
      const note = new window.Notification(title, { body, tag: "orderpulse-new-orders" });
      note.onclick = () => {
        window.focus();
        note.close();
        onOpen(newest.id);
      };
    } catch (e) { /* some browsers only notify from a service worker: the toast remains */ }
  }

  const bursts = createBursts({ quietMs: burst.quietMs, maxMs: burst.maxMs, onEnd: notify });

  /** A new order: counted and part of the current burst if nobody is looking at this tab. */
  function add(order) {
    if (!on() || looking()) return;
    unseen.set(order.id, order);
    bursts.add(order);
  }

  function back() {
    if (!looking()) return;
    unseen.clear();
    bursts.flush(); // nothing to say: the page says it (the away summary)
  }
  document.addEventListener("visibilitychange", back);
  window.addEventListener("focus", back);

  if (toggle) {
    toggle.addEventListener("click", () => {
      if (!supported) return;
      if (on()) {
        wanted = false;
        store(PREF_KEY, "off");
        showToggle();
        return;
      }
      const asked = granted() ? Promise.resolve("granted") :
        Promise.resolve(window.Notification.requestPermission());
      asked.then((answer) => {
        wanted = answer === "granted";
        store(PREF_KEY, wanted ? "on" : "off");
        showToggle();
      });
    });
  }
  showToggle();

  return { add, isOn: on };
}
