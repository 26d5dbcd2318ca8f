/* Telling the admin about new orders: one grouped toast ("5 new orders", the newest named),
 * a chime, an opt-in desktop notification per burst (desktop-alerts.js), an unread count
 * in the badge and the tab title that every tab clears together, and the summary on the
 * return to a hidden tab (away.js). Hidden tabs keep all of it: the title count
 * moves, the chime plays (if on). One chime per burst of orders (bursts.js: orders less
 * than LIVE_BURST_QUIET_MS apart), per browser however many dashboard tabs are open (the
 * last chime's time is shared in localStorage). Each chime also fires `orderpulse:chime`
 * on the document (what the browser tests count). */
import { formatCount } from "../lib/text.js";
import { toast } from "../lib/toasts.js";
import { createBursts } from "./bursts.js";

const SOUND_KEY = "orderpulse.sound";
const CHIME_KEY = "orderpulse.lastChime";

/** Browsers refuse to start audio before a user gesture: create the context on the first. */
function createAudio() {
  const audio = { ctx: null, unlocked: false };
  function unlock() {
    if (audio.unlocked) return;
    audio.unlocked = true;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      audio.ctx = new Ctx();
      if (audio.ctx.state === "suspended") audio.ctx.resume();
    } catch (e) {
      audio.ctx = null;
    }
  }
  document.addEventListener("pointerdown", unlock, { once: true, capture: true });
  document.addEventListener("keydown", unlock, { once: true, capture: true });
  return audio;
}

function bindSoundToggle(toggle) {
  if (!toggle) return;
  try {
    toggle.checked = window.localStorage.getItem(SOUND_KEY) !== "off";
  } catch (e) { /* storage may be blocked */ }
  toggle.addEventListener("change", () => {
    try {
      window.localStorage.setItem(SOUND_KEY, toggle.checked ? "on" : "off");
    } catch (e) { /* ignore */ }
  });
}

function playChime(ctx) {
  const t = ctx.currentTime;
  [880, 1320].forEach((freq, i) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t + i * 0.12);
    gain.gain.exponentialRampToValueAtTime(0.15, t + i * 0.12 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.12 + 0.18);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start(t + i * 0.12);
    osc.stop(t + i * 0.12 + 0.2);
  });
}

/** `onSeen()` is called when this tab clears the count, so the other tabs clear theirs;
 *  `onOpen(id)` opens an order's details; `alerts`: desktop-alerts.js (or null); `burst`:
 *  {quietMs, maxMs}; `away`: away.js (or null). */
export function createNotices(onSeen, onOpen, alerts, burst, away) {
  const baseTitle = document.title;
  const soundToggle = document.getElementById("sound-toggle");
  const unreadBox = document.querySelector("[data-unread]");
  const unreadText = unreadBox && unreadBox.querySelector("[data-unread-text]");
  const toastedIds = {};
  let unread = 0;
  let group = null; // the grouped toast: {toast, count, newest}
  const quietMs = (burst && burst.quietMs) || 4000;

  const audio = createAudio();
  bindSoundToggle(soundToggle);

  /** Claim the chime of a burst that starts now for the browser's tabs: another tab that
   *  chimed less than a quiet gap ago is in the same burst. */
  function claimChime(now) {
    try {
      const other = parseInt(window.localStorage.getItem(CHIME_KEY) || "0", 10);
      window.localStorage.setItem(CHIME_KEY, String(now));
      if (now - other < quietMs) return false;
    } catch (e) { /* storage blocked: this tab's own bursts only */ }
    return true;
  }

  /** The first order of a burst: one chime (if the sound is on). */
  function chime() {
    if (soundToggle && !soundToggle.checked) return;
    if (!claimChime(Date.now())) return;
    let played = false;
    try {
      if (audio.ctx) {
        playChime(audio.ctx);
        played = true;
      }
    } catch (e) { /* sound is optional */ }
    document.dispatchEvent(new CustomEvent("orderpulse:chime", { detail: { played } }));
  }

  const bursts = createBursts({ quietMs, maxMs: (burst && burst.maxMs) || 0, onStart: chime });

  /** Show `n` unseen new orders in the tab title ("(3) Orders dashboard") and the badge. */
  function setUnread(n, fromChannel) {
    unread = Math.max(0, n);
    document.title = unread ? "(" + unread + ") " + baseTitle : baseTitle;
    if (unreadBox) unreadBox.hidden = !unread;
    if (unreadText) unreadText.textContent = unread === 1 ? "1 new order" : unread + " new orders";
    if (!unread && !fromChannel) onSeen();
  }

  /** The grouped toast: "New order" for one, "5 new orders" for a burst; it names the
   *  newest, whose details "Open" shows. Dismissing it starts the next group afresh. */
  function groupToast(o) {
    const count = group && group.toast.isConnected ? group.count + 1 : 1;
    const text = (count > 1 ? "Newest: " : "") + o.order_number + " from " +
      (o.username || "a customer") + " — " + formatCount(o.total_credits) + " credits";
    const title = count === 1 ? "New order" : count + " new orders";
    if (group && group.toast.isConnected) {
      group.count = count;
      group.newest = o;
      group.toast.update(text, title);
      return;
    }
    const state = { count, newest: o, toast: null };
    state.toast = toast(text, {
      type: "new", title, group: "new-orders", timeout: 8000,
      actions: [{ label: "Open", onClick: (t) => { t.dismiss(); onOpen(state.newest.id); } }],
    });
    group = state;
  }

  function announce(o) {
    // Snapshots repeat recent orders; each one is announced once.
    if (toastedIds[o.id]) return;
    toastedIds[o.id] = true;
    groupToast(o);
    bursts.add(o);
    if (alerts) alerts.add(o);
    if (away) away.add(o);
    setUnread(unread + 1, false);
  }

  const markSeen = document.querySelector("[data-mark-seen]");
  if (markSeen) {
    markSeen.addEventListener("click", () => {
      setUnread(0, false);
      if (away) away.markAllSeen();
    });
  }

  return { announce, setUnread };
}
