/* The "Live / Reconnecting / Offline / Paused" pill. */

export function createIndicator(pollMs) {
  const node = document.querySelector("[data-live-indicator]");
  const textNode = node && node.querySelector("[data-live-text]");
  const TEXT = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    offline: "Offline — polling every " + Math.round(pollMs / 100) / 10 + " s",
    paused: "Paused while hidden",
  };
  const TITLE = {
    live: "Receiving live updates",
    offline: "The live stream is down; numbers refresh by polling",
    paused: "This tab is hidden; it catches up when shown",
  };

  function set(kind) {
    if (!node || node.getAttribute("data-state") === kind) return;
    node.setAttribute("data-state", kind);
    if (textNode) textNode.textContent = TEXT[kind] || kind;
    node.title = TITLE[kind] || "Re-opening the live stream";
  }

  return { set, get: () => (node ? node.getAttribute("data-state") : null), exists: !!node };
}
