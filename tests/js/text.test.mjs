// text.js: the small formatters the dashboard and the order page share.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { capitalize, formatCount, plural, slug } from "../../app/static/js/lib/text.js";

describe("text", () => {
  it("slug makes a CSS class part of a status or kind", () => {
    assert.equal(slug("Out for Delivery"), "out-for-delivery");
    assert.equal(slug("status_undone"), "status-undone");
    assert.equal(slug("  Pending! "), "pending");
    assert.equal(slug(null), "");
  });

  it("capitalize raises the first letter only", () => {
    assert.equal(capitalize("home delivery"), "Home delivery");
    assert.equal(capitalize(""), "");
    assert.equal(capitalize(undefined), "");
  });

  it("formatCount groups thousands, 0 for what is not a number", () => {
    assert.equal(formatCount(1234567), "1,234,567");
    assert.equal(formatCount("42"), "42");
    assert.equal(formatCount(null), "0");
    assert.equal(formatCount("many"), "0");
  });

  it("plural says one in the singular, every other count in the plural", () => {
    assert.equal(plural(1, "order"), "1 order");
    assert.equal(plural(87, "order"), "87 orders");
    assert.equal(plural(0, "order"), "0 orders");
    assert.equal(plural(1204, "order"), "1,204 orders");
    assert.equal(plural(2, "entry", "entries"), "2 entries");
    assert.equal(plural("1", "entry", "entries"), "1 entry");
  });
});
