/* Order Pulse live dashboard client (docs/design.md §5): wires the panels to the shared stream.
 *
 * Everything on the page moves from pushed data, never from a request per change
 * (requests.json lists the few requests the page makes, and when):
 * - data-bootstrap: what the page was rendered with (version, stats, activity, revenue);
 * - `message` frames: `initial` (the first frame: since the page's version when it
 *   resumes, `resumed_from`), `update` (stats, orders and revenue buckets changed since
 *   the previous frame) and `reset` (too far behind: reload the view with one request);
 * - `event: order` frames {kind, order, actor, activity}: the table, the feed, an open
 *   dialog's history and notes, the view's count and new-order notices;
 * - `event: views` frames {counts}: the saved views' counts (saved-views.js);
 * - polls of the JSON endpoint while the stream is down, in the resume's shape;
 * - `event: presence` frames {admins}: who else is here and what they have open
 *   (presence.js);
 * - `event: revoked`: the session ended on the server; go to the login page.
 * Hidden tabs keep listening (title count, notices, sound, desktop alerts); only the chart
 * waits to be shown to redraw. Data is only ever written with textContent / createElement.
 *
 * The vendored Chart.js is a classic deferred script placed before this module, so it has
 * run by the time this does; everything else is imported (../lib/ holds what the other
 * pages share).
 */
import { clearHighlightsWhenDone } from "../lib/dom.js";
import { getJSON } from "../lib/http.js";
import { toast } from "../lib/toasts.js";
import { createActivity } from "./activity.js";
import { bindActions, summaryFromDetails } from "./actions.js";
import { createAway } from "./away.js";
import { createBulk } from "./bulk.js";
import { createCards } from "./cards.js";
import { readConfig } from "./config.js";
import { confirmAction } from "./confirm.js";
import { createDesktopAlerts } from "./desktop-alerts.js";
import { createDetails } from "./details.js";
import { bindDialogClosers, openDialog } from "./dialogs.js";
import { createFeed } from "./feed.js";
import { createHold } from "./hold.js";
import { bindInsights } from "./insights.js";
import { bindKeyboard } from "./keyboard.js";
import { createNotices } from "./notices.js";
import { createPresence } from "./presence.js";
import { createRevenue } from "./revenue.js";
import { createSavedViews } from "./saved-views.js";
import { createStream } from "./stream-leader.js";
import { createView } from "./view.js";

function byId(orders) {
  return new Map((orders || []).map((o) => [String(o.id), o]));
}

function init(root) {
  const cfg = readConfig(root);
  clearHighlightsWhenDone();
  const cards = createCards(cfg.version);
  const view = createView(cfg);
  const selection = new Set();
  // Stable targets (docs/design.md §5a): the list holds still while the admin aims at it.
  const hold = createHold(root.querySelector("[data-orders-region]"), () => selection.size);
  const feed = createFeed(root, cfg, view, selection, hold);
  // An answer to an action taken in the dialog (tags, notes, shipping, refunds): the row and
  // the dialog at once; every other page follows from the stream.
  const details = createDetails(cfg, {
    applyDetails(order) {
      feed.upsert(summaryFromDetails(order));
      details.showIfOpen(order);
    },
    applySummary(summary) {
      feed.upsert(summary);
      details.refreshIfShowing(summary);
    },
  });
  const savedViews = createSavedViews(cfg, confirmAction);
  const openOrder = (id) => details.open(id);
  const alerts = createDesktopAlerts(openOrder, cfg.burst);
  const away = createAway(feed);
  // Only a click or a new order uses this, and both come after `stream` exists.
  const notices = createNotices(() => stream.broadcast({ type: "seen" }), openOrder, alerts,
    cfg.burst, away);
  const activity = createActivity(cfg.activityUrl);
  const revenue = createRevenue(cfg.timeZone);
  let reloading = null;
  let bulk = null;
  let presence = null;

  /** Orders and activity entries from any source: rows, the view's count, an open dialog
   *  and its history, and a notice for each order placed after the page's data. */
  function merge(orders, entries) {
    feed.merge(orders, (order) => details.refreshIfShowing(order));
    feed.applyEntries(entries, byId(orders));
    activity.add(entries);
    details.addActivity(entries);
    const orderOf = byId(orders);
    for (const entry of entries || []) {
      if (entry.kind !== "created") continue;
      const order = orderOf.get(String(entry.order_id));
      if (order && feed.isNewOrder(order, "created")) notices.announce(order);
    }
    bulk.follow(orders);
    bulk.render();
  }

  function applyStats(stats, force) {
    cards.apply(stats, force);
    feed.applyStats(stats);
  }

  /** `reset`: one request reloads everything this view shows. */
  function reload() {
    if (reloading) return reloading;
    const url = cfg.dashboardUrl + (cfg.viewQuery ? "?" + cfg.viewQuery : "");
    reloading = getJSON(url).then((data) => {
      stream.setVersion(data.version);
      applyStats(data.stats, true);
      feed.markCounted(data.activity);
      feed.replace(data.rows, data.total);
      activity.replace(data.activity);
      revenue.apply(data.revenue, true);
      bulk.render();
    }).catch((err) => {
      toast(err.message, { type: "error", title: "Could not reload the dashboard" });
    }).then(() => { reloading = null; });
    return reloading;
  }

  const stream = createStream(cfg, {
    snapshot(data) {
      if (data.type === "reset") {
        applyStats(data, true);
        reload();
        return;
      }
      applyStats(data);
      merge(data.recent_updates, data.activity);
      revenue.apply(data.revenue, data.type === "initial");
      if (data.view_counts) savedViews.apply(data.view_counts);
    },
    views: (data) => savedViews.apply(data.counts),
    order(data) {
      feed.upsert(data.order);
      if (data.activity) {
        feed.applyEntries([data.activity], byId([data.order]));
        activity.add([data.activity]);
        details.addActivity([data.activity]);
      }
      if (data.kind === "created") notices.announce(data.order);
      details.refreshIfShowing(data.order);
      presence.orderChanged(data);
      bulk.follow([data.order]);
      bulk.render();
    },
    presence: (data) => presence.apply(data),
    poll(data) {
      if (data.reset) {
        applyStats(data.stats, true);
        reload();
        return;
      }
      applyStats(data.stats);
      merge(data.recent_orders, data.activity);
      if (data.revenue) revenue.apply(data.revenue, true);
    },
    revoked() {
      window.location.assign(cfg.loginUrl + "?next=" +
        encodeURIComponent(window.location.pathname + window.location.search));
    },
    seen: () => notices.setUnread(0, true),
  });

  bindDialogClosers(Array.from(document.querySelectorAll("dialog")));
  const actions = bindActions(cfg, feed, details, hold);
  presence = createPresence(cfg, { details, cancelDialog: actions.cancelDialog, stream });
  bulk = createBulk(cfg, feed, selection, {
    apply: (order) => {
      feed.upsert(order);
      details.refreshIfShowing(order);
    },
    cancelDialog: actions.cancelDialog,
    confirm: confirmAction,
    openDialog,
    hold,
    matches: (order) => view.matches(order),
    version: () => cards.version(),
  });
  bindKeyboard(feed, { undoLast: actions.undoLast });
  bindInsights();

  const boot = cfg.bootstrap;
  feed.setBaseline(boot.timestamp);
  feed.markCounted(boot.activity);
  activity.add(boot.activity);
  revenue.apply(boot.revenue, true);
  stream.setIndicator("connecting");
  stream.start();
}

const root = document.getElementById("dashboard");
if (root) init(root);
