// view.js: which pushed orders a filtered, searched or dated view shows, how a change moves
// its count, and how it sorts (the rules of app/services/order_query.py, in the browser).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { createView, tagChange } from "../../app/static/js/dashboard/view.js";

function view(filter, timeZone = "America/New_York") {
  return createView({
    filter: { status: "", q: "", from: "", to: "", sort: "ordered", dir: "desc", ...filter },
    timeZone,
  });
}

const order = (fields) => ({
  id: 1, order_number: "ORD-20250115-00001", username: "alice", email: "alice@example.com",
  status: "Pending", cancelled: false, date_ordered: "2025-01-15T15:00:00Z",
  total_credits: 100, ...fields,
});

describe("matches", () => {
  it("a status filter leaves cancelled orders out; Cancelled shows only them", () => {
    const shipped = view({ status: "Shipped" });
    assert.ok(shipped.matches(order({ status: "Shipped" })));
    assert.ok(!shipped.matches(order({ status: "Shipped", cancelled: true })));
    assert.ok(!shipped.matches(order({ status: "Pending" })));
    const cancelled = view({ status: "Cancelled" });
    assert.ok(cancelled.matches(order({ cancelled: true })));
    assert.ok(!cancelled.matches(order()));
  });

  it("q matches number, username or email, ignoring case", () => {
    assert.ok(view({ q: "ALICE@" }).matches(order()));
    assert.ok(view({ q: "00001" }).matches(order()));
    assert.ok(!view({ q: "bob" }).matches(order()));
  });

  it("from/to are the shop's local dates, inclusive", () => {
    // 03:00 UTC on the 16th is the 15th in New York.
    const late = order({ date_ordered: "2025-01-16T03:00:00Z" });
    assert.ok(view({ from: "2025-01-15", to: "2025-01-15" }).matches(late));
    assert.ok(!view({ from: "2025-01-16" }).matches(late));
    assert.ok(view({ from: "2025-01-16" }, "Asia/Tokyo").matches(late));
    assert.ok(!view({ to: "2025-01-15" }).matches(order({ date_ordered: null })));
  });
});

describe("delta", () => {
  it("counts a move into and out of a status view", () => {
    const shipped = view({ status: "Shipped", q: "alice" });
    const o = order();
    assert.equal(shipped.delta({ kind: "status", from_status: "Pending", to_status: "Shipped" }, o),
      1);
    assert.equal(shipped.delta({ kind: "status", from_status: "Shipped",
      to_status: "Out for Delivery" }, o), -1);
    assert.equal(shipped.delta({ kind: "cancelled", from_status: "Shipped" }, o), -1);
    assert.equal(shipped.delta({ kind: "cancel_undone", from_status: "Shipped",
      to_status: "Shipped" }, o), 1);
  });

  it("a new order counts where it matches; another customer's never", () => {
    const v = view({ q: "alice" });
    assert.equal(v.delta({ kind: "created", to_status: "Pending" }, order()), 1);
    assert.equal(v.delta({ kind: "created" }, order({ username: "bob", email: "b@x",
      order_number: "ORD-2" })), 0);
    assert.equal(v.delta({ kind: "created" }, null), 0);
  });

  it("a counter view takes its count from the stats instead", () => {
    assert.equal(view({ status: "Pending" }).countStat, "pending_count");
    assert.equal(view({}).countStat, "total_orders");
    assert.equal(view({ status: "Pending", q: "x" }).countStat, null);
  });
});

describe("compare", () => {
  const a = order({ id: 1, total_credits: 50, date_ordered: "2025-01-15T10:00:00Z" });
  const b = order({ id: 2, total_credits: 70, date_ordered: "2025-01-15T09:00:00Z" });

  it("sorts by ordered time, newest first by default", () => {
    assert.ok(view({}).compare(a, b) < 0);
    assert.ok(view({ dir: "asc" }).compare(a, b) > 0);
    assert.ok(view({}).newestFirst);
  });

  it("sorts by total, ties broken by id", () => {
    assert.ok(view({ sort: "total" }).compare(b, a) < 0);
    const twin = { ...a, id: 3 };
    assert.ok(view({ sort: "total" }).compare(twin, a) < 0);
  });

  it("sorts by workflow position, cancelled last", () => {
    const asc = view({ sort: "status", dir: "asc" });
    assert.ok(asc.compare(order({ status: "Pending" }), order({ status: "Shipped" })) < 0);
    assert.ok(asc.compare(order({ status: "Delivered" }), order({ cancelled: true })) < 0);
    assert.ok(asc.sortsByStatus);
  });
});

describe("tags", () => {
  it("a tag view shows the orders that carry the tag", () => {
    const vip = view({ tag: "vip" });
    assert.ok(vip.matches(order({ tags: ["gift", "vip"] })));
    assert.ok(!vip.matches(order({ tags: ["gift"] })));
    assert.ok(!vip.matches(order()));
    assert.equal(vip.countStat, null);
    assert.ok(vip.filtered);
  });

  it("a tagged entry moves a tag view's count by what it added or removed", () => {
    const vip = view({ tag: "gift wrap" });
    const entry = (note) => ({ kind: "tagged", note });
    const o = order({ tags: ["gift wrap"] });
    assert.equal(vip.delta(entry("+gift wrap +rush"), o), 1);
    assert.equal(vip.delta(entry("-gift wrap"), order({ tags: [] })), -1);
    assert.equal(vip.delta(entry("+rush"), o), 0);
    // Not in the view's status: a tag change does not bring it in.
    const pendingVip = view({ tag: "gift wrap", status: "Shipped" });
    assert.equal(pendingVip.delta(entry("+gift wrap"), o), 0);
  });

  it("a status move counts in a tag view only for an order that carries the tag", () => {
    const shippedVip = view({ status: "Shipped", tag: "vip" });
    const move = { kind: "status", from_status: "Pending", to_status: "Shipped" };
    assert.equal(shippedVip.delta(move, order({ status: "Shipped", tags: ["vip"] })), 1);
    assert.equal(shippedVip.delta(move, order({ status: "Shipped", tags: [] })), 0);
  });

  it("tagChange splits a note into added and removed tags, spaces included", () => {
    assert.deepEqual(tagChange("+vip +gift wrap -rush order"), {
      added: ["vip", "gift wrap"], removed: ["rush order"],
    });
    assert.deepEqual(tagChange(""), { added: [], removed: [] });
  });

  it("a search matches tags too", () => {
    assert.ok(view({ q: "WRAP" }).matches(order({ tags: ["gift wrap"] })));
    assert.ok(!view({ q: "wrap" }).matches(order({ tags: ["vip"] })));
  });
});
