/* The leader's connection to the server: an EventSource opened with the version the page
 * already has (?last_event_id=), so the server's first frame carries only what the page
 * missed; reconnected with exponential backoff plus jitter for ever (lib/backoff.js). After
 * a grace the indicator turns red and the JSON endpoint is polled (never overlapping,
 * ?since= the same version) until the stream is back; a poll that answers means the server
 * is back, so the stream is retried at once. While a stream attempt is opening (neither
 * its response nor its error has come) the next poll waits one interval: the attempt
 * usually opens, and its first frame carries what a poll would, so a restart costs at most
 * one poll; an attempt that hangs (a proxy holding the response) delays polling by that
 * one interval only. The requests this makes are listed in requests.json.
 *
 * The socket is not trusted (docs/design.md §5a): a watchdog (watchdog.js) counts the time
 * since the last byte, frame or heartbeat; silence for two of the server's heartbeat
 * intervals (`heartbeat_ms` in its first frame) drops the EventSource and opens a new one
 * from the page's version, at once (a link that hangs costs one attempt per two intervals,
 * so the next attempt is never far off when it comes back). The browser's `offline` event
 * shows "Offline" at once; `online` reconnects.
 *
 * leader: {isLeader(), setIndicator(kind), broadcast(msg), relay(type, data) → data,
 *          version(), focus()} from stream-leader.js (relay passes a frame to the other
 *          tabs and to this one; version() is the newest version this tab has seen;
 *          focus() the dialog this browser has open, "<action>:<order id>" or "")
 * hooks: {poll(data), revoked(data)}
 */
import { createBackoff } from "../lib/backoff.js";
import { getJSON } from "../lib/http.js";
import { toast } from "../lib/toasts.js";
import { createWatchdog } from "./watchdog.js";

export function createSource(cfg, leader, hooks) {
  const s = {
    es: null,
    connected: false,
    graceTimer: null,
    polling: false,
    pollTimer: null,
    fetchInFlight: null,
    opening: false,
    pollHeld: false,
  };
  let authWarned = false;
  // Jitter spreads the reconnects of many dashboards after a server restart.
  const retry = createBackoff(connect, { maxMs: cfg.backoffMaxMs });
  const watchdog = createWatchdog({ intervalMs: cfg.heartbeatMs, onSilent: silent });

  function withVersion(base, name) {
    const url = new URL(base, window.location.href);
    url.searchParams.set(name, String(leader.version()));
    return url.pathname + url.search;
  }

  /** One poll of the JSON endpoint (what changed since our version); concurrent callers
   *  share the request in flight. */
  function poll() {
    if (s.fetchInFlight) return s.fetchInFlight;
    s.fetchInFlight = getJSON(withVersion(cfg.updatesUrl, "since")).then((data) => {
      authWarned = false;
      if (leader.isLeader()) leader.broadcast({ type: "poll", data });
      hooks.poll(data);
      // The server answers again: try the stream now rather than at the end of a long
      // backoff (the indicator goes green as soon as it opens).
      if (!s.connected) reconnectNow();
    }).catch((err) => {
      // A lost session fails every poll: say so once, not every few seconds.
      if ((err.status === 401 || err.status === 403) && !authWarned) {
        authWarned = true;
        toast(err.message, { type: "error", title: "Live updates stopped" });
      }
    }).then(() => {
      s.fetchInFlight = null;
    });
    return s.fetchInFlight;
  }

  function pollLoop() {
    if (!s.polling) return;
    if (s.opening && !s.pollHeld) {
      // A stream attempt is on its way: give it one interval to answer.
      s.pollHeld = true;
      s.pollTimer = setTimeout(pollLoop, cfg.pollMs);
      return;
    }
    poll().then(() => {
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
    retry.reset();
    clearTimeout(s.graceTimer);
    s.graceTimer = null;
    leader.setIndicator("live");
    stopPolling();
  }

  /** Two heartbeat intervals without a byte: the link is dead, whatever the socket says. */
  function silent() {
    if (!leader.isLeader() || !s.es) return;
    retry.reset(); // a hanging attempt already waited its two intervals
    onError();
  }

  function onError() {
    if (!leader.isLeader()) return;
    closeStream();
    s.connected = false;
    if (navigator.onLine === false) {
      offline();
      return;
    }
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
    retry.schedule();
  }

  function connect() {
    retry.cancel();
    if (s.es || !leader.isLeader()) return;
    if (!window.EventSource) {
      leader.setIndicator("offline");
      startPolling();
      return;
    }
    let es;
    try {
      // A new EventSource sends no Last-Event-ID header: the version goes in the URL.
      es = new EventSource(streamUrl(), { withCredentials: true });
    } catch (e) {
      onError();
      return;
    }
    s.es = es;
    s.opening = true;
    s.pollHeld = false;
    watchdog.start();
    const touch = () => {
      if (s.es !== es) return;
      s.opening = false;
      watchdog.touch();
    };
    // Live at the first frame, not at "open": a restarting server, or nginx without its
    // upstream, answers 200 with only a retry: hint (docs/design.md §5b), which must
    // neither show green nor reset the backoff.
    let live = false;
    es.addEventListener("open", touch);
    es.addEventListener("message", (ev) => {
      touch();
      if (!live) {
        live = true;
        onOpen();
      }
      const data = leader.relay("snapshot", ev.data);
      if (data && data.heartbeat_ms) watchdog.setInterval(data.heartbeat_ms);
    });
    es.addEventListener("order", (ev) => { touch(); leader.relay("order", ev.data); });
    es.addEventListener("presence", (ev) => { touch(); leader.relay("presence", ev.data); });
    es.addEventListener("heartbeat", touch); // comments never reach a page: an event does
    es.addEventListener("views", (ev) => { touch(); leader.relay("views", ev.data); });
    es.addEventListener("revoked", (ev) => {
      // The session ended on the server (logout, password change, role): no reconnect.
      stop();
      leader.relay("revoked", ev.data);
    });
    es.addEventListener("error", () => {
      // A replaced EventSource may still report; only the current one counts.
      if (s.es === es) onError();
    });
  }

  /** The page's version and the dialog this browser has open (presence rides the URL). */
  function streamUrl() {
    const url = new URL(withVersion(cfg.streamUrl, "last_event_id"), window.location.href);
    const focus = leader.focus();
    if (focus != null) url.searchParams.set("focus", focus);
    return url.pathname + url.search;
  }

  /** The browser says it has no network: "Offline" now, no polling; `online` reconnects. */
  function offline() {
    if (!leader.isLeader()) return;
    closeStream();
    s.connected = false;
    stopPolling();
    retry.cancel();
    clearTimeout(s.graceTimer); s.graceTimer = null;
    leader.setIndicator("no-network");
  }

  function reconnectNow() {
    if (s.connected || s.es || !leader.isLeader()) return;
    retry.reset();
    connect();
  }

  /** Start streaming as the (new) leader, from the version this tab has. */
  function open() {
    retry.reset();
    connect();
  }

  function closeStream() {
    watchdog.stop();
    s.opening = false;
    if (s.es) { s.es.close(); s.es = null; }
  }

  /** Close everything and cancel every timer: the tab stops being the leader. */
  function stop() {
    closeStream();
    s.connected = false;
    stopPolling();
    retry.cancel();
    clearTimeout(s.graceTimer); s.graceTimer = null;
  }

  return {
    open,
    offline,
    reconnectNow,
    stop,
    closeStream,
    isConnected: () => s.connected,
    markDisconnected: () => { s.connected = false; },
  };
}
