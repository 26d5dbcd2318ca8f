/* One stream per browser. The tab holding the Web Lock "orderpulse-stream" (the leader) owns
 * the connection (stream-source.js) and rebroadcasts every frame on the BroadcastChannel of
 * the same name; the other tabs only listen. Closing the leader releases the lock and the
 * next tab takes over. A tab hidden for data-hidden-grace-ms gives up the stream (or its
 * place in the queue) and catches up at once when shown again. Without Web Locks or
 * BroadcastChannel every tab is its own leader.
 *
 * hooks: {snapshot(data), order(data), poll(data), seen(), refreshActivity(),
 *         refreshRevenue(), scheduleSideRefresh()}
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
  const source = createSource(cfg, { isLeader: () => role === "leader", setIndicator,
    broadcast, relay }, hooks);

  function broadcast(msg) {
    if (channel && canShare) {
      try { channel.postMessage(msg); } catch (e) { /* closed */ }
    }
  }

  function setIndicator(kind) {
    if (role === "leader") broadcast({ type: "state", state: kind });
    indicator.set(kind);
  }

  function deliver(type, data) {
    if (type === "snapshot" && data) {
      source.markSynced();
      hooks.snapshot(data);
    } else if (type === "order" && data && data.order) {
      source.markSynced();
      hooks.order(data);
    }
  }

  /** A frame from our own EventSource: pass it to the followers, then show it here. */
  function relay(type, ev) {
    let data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    broadcast({ type, data });
    deliver(type, data);
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
    if (role === "leader") return; // a stale leader's echo; we own the stream now
    if (msg.type === "snapshot" || msg.type === "order") deliver(msg.type, msg.data);
    else if (msg.type === "poll") { source.markSynced(); hooks.poll(msg.data); }
    else if (msg.type === "state") {
      const was = leaderState;
      leaderState = msg.state;
      if (role === "follower") {
        setIndicator(msg.state);
        // The leader fills its own gaps; a follower fills what it missed itself.
        if (msg.state === "live" && was && was !== "live") {
          source.fetchUpdates();
          hooks.refreshActivity();
        }
      }
    }
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
        source.open(true); // frames between the old leader leaving and us are missing
      });
    }).catch(() => { /* aborted: the tab was hidden while waiting */ });
  }

  function start() {
    if (!canShare) {
      role = "leader";
      source.open(false);
      return;
    }
    role = "follower";
    requestLeadership();
    broadcast({ type: "hello" });
  }

  /** Give up the stream (hidden tab): close it, stop polling, leave the lock queue. */
  function pause() {
    if (role === "paused") return;
    source.stop();
    if (releaseLock) { releaseLock(); releaseLock = null; }
    if (lockAbort) { lockAbort.abort(); lockAbort = null; }
    role = "paused";
    setIndicator("paused");
  }

  function resume() {
    if (role !== "paused") return;
    source.setGapFill(false);
    source.fetchUpdates();
    hooks.refreshActivity();
    hooks.refreshRevenue();
    if (canShare) {
      role = "follower";
      setIndicator(leaderState || "connecting");
      requestLeadership();
      broadcast({ type: "hello" });
    } else {
      role = "leader";
      source.open(false);
    }
  }

  function isLive() {
    return role === "leader" ? source.isConnected() : leaderState === "live";
  }

  document.addEventListener("visibilitychange", () => {
    clearTimeout(hiddenTimer);
    hiddenTimer = null;
    if (document.hidden) {
      hiddenTimer = setTimeout(pause, cfg.hiddenGraceMs);
      return;
    }
    if (role === "paused") {
      resume();
      return;
    }
    source.fetchUpdates();
    source.reconnectNow();
  });
  window.addEventListener("online", () => {
    source.reconnectNow();
    source.fetchUpdates();
  });
  window.addEventListener("pagehide", () => {
    source.closeStream();
    // Hand the stream over at once rather than when the page is finally discarded.
    if (releaseLock) { releaseLock(); releaseLock = null; }
    if (role === "leader" && canShare) role = "none";
  });
  window.addEventListener("pageshow", (ev) => {
    if (!ev.persisted) return;
    source.setGapFill(true);
    source.markDisconnected();
    if (canShare) { role = "paused"; resume(); } else { source.reconnectNow(); }
  });

  return {
    start,
    setIndicator,
    isLive,
    broadcast,
    fetchUpdates: () => source.fetchUpdates(),
  };
}
