/* Opt-in desktop notifications (issue 12): asked for on a click of "Desktop alerts" (the
 * browser's permission prompt needs one), remembered per browser. While the tab is hidden
 * or unfocused, new orders gather into a burst: once none has come for QUIET_MS (or
 * MAX_WAIT_MS after the first), ONE notification says "3 new orders" and names the newest;
 * clicking it focuses the tab and opens that order. A browser with several dashboard tabs
 * notifies once: the highest order id notified is shared in localStorage. */

const PREF_KEY = "orderpulse.desktopAlerts";
const SEEN_KEY = "orderpulse.notifiedUpTo";
const QUIET_MS = 1000;
const MAX_WAIT_MS = 4000;

function stored(key) {
  try { return window.localStorage.getItem(key); } catch (e) { return null; }
}

function store(key, value) {
  try { window.localStorage.setItem(key, value); } catch (e) { /* blocked: per tab only */ }
}

/** `onOpen(id)` shows an order's details. */
export function createDesktopAlerts(onOpen) {
  const toggle = document.querySelector("[data-desktop-alerts]");
  const supported = "Notification" in window;
  let wanted = stored(PREF_KEY) === "on";
  let burst = []; // orders gathered while hidden
  let quietTimer = null;
  let maxTimer = null;

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

  function flush() {
    clearTimeout(quietTimer);
    clearTimeout(maxTimer);
    quietTimer = maxTimer = null;
    const upTo = parseInt(stored(SEEN_KEY) || "0", 10) || 0;
    const fresh = burst.filter((o) => Number(o.id) > upTo);
    burst = [];
    // Back on the tab meanwhile: the toast and the title count say it already.
    if (!fresh.length || !on() || (!document.hidden && document.hasFocus())) return;
    const newest = fresh.reduce((a, b) => (Number(b.id) > Number(a.id) ? b : a));
    store(SEEN_KEY, String(newest.id));
    const title = fresh.length === 1 ? "New order " + newest.order_number :
      fresh.length + " new orders";
    const body = (fresh.length > 1 ? "Newest: " + newest.order_number + " from " :
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

  /** A new order: part of the current burst if nobody is looking at this tab. */
  function add(order) {
    if (!on() || (!document.hidden && document.hasFocus())) return;
    burst.push(order);
    clearTimeout(quietTimer);
    quietTimer = setTimeout(flush, QUIET_MS);
    if (!maxTimer) maxTimer = setTimeout(flush, MAX_WAIT_MS);
  }

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
