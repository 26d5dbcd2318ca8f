// hold-rules.js: when the orders list must hold still, what a bulk request says each order
// showed, and which selected orders leave the selection (docs/design.md §5a).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  TOUCH_LINGER_MS, fromOf, holdReasons, leavers, leftText, shownStatus,
} from "../../app/static/js/dashboard/hold-rules.js";

const free = { pointerInside: false, touching: false, touchUntil: 0, now: 1000,
  keyboardFocus: false, dialogOpen: false, selected: false };

describe("holdReasons", () => {
  it("is empty when nothing aims at the list", () => {
    assert.deepEqual(holdReasons(free), []);
  });

  it("names each thing that holds it", () => {
    assert.deepEqual(holdReasons({ ...free, pointerInside: true }), ["pointer"]);
    assert.deepEqual(holdReasons({ ...free, keyboardFocus: true }), ["focus"]);
    assert.deepEqual(holdReasons({ ...free, dialogOpen: true, selected: true }),
      ["dialog", "selection"]);
  });

  it("keeps a touch for its linger after the finger lifts, then lets go", () => {
    assert.deepEqual(holdReasons({ ...free, touching: true }), ["touch"]);
    const lifted = { ...free, touchUntil: 1000 + TOUCH_LINGER_MS };
    assert.deepEqual(holdReasons({ ...lifted, now: 1000 + TOUCH_LINGER_MS - 1 }), ["touch"]);
    assert.deepEqual(holdReasons({ ...lifted, now: 1000 + TOUCH_LINGER_MS }), []);
  });
});

describe("shownStatus", () => {
  it("is the status, or Cancelled for a cancelled order", () => {
    assert.equal(shownStatus({ status: "Shipped", cancelled: false }), "Shipped");
    assert.equal(shownStatus({ status: "Pending", cancelled: true }), "Cancelled");
    assert.equal(shownStatus(null), null);
  });
});

describe("fromOf", () => {
  it("gives every id the status it showed, keyed as JSON object keys", () => {
    const seen = new Map([[3, "Pending"], [7, "Cancelled"]]);
    assert.deepEqual(fromOf([3, 7], seen), { 3: "Pending", 7: "Cancelled" });
  });

  it("leaves out an id that showed nothing (the server then refuses the whole request)", () => {
    assert.deepEqual(fromOf([3, 9], new Map([[3, "Shipped"]])), { 3: "Shipped" });
  });
});

describe("leavers", () => {
  const pendingView = (o) => !o.cancelled && o.status === "Pending";
  const o = (id, status, cancelled = false) => ({ id, status, cancelled,
    order_number: "ORD-" + id });

  it("picks the selected orders that no longer match, once each", () => {
    const selected = new Set([1, 2, 3]);
    const gone = leavers([o(1, "Shipped"), o(2, "Pending"), o(4, "Shipped"),
      o("1", "Shipped"), o(3, "Pending", true)], selected, pendingView);
    assert.deepEqual(gone.map((x) => x.id), [1, 3]);
  });

  it("says so, by name for a few and by number for many", () => {
    assert.equal(leftText([o(1, "Shipped")]),
      "ORD-1 (now Shipped) left this view and the selection.");
    assert.equal(leftText([o(1, "Shipped"), o(2, "Pending", true)]),
      "ORD-1 (now Shipped), ORD-2 (cancelled) left this view and the selection.");
    assert.equal(leftText([1, 2, 3, 4].map((i) => o(i, "Shipped"))),
      "4 selected orders left this view and the selection.");
    assert.equal(leftText([]), "");
  });
});
