/* The leader's connection to the server: the EventSource, reconnected with exponential
 * backoff plus jitter for ever; after a grace the indicator turns red and the JSON endpoint
 * is polled (never overlapping) until the stream is back. Every gap is filled from that
 * endpoint.
 *
 * leader: {isLeader(), setIndicator(kind), broadcast(msg), relay(type, ev)} from
 *   stream-leader.js (relay passes a frame to the other tabs and to this one)
 * hooks: {poll(data), refreshActivity(), scheduleSideRefresh()}
 */
import { BACKOFF_MIN_MS } from "./config.js";

const OP = window.OrderPulse;

export function createSource(cfg, leader, hooks) {
  const s = {
    es: null,
    connected: false,
    needGapFill: false,
    backoff: BACKOFF_MIN_MS,
    retryTimer: null,
    graceTimer: null,
    polling: false,
    pollTimer: null,
    fetchInFlight: null,
    lastSyncAt: Date.now(),
  };
  let authWarned = false;

  function updatesUrl() {
    // Ask for enough history to cover the gap since the last data (1..1440 minutes).
    const url = new URL(cfg.updatesUrl, window.location.href);
    const gapMinutes = Math.ceil((Date.now() - s.lastSyncAt) / 60000) + 1;
    const minutes = Math.max(parseInt(url.searchParams.get("minutes") || "5", 10) || 5,
      gapMinutes);
    url.searchParams.set("minutes", String(Math.min(minutes, 1440)));
    return url.pathname + url.search;
  }

  /** One GET of the JSON endpoint; concurrent callers share the request in flight. */
  function fetchUpdates() {
    if (s.fetchInFlight) return s.fetchInFlight;
    const started = Date.now();
    s.fetchInFlight = OP.getJSON(updatesUrl()).then((data) => {
      s.lastSyncAt = started;
      if (leader.isLeader() && s.polling) leader.broadcast({ type: "poll", data });
      hooks.poll(data);
      authWarned = false;
    }).catch((err) => {
      // A lost session fails every poll: say so once, not every few seconds.
      if ((err.status === 401 || err.status === 403) && !authWarned) {
        authWarned = true;
        OP.toast(err.message, { type: "error", title: "Live updates stopped" });
      }
    }).then(() => {
      s.fetchInFlight = null;
    });
    return s.fetchInFlight;
  }

  function pollLoop() {
    if (!s.polling) return;
    hooks.scheduleSideRefresh();
    fetchUpdates().then(() => {
      // The next poll is timed from the end of this one, so requests never overlap.
      if (s.polling) s.pollTimer = setTimeout(pollLoop, cfg.pollMs);
    });
  }

  function startPolling() {
    if (s.polling) return;
    s.polling = true;
    pollLoop();
  }

  function stopPolling() {
    s.polling = false;
    clearTimeout(s.pollTimer);
    s.pollTimer = null;
  }

  function onOpen() {
    s.connected = true;
    s.backoff = BACKOFF_MIN_MS;
    clearTimeout(s.graceTimer);
    s.graceTimer = null;
    leader.setIndicator("live");
    stopPolling();
    if (s.needGapFill) {
      s.needGapFill = false;
      fetchUpdates();
      hooks.refreshActivity();
      hooks.scheduleSideRefresh();
    }
  }

  function onError() {
    if (!leader.isLeader()) return;
    if (s.es) {
      s.es.close();
      s.es = null;
    }
    s.connected = false;
    s.needGapFill = true;
    if (!s.polling) {
      leader.setIndicator("reconnecting");
      if (!s.graceTimer) {
        // A routine reconnect (the server ends streams at their lifetime) stays amber.
        s.graceTimer = setTimeout(() => {
          s.graceTimer = null;
          if (!s.connected && leader.isLeader()) {
            leader.setIndicator("offline");
            startPolling();
          }
        }, cfg.graceMs);
      }
    }
    scheduleReconnect();
  }

  function connect() {
    clearTimeout(s.retryTimer);
    s.retryTimer = null;
    if (s.es || !leader.isLeader()) return;
    if (!window.EventSource) {
      leader.setIndicator("offline");
      startPolling();
      return;
    }
    let es;
    try {
      es = new EventSource(cfg.streamUrl, { withCredentials: true });
    } catch (e) {
      onError();
      return;
    }
    s.es = es;
    es.addEventListener("open", onOpen);
    es.addEventListener("message", (ev) => leader.relay("snapshot", ev));
    es.addEventListener("order", (ev) => leader.relay("order", ev));
    es.addEventListener("error", () => {
      // A replaced EventSource may still report; only the current one counts.
      if (s.es === es) onError();
    });
  }

  function scheduleReconnect() {
    if (s.retryTimer) return;
    const delay = s.backoff;
    // Jitter spreads the reconnects of many dashboards after a server restart.
    const jitter = Math.random() * Math.min(1000, delay * 0.5);
    s.backoff = Math.min(s.backoff * 2, cfg.backoffMaxMs);
    s.retryTimer = setTimeout(connect, delay + jitter);
  }

  function reconnectNow() {
    if (s.connected || s.es || !leader.isLeader()) return;
    clearTimeout(s.retryTimer);
    s.retryTimer = null;
    s.backoff = BACKOFF_MIN_MS;
    connect();
  }

  /** Start streaming as the (new) leader; `gapFill` when frames may have been missed. */
  function open(gapFill) {
    s.needGapFill = gapFill;
    s.backoff = BACKOFF_MIN_MS;
    connect();
  }

  function closeStream() {
    if (s.es) { s.es.close(); s.es = null; }
  }

  /** Close everything and cancel every timer: the tab stops being the leader. */
  function stop() {
    closeStream();
    s.connected = false;
    stopPolling();
    clearTimeout(s.retryTimer); s.retryTimer = null;
    clearTimeout(s.graceTimer); s.graceTimer = null;
  }

  return {
    open,
    reconnectNow,
    stop,
    closeStream,
    fetchUpdates,
    isConnected: () => s.connected,
    setGapFill: (flag) => { s.needGapFill = flag; },
    markDisconnected: () => { s.connected = false; },
    markSynced: () => { s.lastSyncAt = Date.now(); },
  };
}
