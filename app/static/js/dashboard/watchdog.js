/* The stream's watchdog (docs/design.md §5a: the client trusts bytes, not the socket). A
 * connection that is open but silent (a frozen proxy, a dead Wi-Fi link) never errors, so
 * the page counts time since the last byte it received, frame or heartbeat: silence for
 * two of the server's heartbeat intervals means the link is dead. The interval is the
 * server's (`heartbeat_ms` in its first frame), so the watchdog follows the setting.
 * DOM-free: tests/js/watchdog.test.mjs drives it with a fake clock. */

/** opts: {intervalMs (the server's heartbeat interval, until it says otherwise),
 *  onSilent() (called once per silence, after `2 × intervalMs` without a byte), now,
 *  setTimer, clearTimer (Date.now / setTimeout / clearTimeout; tests pass their own)}.
 *  Returns {start() (a connection attempt began: the clock starts now), touch() (a byte
 *  arrived), setInterval(ms), stop(), limitMs() → the silence that counts as dead}. */
export function createWatchdog(opts) {
  const now = opts.now || (() => Date.now());
  const setTimer = opts.setTimer || ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = opts.clearTimer || ((id) => clearTimeout(id));
  let interval = Math.max(1, opts.intervalMs || 15000);
  let last = 0;
  let timer = null;
  let running = false;

  const limitMs = () => 2 * interval;

  function arm(delay) {
    if (timer !== null) clearTimer(timer);
    timer = setTimer(check, Math.max(1, delay));
  }

  function check() {
    timer = null;
    if (!running) return;
    const silent = now() - last;
    if (silent >= limitMs()) {
      running = false;
      opts.onSilent();
      return;
    }
    arm(limitMs() - silent);
  }

  function start() {
    running = true;
    last = now();
    arm(limitMs());
  }

  function stop() {
    running = false;
    if (timer !== null) clearTimer(timer);
    timer = null;
  }

  return {
    start,
    stop,
    limitMs,
    // A byte: only the time is kept; the timer re-arms itself when it fires.
    touch: () => { last = now(); },
    setInterval(ms) {
      const value = Number(ms);
      if (!(value > 0) || value === interval) return;
      interval = value;
      if (running) arm(Math.max(0, last + limitMs() - now()));
    },
  };
}
