// presence-text.js: what presence and a colleague's changes say (docs/design.md §5a).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  byOrder, cancelAfterChange, changeText, focusText, othersHere,
} from "../../app/static/js/dashboard/presence-text.js";

const entry = (username, session, orderId = null, action = null) =>
  ({ user_id: 1, username, session, order_id: orderId, action, since: null });

describe("othersHere", () => {
  it("lists each other admin once, leaves this page out, and names my other windows", () => {
    const admins = [entry("boss", "mine"), entry("boss", "laptop"), entry("maria", "m1"),
      entry("maria", "m2"), entry("john", "j1")];
    assert.deepEqual(othersHere(admins, "mine", "boss"), [
      { username: "boss", you: true, sessions: 1 },
      { username: "maria", you: false, sessions: 2 },
      { username: "john", you: false, sessions: 1 },
    ]);
    assert.deepEqual(othersHere([entry("boss", "mine")], "mine", "boss"), []);
    assert.deepEqual(othersHere(undefined, "mine", "boss"), []);
  });
});

describe("byOrder and focusText", () => {
  it("groups who is on each order, acting before viewing", () => {
    const admins = [entry("maria", "m1", 7, "viewing"), entry("john", "j1", 7, "cancelling"),
      entry("ann", "a1", 7, "viewing"), entry("boss", "mine", 7, "cancelling"),
      entry("zed", "z1", 9, "advancing"), entry("idle", "i1")];
    const orders = byOrder(admins, "mine");
    assert.deepEqual(Object.keys(orders).sort(), ["7", "9"]);
    assert.equal(focusText(orders["7"], "boss"),
      "john is cancelling · maria and ann are viewing");
    assert.equal(focusText(orders["9"], "boss"), "zed is advancing");
    assert.equal(focusText(undefined, "boss"), "");
  });

  it("says when it is the admin's own other window", () => {
    assert.equal(focusText([entry("boss", "laptop", 3, "cancelling")], "boss"),
      "You (another window) is cancelling");
  });
});

describe("changeText", () => {
  const order = { id: 7, status: "Shipped", cancelled: false };
  it("names who changed the order and how", () => {
    assert.equal(changeText({ kind: "status", actor: "maria", order }, "boss"),
      "maria moved it to Shipped.");
    assert.equal(changeText({ kind: "status", actor: "maria",
      order: { ...order, status: "Delivered" } }, "boss"), "maria marked it Delivered.");
    assert.equal(changeText({ kind: "cancelled", actor: "maria", order }, "boss"),
      "maria cancelled it.");
    assert.equal(changeText({ kind: "status_undone", actor: null,
      order: { ...order, status: "Pending" } }, "boss"),
    "The system undid the last move: it is Pending again.");
  });

  it("says nothing of the page's own changes or of new orders", () => {
    assert.equal(changeText({ kind: "status", actor: "boss", order }, "boss"), null);
    assert.equal(changeText({ kind: "created", actor: "alice", order }, "boss"), null);
    assert.equal(changeText(null, "boss"), null);
  });
});

describe("cancelAfterChange", () => {
  it("offers to cancel anyway from the status now shown, keeping the reason", () => {
    const next = cancelAfterChange({ status: "Shipped", cancelled: false }, "Pending", "maria");
    assert.equal(next.canCancel, true);
    assert.equal(next.from, "Shipped");
    assert.equal(next.button, "Cancel anyway");
    assert.match(next.note, /^maria moved it to Shipped\. Your reason is kept/);
  });

  it("offers only closing once it cannot be cancelled", () => {
    const delivered = cancelAfterChange({ status: "Delivered", cancelled: false }, "Shipped",
      "maria");
    assert.equal(delivered.canCancel, false);
    assert.match(delivered.note, /can no longer be cancelled/);
    const cancelled = cancelAfterChange({ status: "Pending", cancelled: true }, "Pending", null);
    assert.equal(cancelled.canCancel, false);
    assert.match(cancelled.note, /^Someone cancelled this order already/);
  });

  it("changes nothing when the status is still the one seen", () => {
    const same = cancelAfterChange({ status: "Pending", cancelled: false }, "Pending", "maria");
    assert.deepEqual(same, { canCancel: true, from: "Pending", button: null, note: "" });
  });
});
