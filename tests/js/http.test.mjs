// http.js: the JSON helpers every page's requests go through (errors, CSRF, URLs).
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";

import { getJSON, postJSON, readResponse, urlFor } from "../../app/static/js/lib/http.js";

const json = (body, status = 200) => new Response(JSON.stringify(body), {
  status, headers: { "Content-Type": "application/json" },
});

describe("readResponse", () => {
  it("resolves with the body of a success", async () => {
    assert.deepEqual(await readResponse(json({ success: true, n: 1 })), { success: true, n: 1 });
  });

  it("rejects with the body's error, its status and the body", async () => {
    const body = { success: false, error: "Order already shipped.", order: { id: 7 } };
    await assert.rejects(readResponse(json(body, 409)), (err) => {
      assert.equal(err.message, "Order already shipped.");
      assert.equal(err.status, 409);
      assert.deepEqual(err.data, body);
      return true;
    });
  });

  it("rejects {success: false} even with a 200", async () => {
    await assert.rejects(readResponse(json({ success: false, error: "No." })), /No\./);
  });

  it("says the session ended on a 401 without a message", async () => {
    await assert.rejects(readResponse(new Response("", { status: 401 })),
      { message: "Your session has ended: please log in again.", status: 401 });
  });

  it("names the HTTP status when the body is not JSON", async () => {
    await assert.rejects(readResponse(new Response("<h1>Bad gateway</h1>", { status: 502 })),
      { message: "Request failed (HTTP 502).", status: 502, data: null });
  });
});

describe("postJSON and getJSON", () => {
  beforeEach(() => {
    globalThis.document = {
      querySelector: (sel) => (sel === 'meta[name="csrf-token"]' ?
        { getAttribute: () => "token-123" } : null),
    };
  });
  afterEach(() => {
    delete globalThis.document;
    mock.restoreAll();
  });

  it("posts JSON with the CSRF header", async () => {
    const fetch = mock.method(globalThis, "fetch", async () => json({ success: true }));
    await postJSON("/admin/api/order/7/cancel", { reason: "Out of stock" });
    const [url, init] = fetch.mock.calls[0].arguments;
    assert.equal(url, "/admin/api/order/7/cancel");
    assert.equal(init.method, "POST");
    assert.equal(init.credentials, "same-origin");
    assert.equal(init.headers["X-CSRFToken"], "token-123");
    assert.equal(init.headers["Content-Type"], "application/json");
    assert.equal(init.body, '{"reason":"Out of stock"}');
  });

  it("gets JSON past the HTTP cache", async () => {
    const fetch = mock.method(globalThis, "fetch", async () => json({ success: true, v: 3 }));
    assert.deepEqual(await getJSON("/admin/api/dashboard"), { success: true, v: 3 });
    assert.equal(fetch.mock.calls[0].arguments[1].cache, "no-store");
  });

  it("turns an unreachable server into status 0", async () => {
    mock.method(globalThis, "fetch", async () => { throw new TypeError("Failed to fetch"); });
    await assert.rejects(getJSON("/x"),
      { message: "Network error: the server could not be reached.", status: 0 });
  });

  it("says when the browser is offline, so a page can keep what was typed", async () => {
    mock.method(globalThis, "fetch", async () => { throw new TypeError("Failed to fetch"); });
    const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
    Object.defineProperty(globalThis, "navigator", {
      configurable: true, value: { onLine: false },
    });
    try {
      await assert.rejects(postJSON("/x", {}), {
        message: "You are offline: nothing was sent. Try again when the connection is back.",
        status: 0,
        offline: true,
      });
    } finally {
      if (saved) Object.defineProperty(globalThis, "navigator", saved);
      else delete globalThis.navigator;
    }
  });

  it("sends the CSRF header on a GET too (the page's own script asks)", async () => {
    const fetch = mock.method(globalThis, "fetch", async () => json({ success: true }));
    await getJSON("/admin/api/order/7/details");
    assert.equal(fetch.mock.calls[0].arguments[1].headers["X-CSRFToken"], "token-123");
  });
});

describe("urlFor", () => {
  it("replaces the template's /0/ segment with the id", () => {
    assert.equal(urlFor("/admin/api/order/0/details", 42), "/admin/api/order/42/details");
    assert.equal(urlFor("/orders/0", "ORD-1"), "/orders/ORD-1");
    assert.equal(urlFor("/admin/api/order/0/status", "a/b"), "/admin/api/order/a%2Fb/status");
  });

  it("leaves other zeros alone", () => {
    assert.equal(urlFor("/v10/order/0/undo", 5), "/v10/order/5/undo");
  });
});
