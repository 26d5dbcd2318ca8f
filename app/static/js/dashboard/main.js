/* Order Pulse live dashboard client (DESIGN.md §5): wires the panels to the shared stream.
 *
 * `message` frames carry the stats snapshot plus `recent_updates`; `event: order` frames
 * carry {kind, order, actor, activity}; polls of the JSON endpoint carry {stats,
 * recent_orders}. Every source feeds the same panels, so a gap filled by polling looks the
 * same as a live frame. Data is only ever written with textContent / createElement.
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

function init(root) {
  const cfg = readConfig(root);
  clearHighlightsWhenDone();
  const cards = createCards(cfg.version);
  const feed = createFeed(root, cfg);
  // Only a click or a new order uses this, and both come after `stream` exists.
  const notices = createNotices(() => stream.broadcast({ type: "seen" }));
  const activity = createActivity(cfg.activityUrl);
  const revenue = createRevenue(cfg.revenueUrl);
  const details = createDetails(cfg);

  // Snapshots and polls repeat recent orders: announce the new ones, refresh an open dialog.
  function afterMerge(order) {
    // Orders committed by another process (a CLI job, another host without Redis) arrive
    // only in snapshots, never as `event: order` frames: announce those too.
    if (feed.isNewOrder(order, null)) notices.announce(order);
    details.refreshIfShowing(order);
  }

  const stream = createStream(cfg, {
    snapshot(data) {
      feed.setBaseline(data.timestamp);
      const before = cards.version();
      cards.apply(data);
      feed.merge(data.recent_updates, afterMerge);
      if (data.type === "update" || cards.version() !== before) revenue.scheduleRefresh();
    },
    order(data) {
      feed.upsert(data.order, data.kind);
      if (data.kind === "created") notices.announce(data.order);
      if (data.activity) activity.add([data.activity]);
      details.refreshIfShowing(data.order);
      revenue.scheduleRefresh();
    },
    poll(data) {
      feed.setBaseline(data.timestamp);
      cards.apply(data.stats);
      feed.merge(data.recent_orders, afterMerge);
    },
    seen: () => notices.setUnread(0, true),
    refreshActivity: activity.refresh,
    refreshRevenue: revenue.refresh,
    scheduleSideRefresh: revenue.scheduleRefresh,
  });

  bindDialogClosers([details.dialog, document.getElementById("cancel-dialog")]);
  bindActions(cfg, feed, details, stream);

  stream.setIndicator("connecting");
  activity.refresh();
  revenue.refresh();
  stream.start();
}

const root = document.getElementById("dashboard");
if (root && window.OrderPulse) init(root);
