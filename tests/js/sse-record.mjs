// A client we did not write: the `eventsource` npm package, recording what an Order Pulse
// dashboard stream delivers, for tests/test_slow_readers.py. One JSON line per event:
// {t: "open"}, {t: "error", readyState}, {t: "order", activity: id} for `event: order`,
// {t: "message", type, id, resumed_from, activity: [ids]} for the default event; then
// {t: "end", opens} when stdin closes. It reconnects by itself with `Last-Event-ID`.
// Usage: node tests/js/sse-record.mjs URL COOKIE USER_AGENT
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
  say({ t: "open" });
});
source.addEventListener("error", () => say({ t: "error", readyState: source.readyState }));
source.addEventListener("order", (event) => {
  say({ t: "order", activity: JSON.parse(event.data).activity.id });
});
source.addEventListener("message", (event) => {
  const body = JSON.parse(event.data);
  say({
    t: "message",
    type: body.type,
    id: event.lastEventId,
    resumed_from: body.resumed_from ?? null,
    activity: (body.activity ?? []).map((entry) => entry.id),
  });
});
process.stdin.resume();
process.stdin.on("end", () => {
  say({ t: "end", opens });
  source.close();
  process.exit(0);
});
