/* The "Live / Reconnecting / Offline / Paused" pill. "reconnecting": the stream errored or
 * went silent for two heartbeat intervals; "offline": down past the grace, polling;
 * "no-network": the browser's own `offline` event, shown at once. */

export function createIndicator(pollMs) {
  const node = document.querySelector("[data-live-indicator]");
  const textNode = node && node.querySelector("[data-live-text]");
  const TEXT = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    offline: "Offline — polling every " + Math.round(pollMs / 100) / 10 + " s",
    paused: "Paused while hidden",
    "no-network": "Offline",
  };
  const TITLE = {
    live: "Receiving live updates",
    offline: "The live stream is down; numbers refresh by polling",
    paused: "This tab is hidden; it catches up when shown",
    "no-network": "This device has no network connection; the page catches up when it is back",
  };

  function set(kind) {
    if (!node || node.getAttribute("data-state") === kind) return;
    node.setAttribute("data-state", kind);
    if (textNode) textNode.textContent = TEXT[kind] || kind;
    node.title = TITLE[kind] || "Re-opening the live stream";
  }

  return { set, get: () => (node ? node.getAttribute("data-state") : null), exists: !!node };
}
