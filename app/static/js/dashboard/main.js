/* Order Pulse live dashboard client (DESIGN.md §5): wires the panels to the shared stream.
 *
 * Everything on the page moves from pushed data, never from a request per change
 * (requests.json lists the few requests the page makes, and when):
 * - data-bootstrap: what the page was rendered with (version, stats, activity, revenue);
 * - `message` frames: `initial` (the first frame: since the page's version when it
 *   resumes, `resumed_from`), `update` (stats, orders and revenue buckets changed since
 *   the previous frame) and `reset` (too far behind: reload the view with one request);
 * - `event: order` frames {kind, order, actor, activity}: the feed, activity and notices;
 * - polls of the JSON endpoint while the stream is down, in the resume's shape;
 * - `event: revoked`: the session ended on the server; go to the login page.
 * Data is only ever written with textContent / createElement.
 *
 * common.js (window.OrderPulse) and the vendored Chart.js are classic deferred scripts placed
 * before this module, so both have run by the time it does.
 */
import { createActivity } from "./activity.js";
import { bindActions } from "./actions.js";
import { createCards } from "./cards.js";
import { readConfig } from "./config.js";
import { createDetails } from "./details.js";
import { bindDialogClosers } from "./dialogs.js";
import { clearHighlightsWhenDone } from "./dom.js";
import { createFeed } from "./feed.js";
import { createNotices } from "./notices.js";
import { createRevenue } from "./revenue.js";
import { createStream } from "./stream-leader.js";

const OP = window.OrderPulse;

function init(root) {
  const cfg = readConfig(root);
  clearHighlightsWhenDone();
  const cards = createCards(cfg.version);
  const feed = createFeed(root, cfg);
  // Only a click or a new order uses this, and both come after `stream` exists.
  const notices = createNotices(() => stream.broadcast({ type: "seen" }));
  const activity = createActivity();
  const revenue = createRevenue(root.dataset.timeZone || undefined);
  const details = createDetails(cfg);
  let reloading = null;

  /** Orders and activity entries from any source: rows, an open dialog, and a notice for
   *  each order placed after the page's data (announced once). */
  function merge(orders, entries) {
    feed.merge(orders, (order) => details.refreshIfShowing(order));
    activity.add(entries);
    const byId = new Map((orders || []).map((o) => [String(o.id), o]));
    for (const entry of entries || []) {
      if (entry.kind !== "created") continue;
      const order = byId.get(String(entry.order_id));
      if (order && feed.isNewOrder(order, "created")) notices.announce(order);
    }
  }

  /** `reset`: one request reloads everything this view shows. */
  function reload() {
    if (reloading) return reloading;
    const url = cfg.dashboardUrl + (cfg.viewQuery ? "?" + cfg.viewQuery : "");
    reloading = OP.getJSON(url).then((data) => {
      stream.setVersion(data.version);
      cards.apply(data.stats, true);
      feed.replace(data.rows, data.total);
      activity.replace(data.activity);
      revenue.apply(data.revenue, true);
    }).catch((err) => {
      OP.toast(err.message, { type: "error", title: "Could not reload the dashboard" });
    }).then(() => { reloading = null; });
    return reloading;
  }

  const stream = createStream(cfg, {
    snapshot(data) {
      if (data.type === "reset") {
        cards.apply(data, true);
        reload();
        return;
      }
      cards.apply(data);
      merge(data.recent_updates, data.activity);
      revenue.apply(data.revenue, data.type === "initial");
    },
    order(data) {
      feed.upsert(data.order, data.kind);
      if (data.kind === "created") notices.announce(data.order);
      if (data.activity) activity.add([data.activity]);
      details.refreshIfShowing(data.order);
    },
    poll(data) {
      if (data.reset) {
        cards.apply(data.stats, true);
        reload();
        return;
      }
      cards.apply(data.stats);
      merge(data.recent_orders, data.activity);
      if (data.revenue) revenue.apply(data.revenue, true);
    },
    revoked() {
      window.location.assign(cfg.loginUrl + "?next=" +
        encodeURIComponent(window.location.pathname + window.location.search));
    },
    seen: () => notices.setUnread(0, true),
  });

  bindDialogClosers([details.dialog, document.getElementById("cancel-dialog")]);
  bindActions(cfg, feed, details);

  const boot = cfg.bootstrap;
  feed.setBaseline(boot.timestamp);
  activity.add(boot.activity);
  revenue.apply(boot.revenue, true);
  stream.setIndicator("connecting");
  stream.start();
}

const root = document.getElementById("dashboard");
if (root && window.OrderPulse) init(root);
