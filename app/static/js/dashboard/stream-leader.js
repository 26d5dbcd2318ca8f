/* One stream per browser. The tab holding the Web Lock "orderpulse-stream" (the leader) owns
 * the connection (stream-source.js) and rebroadcasts every frame on the BroadcastChannel of
 * the same name; the other tabs only listen, hidden or not. Closing the leader releases the
 * lock and the next tab takes over, opening its stream from the newest version it has seen
 * (the server then sends only what it missed). With data-hidden-grace-ms > 0 (shops that
 * want the old behaviour) a tab hidden that long gives up the stream and resumes the same
 * way when shown. Without Web Locks or BroadcastChannel every tab is its own leader.
 *
 * The dialog this browser has open (presence: setFocus) is shared on the channel too, so
 * whichever tab holds the stream names it in the stream's URL when it (re)connects.
 *
 * hooks: {snapshot(data), order(data), presence(data), poll(data), revoked(data), seen(),
 *   views(data)}
 */
import { LOCK_NAME } from "./config.js";
import { createIndicator } from "./indicator.js";
import { createSource } from "./stream-source.js";

function openChannel() {
  try {
    return window.BroadcastChannel ? new BroadcastChannel(LOCK_NAME) : null;
  } catch (e) {
    return null;
  }
}

export function createStream(cfg, hooks) {
  const channel = openChannel();
  const canShare = !!(channel && navigator.locks && navigator.locks.request &&
    window.AbortController);
  const indicator = createIndicator(cfg.pollMs);
  let role = "none"; // "leader" owns the stream, "follower" listens, "paused" (hidden)
  let leaderState = null; // the leader's indicator state, as told on the channel
  let releaseLock = null;
  let lockAbort = null;
  let hiddenTimer = null;
  let version = cfg.version; // the newest version this tab has applied
  let focus = ""; // this browser's open dialog, "<action>:<order id>" ("": none)
  const source = createSource(cfg, {
    isLeader: () => role === "leader",
    setIndicator,
    broadcast,
    relay,
    version: () => version,
    focus: () => focus,
  }, { poll: (data) => deliver("poll", data) });

  function broadcast(msg) {
    if (channel && canShare) {
      try { channel.postMessage(msg); } catch (e) { /* closed */ }
    }
  }

  function setIndicator(kind) {
    if (role === "leader") broadcast({ type: "state", state: kind });
    indicator.set(kind);
  }

  function seeVersion(v) {
    const n = parseInt(v, 10);
    if (!isNaN(n) && n > version) version = n;
  }

  function deliver(type, data) {
    if (!data) return;
    if (type === "snapshot") {
      // A reset may go back (a restored database): it replaces what the page has.
      if (data.type === "reset") version = parseInt(data.version, 10) || 0;
      else seeVersion(data.version);
      hooks.snapshot(data);
    } else if (type === "order" && data.order) {
      hooks.order(data);
    } else if (type === "poll") {
      if (data.stats) seeVersion(data.stats.version);
      hooks.poll(data);
    } else if (type === "presence" && Array.isArray(data.admins)) {
      hooks.presence(data);
    } else if (type === "revoked") {
      hooks.revoked(data);
    } else if (type === "views" && hooks.views) {
      hooks.views(data);
    }
  }

  /** A frame from our own EventSource: pass it to the followers, then show it here;
   *  returns its data (null when it is not JSON). */
  function relay(type, raw) {
    let data;
    try { data = JSON.parse(raw); } catch (e) { return null; }
    broadcast({ type, data });
    deliver(type, data);
    return data;
  }

  function onChannelMessage(ev) {
    const msg = ev.data || {};
    if (msg.type === "hello") {
      if (role === "leader" && indicator.exists) {
        broadcast({ type: "state", state: indicator.get() });
      }
      return;
    }
    if (msg.type === "seen") { hooks.seen(); return; }
    if (msg.type === "focus") { focus = String(msg.focus || ""); return; }
    if (role === "leader") return; // a stale leader's echo; we own the stream now
    if (msg.type === "state") {
      leaderState = msg.state;
      if (role === "follower") setIndicator(msg.state);
      return;
    }
    deliver(msg.type, msg.data);
  }
  if (channel && canShare) channel.onmessage = onChannelMessage;

  function requestLeadership() {
    if (lockAbort || releaseLock) return;
    const abort = new AbortController();
    lockAbort = abort;
    navigator.locks.request(LOCK_NAME, { signal: abort.signal }, () => {
      lockAbort = null;
      // The lock is held until this promise resolves: on pause or pagehide.
      return new Promise((resolve) => {
        releaseLock = resolve;
        role = "leader";
        source.open();
      });
    }).catch(() => { /* aborted: the tab was hidden while waiting */ });
  }

  function start() {
    if (!canShare) {
      role = "leader";
      source.open();
      return;
    }
    role = "follower";
    requestLeadership();
    broadcast({ type: "hello" });
  }

  /** Give up the stream (hidden tab, when the shop asked for it): close it, stop polling,
   *  leave the lock queue. */
  function pause() {
    if (role === "paused") return;
    source.stop();
    if (releaseLock) { releaseLock(); releaseLock = null; }
    if (lockAbort) { lockAbort.abort(); lockAbort = null; }
    role = "paused";
    setIndicator("paused");
  }

  /** Back from a pause: the stream (ours or the next leader's) resumes from our version. */
  function resume() {
    if (role !== "paused") return;
    if (canShare) {
      role = "follower";
      setIndicator(leaderState || "connecting");
      requestLeadership();
      broadcast({ type: "hello" });
    } else {
      role = "leader";
      source.open();
    }
  }

  function isLive() {
    return role === "leader" ? source.isConnected() : leaderState === "live";
  }

  document.addEventListener("visibilitychange", () => {
    clearTimeout(hiddenTimer);
    hiddenTimer = null;
    if (document.hidden) {
      if (cfg.hiddenGraceMs > 0) hiddenTimer = setTimeout(pause, cfg.hiddenGraceMs);
      return;
    }
    if (role === "paused") resume();
    else source.reconnectNow();
  });
  window.addEventListener("online", () => source.reconnectNow());
  // Every tab hears it: the pill says so at once, whoever holds the stream.
  window.addEventListener("offline", () => {
    if (role === "leader") source.offline();
    else indicator.set("no-network");
  });
  window.addEventListener("pagehide", () => {
    source.closeStream();
    // Hand the stream over at once rather than when the page is finally discarded.
    if (releaseLock) { releaseLock(); releaseLock = null; }
    if (role === "leader" && canShare) role = "none";
  });
  window.addEventListener("pageshow", (ev) => {
    if (!ev.persisted) return;
    source.markDisconnected();
    if (canShare) { role = "paused"; resume(); } else { source.reconnectNow(); }
  });

  return {
    start,
    setIndicator,
    isLive,
    broadcast,
    version: () => version,
    setVersion: (v) => { version = v; },
    /** This browser's open dialog, for presence ("<action>:<order id>", "" for none). */
    setFocus(value) {
      focus = value;
      broadcast({ type: "focus", focus: value });
    },
  };
}
