/* Reconnect timing for the page's streams (the customer's order page and the dashboard's
 * leader tab): exponential backoff with jitter, back to the minimum after a success. The
 * jitter (up to half the step, at most 1 s) spreads the reconnects of many pages after a
 * server restart (docs/design.md §5: "keeps retrying the stream with backoff and jitter"). */

export const BACKOFF_MIN_MS = 1000;
export const BACKOFF_MAX_MS = 30000;
const JITTER_MAX_MS = 1000;

/** A retry timer for `run`. opts: {minMs, maxMs (the longest step, ms), random () → [0, 1),
 *  setTimer, clearTimer (setTimeout / clearTimeout; tests pass their own)}.
 *  Returns {schedule() → the delay (ms) of the retry now pending, or null when one already
 *  was; cancel(); reset() (after a success: the next delay starts from minMs again);
 *  nextDelay() (the delays schedule uses: minMs, 2·minMs, … up to maxMs, each plus its
 *  jitter); pending() → bool}. */
export function createBackoff(run, opts = {}) {
  const minMs = opts.minMs ?? BACKOFF_MIN_MS;
  const maxMs = Math.max(minMs, opts.maxMs ?? BACKOFF_MAX_MS);
  const random = opts.random || Math.random;
  const setTimer = opts.setTimer || ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = opts.clearTimer || ((id) => clearTimeout(id));
  let step = minMs;
  let timer = null;

  function nextDelay() {
    const delay = step + random() * Math.min(JITTER_MAX_MS, step / 2);
    step = Math.min(step * 2, maxMs);
    return delay;
  }

  function cancel() {
    if (timer !== null) clearTimer(timer);
    timer = null;
  }

  function schedule() {
    if (timer !== null) return null;
    const delay = nextDelay();
    timer = setTimer(() => {
      timer = null;
      run();
    }, delay);
    return delay;
  }

  return {
    schedule,
    cancel,
    nextDelay,
    reset: () => { step = minMs; },
    pending: () => timer !== null,
  };
}
