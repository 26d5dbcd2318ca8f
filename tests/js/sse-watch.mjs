// A client we did not write: the `eventsource` npm package, on an Order Pulse stream, for
// tests/test_draining.py. Prints one JSON line per event ({t: "open" | "message" | "error",
// id, readyState}) until stdin closes, then {t: "end", readyState, opens}. By the HTML
// spec ("Server-sent events") a non-200 answer closes it for good (readyState 2).
// Usage: node tests/js/sse-watch.mjs URL COOKIE USER_AGENT (the session is bound to the
// user agent it logged in with).
import { EventSource } from "eventsource";

const [url, cookie, userAgent] = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
let opens = 0;
const source = new EventSource(url, {
  fetch: (input, init) =>
    fetch(input, {
      ...init,
      headers: { ...init.headers, Cookie: cookie, "User-Agent": userAgent },
    }),
});
source.addEventListener("open", () => {
  opens += 1;
  say({ t: "open", opens });
});
source.addEventListener("message", (event) => {
  say({ t: "message", id: event.lastEventId });
});
source.addEventListener("error", () => {
  say({ t: "error", readyState: source.readyState });
});
process.stdin.resume();
process.stdin.on("end", () => {
  say({ t: "end", readyState: source.readyState, opens });
  source.close();
  process.exit(0);
});
