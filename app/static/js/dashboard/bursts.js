/* Bursts of new orders (DOM-free). A busy shop's orders come a second apart for minutes:
 * one chime and one desktop notification per order is noise (122 chimes in 2 minutes).
 * Orders less than `quietMs` apart are one burst; it ends after `quietMs` without an
 * order, or `maxMs` after it began, so a steady stream still speaks now and then.
 *
 * `clock` ({now, setTimeout, clearTimeout}) is the browser's unless a test passes its own.
 */

const browserClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

/** A burst tracker: `add(item)` calls `onStart(item)` for the first item of a burst, and
 *  `onEnd(items)` once with all of them when the burst ends; `flush()` ends it now. */
export function createBursts({ quietMs, maxMs, onStart, onEnd, clock = browserClock }) {
  let items = null;
  let quietTimer = null;
  let maxTimer = null;

  function flush() {
    clock.clearTimeout(quietTimer);
    clock.clearTimeout(maxTimer);
    quietTimer = maxTimer = null;
    const done = items;
    items = null;
    if (done && done.length && onEnd) onEnd(done);
  }

  function add(item) {
    const first = !items;
    if (first) items = [];
    items.push(item);
    if (first && onStart) onStart(item);
    clock.clearTimeout(quietTimer);
    quietTimer = clock.setTimeout(flush, quietMs);
    if (first && maxMs > 0) maxTimer = clock.setTimeout(flush, maxMs);
  }

  return { add, flush, active: () => !!items };
}

/** How `times` (ms, ascending) fall into bursts: [[t, …], …], by the same rule. */
export function groupBursts(times, quietMs, maxMs) {
  const groups = [];
  let current = null;
  for (const t of times) {
    const last = current && current[current.length - 1];
    if (!current || t - last >= quietMs || (maxMs > 0 && t - current[0] >= maxMs)) {
      current = [];
      groups.push(current);
    }
    current.push(t);
  }
  return groups;
}

/** The words of a notification or summary: "1 new order", "145 new orders". */
export function newOrdersText(n) {
  const count = Number(n) || 0;
  return count.toLocaleString("en-US") + " new order" + (count === 1 ? "" : "s");
}
