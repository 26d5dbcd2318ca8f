// bursts.js: orders less than a quiet gap apart are one burst (one chime, one
// notification); a burst ends after the gap or at its longest; the words for a count.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { createBursts, groupBursts, newOrdersText } from "../../app/static/js/dashboard/bursts.js";

/** A clock whose time moves only when the test says (`advance(ms)` runs due timers). */
function fakeClock() {
  let now = 0;
  let seq = 0;
  const timers = new Map();
  return {
    now: () => now,
    setTimeout(fn, ms) { seq += 1; timers.set(seq, [now + ms, fn]); return seq; },
    clearTimeout(id) { timers.delete(id); },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers].filter(([, [at]]) => at <= end).sort((a, b) => a[1][0] - b[1][0]);
        if (!due.length) break;
        const [id, [at, fn]] = due[0];
        timers.delete(id);
        now = at;
        fn();
      }
      now = end;
    },
  };
}

describe("createBursts", () => {
  it("starts one burst for orders a second apart and ends it after the quiet gap", () => {
    const clock = fakeClock();
    const starts = [];
    const ends = [];
    const bursts = createBursts({ quietMs: 3000, maxMs: 0, clock,
      onStart: (o) => starts.push(o), onEnd: (list) => ends.push(list) });
    for (let i = 1; i <= 120; i++) {  // two minutes, an order a second
      bursts.add(i);
      clock.advance(1000);
    }
    assert.deepEqual(starts, [1]);
    assert.equal(ends.length, 0);
    clock.advance(3000);
    assert.equal(ends.length, 1);
    assert.equal(ends[0].length, 120);
    bursts.add(121);
    assert.deepEqual(starts, [1, 121]);
  });

  it("ends a steady stream at its longest, so it still speaks now and then", () => {
    const clock = fakeClock();
    const ends = [];
    const bursts = createBursts({ quietMs: 3000, maxMs: 60000, clock,
      onEnd: (list) => ends.push(list.length) });
    for (let i = 0; i < 145; i++) {
      bursts.add(i);
      clock.advance(800);
    }
    clock.advance(3000);
    assert.equal(ends.length, 2);  // not 145, not 32
    assert.equal(ends.reduce((a, b) => a + b, 0), 145);
  });

  it("flush ends the burst at once; a flush with nothing gathered says nothing", () => {
    const clock = fakeClock();
    const ends = [];
    const bursts = createBursts({ quietMs: 1000, maxMs: 0, clock, onEnd: (l) => ends.push(l) });
    bursts.flush();
    bursts.add("a");
    assert.equal(bursts.active(), true);
    bursts.flush();
    assert.deepEqual(ends, [["a"]]);
    assert.equal(bursts.active(), false);
    clock.advance(5000);
    assert.equal(ends.length, 1);
  });
});

describe("groupBursts", () => {
  it("groups by the quiet gap and the longest burst", () => {
    assert.deepEqual(groupBursts([0, 500, 1000, 5000, 5200, 20000], 3000, 0),
      [[0, 500, 1000], [5000, 5200], [20000]]);
    assert.deepEqual(groupBursts([0, 1000, 2000, 3000, 4000], 3000, 2500),
      [[0, 1000, 2000], [3000, 4000]]);
    assert.deepEqual(groupBursts([], 3000, 0), []);
  });
});

describe("newOrdersText", () => {
  it("says one order in the singular and groups thousands", () => {
    assert.equal(newOrdersText(1), "1 new order");
    assert.equal(newOrdersText(145), "145 new orders");
    assert.equal(newOrdersText(0), "0 new orders");
    assert.equal(newOrdersText(1204), "1,204 new orders");
  });
});
