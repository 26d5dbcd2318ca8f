// revenue-hours.js: the 15-minute UTC buckets summed into the local hours of today and
// yesterday, in zones a whole number of quarter hours from UTC (+5:30, -8) and across a
// summer-time change.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { hourly, localClock, revenueSummary } from "../../app/static/js/dashboard/revenue-hours.js";

const at = (iso) => Date.parse(iso) / 1000;
const sum = (list) => list.reduce((a, b) => a + b, 0);

/** Buckets 15 minutes before local midnight, at it and 15 minutes after it. */
function aroundMidnight(midnight) {
  const m = at(midnight);
  return new Map([[m - 900, [10, 1]], [m, [20, 2]], [m + 900, [5, 1]]]);
}

describe("hourly", () => {
  for (const [zone, midnight] of [
    ["Asia/Kolkata", "2026-11-27T18:30:00Z"], // +5:30: local midnight of Nov 28
    ["America/Los_Angeles", "2026-11-28T08:00:00Z"], // -8 (PST)
  ]) {
    it(`puts buckets either side of midnight in yesterday's last hour and today's first (${zone})`,
      () => {
        const buckets = aroundMidnight(midnight);
        const after = hourly(buckets, new Date(Date.parse(midnight) + 30 * 60 * 1000), zone);
        assert.equal(after.hour, 0);
        assert.equal(after.yesterday[23], 10);
        assert.equal(sum(after.yesterday), 10);
        assert.equal(after.orders_yesterday[23], 1);
        assert.equal(after.today[0], 25);
        assert.equal(after.orders_today[0], 3);
        assert.equal(sum(after.today), 25);
      });

    it(`before midnight the day's last hour is today and nothing is yesterday (${zone})`, () => {
      const buckets = aroundMidnight(midnight);
      const before = hourly(buckets, new Date(Date.parse(midnight) - 5 * 60 * 1000), zone);
      assert.equal(before.hour, 23);
      assert.equal(before.today[23], 10);
      assert.equal(sum(before.today), 10);
      assert.equal(sum(before.yesterday), 0);
    });
  }

  it("reads the runtime's zone when none is given (the browser's, as on a page)", () => {
    const saved = process.env.TZ;
    process.env.TZ = "Asia/Kolkata";
    try {
      const midnight = "2026-11-27T18:30:00Z";
      const after = hourly(aroundMidnight(midnight), new Date(at(midnight) * 1000 + 1800000));
      assert.equal(after.today[0], 25);
      assert.equal(after.yesterday[23], 10);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it("drops buckets older than yesterday and newer than today", () => {
    const now = new Date("2026-11-28T12:00:00Z");
    const buckets = new Map([
      [at("2026-11-26T12:00:00Z"), [100, 1]],
      [at("2026-11-27T12:00:00Z"), [7, 1]],
      [at("2026-11-28T11:45:00Z"), [3, 1]],
      [at("2026-11-29T12:00:00Z"), [100, 1]],
    ]);
    const out = hourly(buckets, now, "UTC");
    assert.equal(out.hour, 12);
    assert.deepEqual([sum(out.yesterday), out.yesterday[12]], [7, 7]);
    assert.deepEqual([sum(out.today), out.today[11]], [3, 3]);
  });

  it("keeps a 23-hour day's hours apart when summer time starts (New York, Mar 8 2026)", () => {
    // 01:45 EST and 03:00 EDT are 15 minutes apart; 02:xx does not exist that night.
    const buckets = new Map([
      [at("2026-03-08T06:45:00Z"), [4, 1]],
      [at("2026-03-08T07:00:00Z"), [6, 1]],
    ]);
    const out = hourly(buckets, new Date("2026-03-08T16:00:00Z"), "America/New_York");
    assert.equal(out.hour, 12);
    assert.equal(out.today[1], 4);
    assert.equal(out.today[2], 0);
    assert.equal(out.today[3], 6);
  });

  it("finds yesterday right after midnight on the day summer time ends (25-hour day)", () => {
    // Nov 1 2026 in New York has 25 hours; at 00:30 on Nov 2 yesterday is Nov 1.
    const buckets = new Map([[at("2026-11-01T05:30:00Z"), [9, 1]]]); // 01:30 EDT, Nov 1
    const out = hourly(buckets, new Date("2026-11-02T05:30:00Z"), "America/New_York");
    assert.equal(out.hour, 0);
    assert.equal(out.yesterday[1], 9);
  });
});

describe("localClock", () => {
  it("gives the local date and hour, midnight as 0", () => {
    const clock = localClock("Asia/Kolkata");
    assert.deepEqual(clock(new Date("2026-11-27T18:30:00Z")), ["2026-11-28", 0]);
    assert.deepEqual(clock(new Date("2026-11-27T18:29:59Z")), ["2026-11-27", 23]);
  });
});

describe("revenueSummary", () => {
  it("compares today so far with yesterday up to the same hour", () => {
    const data = {
      today: new Array(24).fill(0), yesterday: new Array(24).fill(0),
      orders_today: new Array(24).fill(0), orders_yesterday: new Array(24).fill(0), hour: 9,
    };
    data.today[9] = 1250;
    data.orders_today[9] = 9;
    data.yesterday[8] = 1000;
    data.yesterday[10] = 500; // after this hour: not counted
    data.orders_yesterday[8] = 3;
    data.orders_yesterday[10] = 2;
    assert.equal(revenueSummary(data),
      "Today so far: 1,250 credits in 9 orders. Yesterday by this hour: 1,000 credits in 3 orders.");
  });

  it("counts live orders only, the cancelled ones apart, in the singular for one", () => {
    const m = at("2026-11-28T09:00:00Z");
    // 615 placed today, 49 of them cancelled: 566 live orders, as the cards count them.
    const buckets = new Map([[m, [36999, 615, 49]], [m - 86400, [12, 1, 0]]]);
    const data = hourly(buckets, new Date((m + 600) * 1000), "UTC");
    assert.equal(sum(data.orders_today), 566);
    assert.equal(sum(data.cancelled_today), 49);
    assert.equal(revenueSummary(data), "Today so far: 36,999 credits in 566 orders " +
      "(49 cancelled). Yesterday by this hour: 12 credits in 1 order.");
  });
});
