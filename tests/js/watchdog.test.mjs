// watchdog.js: two heartbeat intervals without a byte mean a dead link (docs/design.md §5a).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { createWatchdog } from "../../app/static/js/dashboard/watchdog.js";

/** A fake clock: timers run when `advance` passes their time. */
function fakeClock() {
  let now = 0;
  let timers = [];
  return {
    now: () => now,
    setTimer(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return timer;
    },
    clearTimer(timer) { timers = timers.filter((t) => t !== timer); },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = end;
    },
  };
}

function watched(intervalMs = 1000) {
  const clock = fakeClock();
  const silences = [];
  const dog = createWatchdog({
    intervalMs,
    onSilent: () => silences.push(clock.now()),
    now: clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
  });
  return { clock, dog, silences };
}

describe("createWatchdog", () => {
  it("calls a link dead after two intervals of silence, once", () => {
    const { clock, dog, silences } = watched(1000);
    dog.start();
    clock.advance(1999);
    assert.deepEqual(silences, []);
    clock.advance(1);
    assert.deepEqual(silences, [2000]);
    clock.advance(10000);
    assert.deepEqual(silences, [2000], "not again until a new attempt starts");
  });

  it("counts from the last byte, frame or heartbeat", () => {
    const { clock, dog, silences } = watched(1000);
    dog.start();
    for (let i = 0; i < 10; i++) {
      clock.advance(900);
      dog.touch();
    }
    assert.deepEqual(silences, []);
    clock.advance(2000);
    assert.deepEqual(silences, [11000]);
  });

  it("follows the interval the server announces", () => {
    const { clock, dog, silences } = watched(15000);
    dog.start();
    clock.advance(100);
    dog.touch();
    dog.setInterval(500); // the first frame's heartbeat_ms
    assert.equal(dog.limitMs(), 1000);
    clock.advance(999);
    assert.deepEqual(silences, []);
    clock.advance(1);
    assert.deepEqual(silences, [1100]);
  });

  it("ignores a nonsense interval and stays quiet once stopped", () => {
    const { clock, dog, silences } = watched(1000);
    dog.setInterval("soon");
    dog.setInterval(-5);
    assert.equal(dog.limitMs(), 2000);
    dog.start();
    dog.stop();
    clock.advance(60000);
    assert.deepEqual(silences, []);
  });

  it("times a hanging connection attempt from its start", () => {
    const { clock, dog, silences } = watched(1000);
    clock.advance(5000);
    dog.start(); // no "open", no byte: a frozen proxy
    clock.advance(2000);
    assert.deepEqual(silences, [7000]);
    dog.start(); // the next attempt gets its own two intervals
    clock.advance(2000);
    assert.deepEqual(silences, [7000, 9000]);
  });
});
