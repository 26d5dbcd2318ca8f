/* The dashboard's settings, read once from the data-* attributes of #dashboard, and the
 * data the page was rendered with (data-bootstrap: {version, stats, activity, revenue,
 * timestamp}), from which the stream resumes. */

export const LOCK_NAME = "orderpulse-stream";
export const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;

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
    filterStatus: data.filterStatus || "",
    filterQ: data.filterQ || "",
    page: parseInt(data.page || "1", 10) || 1,
    perPage: parseInt(data.perPage || "25", 10) || 25,
    bootstrap,
    version: Number.isInteger(bootstrap.version) ? bootstrap.version :
      parseInt(data.version || "0", 10) || 0,
    backoffMaxMs: Math.max(BACKOFF_MIN_MS, intData(root, "backoffMaxMs", BACKOFF_MAX_MS)),
    graceMs: intData(root, "offlineGraceMs", 3000),
    pollMs: Math.max(200, intData(root, "pollMs", 10000)),
    hiddenGraceMs: intData(root, "hiddenGraceMs", 60000),
  };
  // Live rows are inserted only where they certainly belong: the unfiltered first page.
  cfg.liveInsert = !cfg.filterStatus && !cfg.filterQ && cfg.page === 1;
  // The view's query string, for the one reload after a reset.
  cfg.viewQuery = window.location.search.replace(/^\?/, "");
  return cfg;
}
