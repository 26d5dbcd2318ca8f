/* The stat cards (and any other [data-stat] counter): only changed numbers are rewritten. */
import { flash } from "../lib/dom.js";
import { formatCount } from "../lib/text.js";

const STAT_KEYS = ["total_orders", "pending_count", "shipped_count", "out_for_delivery",
  "delivered_count", "cancelled_count"];

export function createCards(initialVersion) {
  let version = initialVersion;

  /** Show `stats`; an older version is ignored (a slow answer must not roll the numbers
   *  back past a newer frame) unless `force` (a reset: the server says so). */
  function apply(stats, force) {
    if (!stats) return;
    const next = parseInt(stats.version, 10);
    if (!isNaN(next)) {
      if (next < version && !force) return;
      version = next;
    }
    for (const key of STAT_KEYS) {
      if (stats[key] == null) continue;
      const text = formatCount(stats[key]);
      for (const node of document.querySelectorAll('[data-stat="' + key + '"]')) {
        // Untouched nodes keep their DOM, so screen readers and tests see only real changes.
        if (node.textContent.trim() !== text) {
          node.textContent = text;
          flash(node);
        }
      }
    }
  }

  return { apply, version: () => version };
}
