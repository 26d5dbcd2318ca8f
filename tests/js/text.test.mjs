// text.js: the small formatters the dashboard and the order page share.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { capitalize, formatCount, slug } from "../../app/static/js/lib/text.js";

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
});
