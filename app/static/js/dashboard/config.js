/* The dashboard's settings, read once from the data-* attributes of #dashboard, and the
 * data the page was rendered with (data-bootstrap: {version, stats, activity, revenue,
 * timestamp}), from which the stream resumes. */

import { BACKOFF_MAX_MS, BACKOFF_MIN_MS } from "../lib/backoff.js";

export const LOCK_NAME = "orderpulse-stream";

function intData(root, name, fallback) {
  const value = parseInt(root.dataset[name] || "", 10);
  return isNaN(value) || value < 0 ? fallback : value;
}

function bootstrapData(root) {
  try {
    return JSON.parse(root.dataset.bootstrap || "{}");
  } catch (e) {
    return {};
  }
}

export function readConfig(root) {
  const data = root.dataset;
  const bootstrap = bootstrapData(root);
  const cfg = {
    streamUrl: data.streamUrl,
    updatesUrl: data.updatesUrl,
    dashboardUrl: data.dashboardUrl,
    loginUrl: data.loginUrl || "/auth/login",
    detailsTpl: data.detailsUrlTemplate,
    statusTpl: data.statusUrlTemplate,
    cancelTpl: data.cancelUrlTemplate,
    undoTpl: data.undoUrlTemplate,
    bulkUrl: data.bulkUrl,
    viewsUrl: data.viewsUrl,
    notesTpl: data.notesUrlTemplate,
    tagsTpl: data.tagsUrlTemplate,
    refundTpl: data.refundUrlTemplate,
    packingSlipTpl: data.packingSlipUrlTemplate,
    packingSlipsUrl: data.packingSlipsUrl,
    noteEditMs: intData(root, "noteEditSeconds", 900) * 1000,
    idsUrl: data.idsUrl,
    firstPageUrl: data.firstPageUrl || window.location.pathname,
    // The table's view (app/web/args.py order_filter_args), as the server read it.
    filter: {
      status: data.filterStatus || "",
      q: data.filterQ || "",
      tag: data.filterTag || "",
      from: data.from || "",
      to: data.to || "",
      sort: data.sort || "ordered",
      dir: data.dir || "desc",
    },
    // The shop's zone (SHOP_TIMEZONE): its days bound the date filter and the chart.
    timeZone: data.timeZone || undefined,
    page: parseInt(data.page || "1", 10) || 1,
    perPage: parseInt(data.perPage || "25", 10) || 25,
    bootstrap,
    version: Number.isInteger(bootstrap.version) ? bootstrap.version :
      parseInt(data.version || "0", 10) || 0,
    backoffMaxMs: Math.max(BACKOFF_MIN_MS, intData(root, "backoffMaxMs", BACKOFF_MAX_MS)),
    graceMs: intData(root, "offlineGraceMs", 3000),
    pollMs: Math.max(200, intData(root, "pollMs", 10000)),
    // The server's heartbeat interval until its first frame says (heartbeat_ms).
    heartbeatMs: Math.max(100, intData(root, "heartbeatMs", 15000)),
    // Presence (presence.js): where the page says which dialog is open, and who it is.
    presenceUrl: data.presenceUrl,
    username: data.username || "",
    presenceSession: data.presenceSession || "",
    // 0 (the default): a hidden tab keeps listening; > 0 is the shops' old behaviour.
    hiddenGraceMs: intData(root, "hiddenGraceMs", 0),
    // New orders closer than quietMs are one burst: one chime, one notification.
    burst: {
      quietMs: Math.max(50, intData(root, "burstQuietMs", 4000)),
      maxMs: intData(root, "burstMaxMs", 60000),
    },
    activityUrl: data.activityUrl,
    undoMs: intData(root, "undoSeconds", 10) * 1000,
  };
  // The view's normalised query (filter, search, dates, sort) and, for the one reload after
  // a reset, the page's own query (page and page size too).
  cfg.filterQuery = data.viewQuery || "";
  cfg.viewQuery = window.location.search.replace(/^\?/, "");
  return cfg;
}
