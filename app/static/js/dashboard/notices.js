/* Telling the admin about new orders: one grouped toast ("5 new orders", the newest named),
 * a chime, an opt-in desktop notification per burst (desktop-alerts.js), and an unread count
 * in the badge and the tab title that every tab clears together. Hidden tabs keep all of
 * it (issue 12): the title count moves, the chime plays (if on). One chime per burst per
 * browser, however many dashboard tabs are open (the last chime's time is shared in
 * localStorage). */
import { formatCount } from "../lib/text.js";
import { toast } from "../lib/toasts.js";

const SOUND_KEY = "orderpulse.sound";
const CHIME_KEY = "orderpulse.lastChime";
const CHIME_GAP_MS = 800; // a burst of orders makes one sound

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
 *  `onOpen(id)` opens an order's details; `alerts`: desktop-alerts.js (or null). */
export function createNotices(onSeen, onOpen, alerts) {
  const baseTitle = document.title;
  const soundToggle = document.getElementById("sound-toggle");
  const unreadBox = document.querySelector("[data-unread]");
  const unreadText = unreadBox && unreadBox.querySelector("[data-unread-text]");
  const toastedIds = {};
  let unread = 0;
  let lastChime = 0;
  let burst = null; // the grouped toast: {toast, count, newest}

  const audio = createAudio();
  bindSoundToggle(soundToggle);

  /** Claim the chime for this burst, for this tab and the browser's other tabs. */
  function claimChime(now) {
    if (now - lastChime < CHIME_GAP_MS) return false;
    lastChime = now;
    try {
      const other = parseInt(window.localStorage.getItem(CHIME_KEY) || "0", 10);
      if (now - other < CHIME_GAP_MS) return false;
      window.localStorage.setItem(CHIME_KEY, String(now));
    } catch (e) { /* storage blocked: this tab's own gap only */ }
    return true;
  }

  function chime() {
    if (!audio.ctx || (soundToggle && !soundToggle.checked)) return;
    if (!claimChime(Date.now())) return;
    try {
      playChime(audio.ctx);
    } catch (e) { /* sound is optional */ }
  }

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
    const count = burst && burst.toast.isConnected ? burst.count + 1 : 1;
    const text = (count > 1 ? "Newest: " : "") + o.order_number + " from " +
      (o.username || "a customer") + " — " + formatCount(o.total_credits) + " credits";
    const title = count === 1 ? "New order" : count + " new orders";
    if (burst && burst.toast.isConnected) {
      burst.count = count;
      burst.newest = o;
      burst.toast.update(text, title);
      return;
    }
    const state = { count, newest: o, toast: null };
    state.toast = toast(text, {
      type: "new", title, group: "new-orders", timeout: 8000,
      actions: [{ label: "Open", onClick: (t) => { t.dismiss(); onOpen(state.newest.id); } }],
    });
    burst = state;
  }

  function announce(o) {
    // Snapshots repeat recent orders; each one is announced once.
    if (toastedIds[o.id]) return;
    toastedIds[o.id] = true;
    groupToast(o);
    chime();
    if (alerts) alerts.add(o);
    setUnread(unread + 1, false);
  }

  const markSeen = document.querySelector("[data-mark-seen]");
  if (markSeen) markSeen.addEventListener("click", () => setUnread(0, false));

  return { announce, setUnread };
}
