// activity-text.js: one change-log entry in words (the activity list, an order's history).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { activityText } from "../../app/static/js/dashboard/activity-text.js";

const base = { actor: "bob", order_number: "ORD-20261128-00042" };

describe("activityText", () => {
  it("says who placed the order", () => {
    assert.equal(activityText({ ...base, actor: "alice", kind: "created" }),
      "alice placed ORD-20261128-00042");
  });

  it("says who moved it, from and to", () => {
    assert.equal(
      activityText({ ...base, kind: "status", from_status: "Pending", to_status: "Shipped" }),
      "bob moved ORD-20261128-00042 from Pending to Shipped");
  });

  it("gives the cancellation's reason when there is one", () => {
    assert.equal(activityText({ ...base, kind: "cancelled", note: "Out of stock" }),
      "bob cancelled ORD-20261128-00042: Out of stock");
    assert.equal(activityText({ ...base, kind: "cancelled" }), "bob cancelled ORD-20261128-00042");
  });

  it("names undone moves and cancellations", () => {
    assert.equal(
      activityText({ ...base, kind: "status_undone", from_status: "Shipped",
        to_status: "Pending" }),
      "bob undid the move of ORD-20261128-00042 to Shipped (back to Pending)");
    assert.equal(activityText({ ...base, kind: "cancel_undone" }),
      "bob undid the cancellation of ORD-20261128-00042 (charged again)");
  });

  it("uses the subject given (an order's own history says \"it\")", () => {
    assert.equal(activityText({ ...base, kind: "created" }, "it"), "bob placed it");
  });

  it("says System without an actor and ? for a missing status", () => {
    assert.equal(activityText({ order_number: "ORD-1", kind: "status" }),
      "System moved ORD-1 from ? to ?");
  });

  it("tells notes, tags, refunds and a shipment's tracking number", () => {
    assert.equal(activityText({ ...base, kind: "note", note: "Call first" }),
      "bob noted on ORD-20261128-00042: Call first");
    assert.equal(activityText({ ...base, kind: "note_deleted" }),
      "bob deleted a note on ORD-20261128-00042");
    assert.equal(activityText({ ...base, kind: "tagged", note: "+vip -gift" }),
      "bob tagged ORD-20261128-00042 +vip -gift");
    assert.equal(activityText({ ...base, kind: "refunded", credits: 5, note: "Dented" }),
      "bob refunded 5 credits of ORD-20261128-00042: Dented");
    assert.equal(
      activityText({ ...base, kind: "status", from_status: "Pending", to_status: "Shipped",
        note: "UPS 1Z999AA10123456784" }),
      "bob moved ORD-20261128-00042 from Pending to Shipped (UPS 1Z999AA10123456784)");
  });
});
