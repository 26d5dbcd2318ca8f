// time-format.js: instants in the shop's zone, "Today"/"Yesterday" by the shop's days.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  createTimeFormat, isoTime, newerThan, parseInstant,
} from "../../app/static/js/lib/time-format.js";

// ICU may put a narrow no-break space before AM/PM; a page shows it as a space.
const plain = (text) => text.replace(/\s/g, " ");

describe("createTimeFormat", () => {
  const ny = createTimeFormat("America/New_York", "en-US");
  const now = new Date("2025-01-15T15:00:00Z"); // 10:00 AM EST on the 15th

  it("says Today and Yesterday by the shop's days, not UTC's", () => {
    assert.equal(plain(ny.formatLocal("2025-01-15T14:15:00Z", now)), "Today, 09:15 AM EST");
    // 04:47 UTC on the 15th is still the 14th in New York.
    assert.equal(plain(ny.formatLocal("2025-01-15T04:47:00Z", now)), "Yesterday, 11:47 PM EST");
  });

  it("gives the date for older days, and the year for another year", () => {
    assert.equal(plain(ny.formatLocal("2025-01-10T19:03:00Z", now)), "Jan 10, 02:03 PM EST");
    assert.equal(plain(ny.formatLocal("2024-11-26T19:03:00Z", now)),
      "Nov 26, 2024, 02:03 PM EST");
  });

  it("shows the zone's summer abbreviation in summer", () => {
    assert.equal(plain(ny.formatLocal("2025-07-04T16:00:00Z", now)), "Jul 4, 12:00 PM EDT");
  });

  it("keeps text that is not an instant, and nothing for nothing", () => {
    assert.equal(ny.formatLocal("soon", now), "soon");
    assert.equal(ny.formatLocal(null, now), "");
    assert.equal(ny.formatLocal("", now), "");
  });

  it("gives the exact instant in the zone and in UTC", () => {
    assert.equal(plain(ny.exactTime("2025-01-15T04:47:07Z")),
      "Tue, Jan 14, 2025, 11:47:07 PM EST · 2025-01-15 04:47:07 UTC");
    assert.equal(ny.exactTime("not a time"), "");
  });

  it("gives the local day, +5:30 and -8 around their midnights", () => {
    const india = createTimeFormat("Asia/Kolkata");
    assert.equal(india.localDay(new Date("2026-11-27T18:29:59Z")), "2026-11-27");
    assert.equal(india.localDay(new Date("2026-11-27T18:30:00Z")), "2026-11-28");
    const la = createTimeFormat("America/Los_Angeles");
    assert.equal(la.localDay(new Date("2026-11-28T07:59:59Z")), "2026-11-27");
    assert.equal(la.localDay(new Date("2026-11-28T08:00:00Z")), "2026-11-28");
  });

  it("finds yesterday whatever summer time did to the day's length", () => {
    // Just after midnight following the 23-hour day (Mar 8) and the 25-hour day (Nov 1).
    assert.deepEqual(ny.shopDays(new Date("2026-03-09T04:30:00Z")), ["2026-03-09", "2026-03-08"]);
    assert.deepEqual(ny.shopDays(new Date("2026-11-02T05:30:00Z")), ["2026-11-02", "2026-11-01"]);
    // And late in the long day itself.
    assert.deepEqual(ny.shopDays(new Date("2026-11-02T04:30:00Z")), ["2026-11-01", "2026-10-31"]);
  });

  it("falls back to the runtime's zone for an unknown zone name", () => {
    const odd = createTimeFormat("Mars/Olympus_Mons", "en-US");
    assert.match(odd.localDay(new Date("2025-01-15T12:00:00Z")), /^2025-01-1[456]$/);
  });
});

describe("instants", () => {
  it("parses ISO instants, null for anything else", () => {
    assert.equal(parseInstant("2025-01-15T04:47:00Z").getTime(), Date.UTC(2025, 0, 15, 4, 47));
    assert.equal(parseInstant("nope"), null);
    assert.equal(parseInstant(""), null);
  });

  it("isoTime sorts missing and unreadable times first (0)", () => {
    assert.equal(isoTime("1970-01-01T00:00:01Z"), 1000);
    assert.equal(isoTime(null), 0);
    assert.equal(isoTime("yesterday"), 0);
  });

  it("newerThan breaks ties on time by the higher id", () => {
    assert.ok(newerThan([2000, 1], [1000, 9]));
    assert.ok(!newerThan([1000, 9], [2000, 1]));
    assert.ok(newerThan([1000, 9], [1000, 8]));
    assert.ok(!newerThan([1000, 8], [1000, 8]));
  });
});
