// backoff.js: the reconnect timing both streams use (the order page's and the dashboard's).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { BACKOFF_MAX_MS, BACKOFF_MIN_MS, createBackoff } from "../../app/static/js/lib/backoff.js";

/** A timer stand-in: timers run only when the test fires them. */
function fakeTimers() {
  const pending = new Map();
  let next = 1;
  return {
    setTimer(fn, ms) {
      const id = next++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimer(id) { pending.delete(id); },
    pending,
    fire() {
      const [id, { fn }] = pending.entries().next().value;
      pending.delete(id);
      fn();
    },
  };
}

describe("createBackoff", () => {
  it("doubles from 1 s up to 30 s by default", () => {
    const b = createBackoff(() => {}, { random: () => 0 });
    const delays = Array.from({ length: 7 }, () => b.nextDelay());
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    assert.equal(BACKOFF_MIN_MS, 1000);
    assert.equal(BACKOFF_MAX_MS, 30000);
  });

  it("adds up to half the step in jitter, at most 1 s", () => {
    const b = createBackoff(() => {}, { random: () => 0.999999 });
    const delays = Array.from({ length: 4 }, () => Math.round(b.nextDelay()));
    assert.deepEqual(delays, [1500, 3000, 5000, 9000]);
  });

  it("stays between the step and the step plus its jitter for Math.random", () => {
    const b = createBackoff(() => {}, { minMs: 200, maxMs: 800 });
    for (const step of [200, 400, 800, 800]) {
      const delay = b.nextDelay();
      assert.ok(delay >= step && delay < step + Math.min(1000, step / 2), `${delay} for ${step}`);
    }
  });

  it("goes back to the minimum after reset (a success)", () => {
    const b = createBackoff(() => {}, { random: () => 0 });
    b.nextDelay();
    b.nextDelay();
    assert.equal(b.nextDelay(), 4000);
    b.reset();
    assert.equal(b.nextDelay(), 1000);
  });

  it("honours a smaller maximum, but never one under the minimum", () => {
    const small = createBackoff(() => {}, { random: () => 0, maxMs: 3000 });
    assert.deepEqual([small.nextDelay(), small.nextDelay(), small.nextDelay()],
      [1000, 2000, 3000]);
    const odd = createBackoff(() => {}, { random: () => 0, minMs: 500, maxMs: 100 });
    assert.deepEqual([odd.nextDelay(), odd.nextDelay()], [500, 500]);
  });

  it("schedules one retry at a time and runs it when the timer fires", () => {
    const timers = fakeTimers();
    let runs = 0;
    const b = createBackoff(() => { runs++; }, { random: () => 0, ...timers });
    assert.equal(b.schedule(), 1000);
    assert.equal(b.schedule(), null); // one already pending
    assert.equal(timers.pending.size, 1);
    assert.ok(b.pending());
    timers.fire();
    assert.equal(runs, 1);
    assert.ok(!b.pending());
    assert.equal(b.schedule(), 2000); // the next attempt waits longer
  });

  it("lets the retry schedule the next one (pending is cleared before it runs)", () => {
    const timers = fakeTimers();
    const delays = [];
    const b = createBackoff(() => delays.push(b.schedule()), { random: () => 0, ...timers });
    b.schedule();
    timers.fire();
    timers.fire();
    assert.deepEqual(delays, [2000, 4000]);
  });

  it("cancel stops a pending retry", () => {
    const timers = fakeTimers();
    let runs = 0;
    const b = createBackoff(() => { runs++; }, { random: () => 0, ...timers });
    b.schedule();
    b.cancel();
    assert.equal(timers.pending.size, 0);
    assert.ok(!b.pending());
    b.cancel(); // nothing pending: harmless
    assert.equal(runs, 0);
  });

  it("uses the real timers by default", async () => {
    let resolveRun;
    const ran = new Promise((resolve) => { resolveRun = resolve; });
    const b = createBackoff(() => resolveRun(true), { minMs: 1, random: () => 0 });
    b.schedule();
    assert.equal(await ran, true);
  });
});
