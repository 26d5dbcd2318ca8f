/* Order Pulse live dashboard client (DESIGN.md §5).
 *
 * EventSource first. `message` frames carry the stats snapshot plus `recent_updates`;
 * `event: order` frames carry {kind, order, actor, activity}. On a stream error the
 * EventSource is closed and retried with exponential backoff (1 s doubling to
 * data-backoff-max-ms, plus jitter) for ever; after a grace (data-offline-grace-ms) the
 * indicator turns red and the JSON endpoint is polled every data-poll-ms (never
 * overlapping) until the stream is back. Every gap (reconnect, fallback, hidden tab) is
 * filled from the JSON endpoint. Data is only ever written with textContent / createElement.
 *
 * One stream per browser: the tab holding the Web Lock "orderpulse-stream" (the leader) owns
 * the EventSource (and the polling fallback) and rebroadcasts every frame on the
 * BroadcastChannel of the same name; the other tabs only listen. Closing the leader releases
 * the lock and the next tab takes over. A tab hidden for data-hidden-grace-ms gives up the
 * stream (or its place in the queue) and catches up at once when shown again.
 */
(function () {
  "use strict";

  var root = document.getElementById("dashboard");
  if (!root || !window.OrderPulse) return;
  var OP = window.OrderPulse;

  var STAT_KEYS = ["total_orders", "pending_count", "shipped_count", "out_for_delivery",
    "delivered_count", "cancelled_count"];
  var BACKOFF_MIN_MS = 1000;
  var BACKOFF_MAX_MS = 30000;
  function intData(name, fallback) {
    var value = parseInt(root.dataset[name] || "", 10);
    return isNaN(value) || value < 0 ? fallback : value;
  }
  var BACKOFF_MAX = Math.max(BACKOFF_MIN_MS, intData("backoffMaxMs", BACKOFF_MAX_MS));
  var GRACE_MS = intData("offlineGraceMs", 3000);
  var POLL_MS = Math.max(200, intData("pollMs", 10000));
  var HIDDEN_GRACE_MS = intData("hiddenGraceMs", 60000);
  var LOCK_NAME = "orderpulse-stream";
  var BASE_TITLE = document.title;

  var cfg = {
    streamUrl: root.dataset.streamUrl,
    updatesUrl: root.dataset.updatesUrl,
    detailsTpl: root.dataset.detailsUrlTemplate,
    statusTpl: root.dataset.statusUrlTemplate,
    cancelTpl: root.dataset.cancelUrlTemplate,
    filterStatus: root.dataset.filterStatus || "",
    filterQ: root.dataset.filterQ || "",
    page: parseInt(root.dataset.page || "1", 10) || 1,
    perPage: parseInt(root.dataset.perPage || "25", 10) || 25,
  };
  // Live rows are inserted only where they certainly belong: the unfiltered first page.
  var liveInsert = !cfg.filterStatus && !cfg.filterQ && cfg.page === 1;

  var indicator = document.querySelector("[data-live-indicator]");
  var indicatorText = indicator && indicator.querySelector("[data-live-text]");
  var tbody = root.querySelector("[data-orders-body]");
  var table = root.querySelector("[data-orders-table]");
  var emptyState = root.querySelector("[data-orders-empty]");
  var notice = root.querySelector("[data-new-orders-notice]");
  var noticeText = notice && notice.querySelector("[data-new-orders-text]");
  var detailsDialog = document.getElementById("details-dialog");
  var cancelDialog = document.getElementById("cancel-dialog");
  var soundToggle = document.getElementById("sound-toggle");

  var state = {
    es: null,
    connected: false,
    everConnected: false,
    needGapFill: false,
    backoff: BACKOFF_MIN_MS,
    retryTimer: null,
    graceTimer: null,
    polling: false,
    pollTimer: null,
    fetchInFlight: null,
    version: parseInt(root.dataset.version || "0", 10) || 0,
    lastSyncAt: Date.now(),
    hiddenAt: null,
    newIds: {},          // ids counted in the "N new orders" notice
    newCount: 0,
    baselineIso: null,   // orders placed after this (server time) are "new"
    detailsId: null,
    cancelId: null,
    role: "none",        // "leader" owns the stream, "follower" listens, "paused" (hidden)
    leaderState: null,   // the leader's indicator state, as told on the channel
    releaseLock: null,
    lockAbort: null,
    hiddenTimer: null,
    unread: 0,
  };
  var channel = null;
  try {
    channel = window.BroadcastChannel ? new BroadcastChannel(LOCK_NAME) : null;
  } catch (e) { channel = null; }
  var canShare = !!(channel && navigator.locks && navigator.locks.request &&
    window.AbortController);

  // ---------------------------------------------------------------- helpers
  function urlFor(template, id) {
    // Templates are built by url_for(order_id=0): replace the "/0/" segment only.
    return template.replace(/\/0(\/|$)/, "/" + encodeURIComponent(String(id)) + "$1");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function slug(text) {
    return String(text || "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  }

  function capitalize(text) {
    text = String(text || "");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function formatCount(n) {
    var num = Number(n) || 0;
    return num.toLocaleString("en-US");
  }

  function flash(node) {
    if (!node) return;
    node.classList.remove("flash-highlight");
    void node.offsetWidth; // restart the animation
    node.classList.add("flash-highlight");
  }
  document.addEventListener("animationend", function (ev) {
    if (ev.animationName === "flash-highlight" || ev.animationName === "row-highlight") {
      ev.target.classList.remove("flash-highlight", "row-new");
    }
  });

  function isoTime(iso) {
    var t = iso ? Date.parse(iso) : NaN;
    return isNaN(t) ? 0 : t;
  }

  // ---------------------------------------------------------------- indicator
  var INDICATOR_TEXT = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    offline: "Offline — polling every " + Math.round(POLL_MS / 100) / 10 + " s",
    paused: "Paused while hidden",
  };

  function setIndicator(kind) {
    if (state.role === "leader") broadcast({ type: "state", state: kind });
    if (!indicator) return;
    if (indicator.getAttribute("data-state") === kind) return;
    indicator.setAttribute("data-state", kind);
    if (indicatorText) indicatorText.textContent = INDICATOR_TEXT[kind] || kind;
    indicator.title = kind === "live" ? "Receiving live updates" :
      kind === "offline" ? "The live stream is down; numbers refresh by polling" :
        kind === "paused" ? "This tab is hidden; it catches up when shown" :
        "Re-opening the live stream";
  }

  // ---------------------------------------------------------------- stats
  function applyStats(stats) {
    if (!stats) return;
    var version = parseInt(stats.version, 10);
    if (!isNaN(version)) {
      // A slow poll answer must not roll the numbers back past a newer stream frame.
      if (version < state.version) return;
      state.version = version;
    }
    for (var i = 0; i < STAT_KEYS.length; i++) {
      var key = STAT_KEYS[i];
      if (stats[key] == null) continue;
      var text = formatCount(stats[key]);
      var nodes = document.querySelectorAll('[data-stat="' + key + '"]');
      for (var j = 0; j < nodes.length; j++) {
        if (nodes[j].textContent.trim() !== text) {
          nodes[j].textContent = text;
          flash(nodes[j]);
        }
      }
    }
  }

  // ---------------------------------------------------------------- rows
  function badge(status, cancelled) {
    if (cancelled) return el("span", "badge badge-cancelled", "Cancelled");
    return el("span", "badge badge-" + slug(status), status);
  }

  function actionButtons(order, container, inDialog) {
    var details = null;
    if (!inDialog) {
      details = el("button", "btn btn-ghost btn-sm", "Details");
      details.type = "button";
      details.setAttribute("data-action", "details");
      container.appendChild(details);
    }
    if (order.next_status && !order.cancelled) {
      var adv = el("button", "btn btn-primary btn-sm", "Advance to " + order.next_status);
      adv.type = "button";
      adv.setAttribute("data-action", "advance");
      adv.setAttribute("data-next-status", order.next_status);
      container.appendChild(adv);
    }
    if (!order.cancelled && order.status !== "Delivered") {
      var cancel = el("button", "btn btn-danger-ghost btn-sm", "Cancel");
      cancel.type = "button";
      cancel.setAttribute("data-action", "cancel");
      container.appendChild(cancel);
    }
    if (inDialog) {
      var buttons = container.querySelectorAll("button[data-action]");
      for (var i = 0; i < buttons.length; i++) buttons[i].setAttribute("data-order-id", order.id);
    }
  }

  function cell(label, className) {
    var td = el("td", className || null);
    if (label) td.setAttribute("data-label", label);
    return td;
  }

  /** Fill <tr> from an order summary (same markup as admin/_order_row.html). */
  function fillRow(tr, o) {
    tr.setAttribute("data-order-id", o.id);
    tr.setAttribute("data-status", o.status || "");
    tr.setAttribute("data-cancelled", o.cancelled ? "true" : "false");
    tr.setAttribute("data-updated-at", o.updated_at || "");
    tr.setAttribute("data-date-ordered", o.date_ordered || "");
    while (tr.firstChild) tr.removeChild(tr.firstChild);

    var tdNum = cell("Order");
    tdNum.appendChild(el("span", "order-number", o.order_number));
    tr.appendChild(tdNum);

    tr.appendChild(cell("Customer")).textContent = o.username || "—";

    var tdStatus = cell("Status");
    tdStatus.appendChild(badge(o.status, o.cancelled));
    tr.appendChild(tdStatus);

    tr.appendChild(cell("Total", "num")).textContent = formatCount(o.total_credits) + " cr";
    tr.appendChild(cell("Delivery")).textContent = capitalize(o.delivery_method);

    var tdDate = cell("Ordered");
    if (o.date_ordered) {
      var time = el("time", "js-local-time", OP.formatLocal(o.date_ordered));
      time.setAttribute("datetime", o.date_ordered);
      time.title = String(o.date_ordered).replace("T", " ").replace("Z", " UTC");
      tdDate.appendChild(time);
    }
    tr.appendChild(tdDate);

    var tdActions = cell(null, "actions");
    var group = el("div", "action-group");
    actionButtons(o, group, false);
    tdActions.appendChild(group);
    tr.appendChild(tdActions);
  }

  function findRow(id) {
    if (!tbody) return null;
    return tbody.querySelector('tr[data-order-id="' + String(parseInt(id, 10)) + '"]');
  }

  function rowSortKey(dateIso, id) {
    return [isoTime(dateIso), Number(id) || 0];
  }

  function newerThan(a, b) {
    return a[0] !== b[0] ? a[0] > b[0] : a[1] > b[1];
  }

  /** Where a new row goes on the unfiltered first page (date_ordered desc, id desc), or
   *  null when it is older than a full page's last row (it belongs on a later page). */
  function insertionPoint(o) {
    var key = rowSortKey(o.date_ordered, o.id);
    var rows = tbody.querySelectorAll("tr[data-order-id]");
    for (var i = 0; i < rows.length; i++) {
      var other = rowSortKey(rows[i].getAttribute("data-date-ordered"),
        rows[i].getAttribute("data-order-id"));
      if (newerThan(key, other)) return { before: rows[i] };
    }
    if (rows.length < cfg.perPage) return { before: null };
    return null;
  }

  function updateEmptyState() {
    if (!tbody) return;
    var has = !!tbody.querySelector("tr[data-order-id]");
    if (table) table.hidden = !has;
    if (emptyState) emptyState.hidden = has;
  }

  function isNewOrder(o, kind) {
    if (kind === "created") return true;
    if (!state.baselineIso || !o.date_ordered) return false;
    return isoTime(o.date_ordered) > isoTime(state.baselineIso);
  }

  function countNew(o) {
    if (state.newIds[o.id]) return;
    state.newIds[o.id] = true;
    state.newCount += 1;
    if (notice && noticeText) {
      noticeText.textContent = state.newCount === 1 ? "1 new order since this page was loaded." :
        state.newCount + " new orders since this page was loaded.";
      notice.hidden = false;
    }
  }

  /** Insert or update a row from a summary. Returns "inserted", "updated" or null. */
  function upsert(o, kind) {
    if (!o || o.id == null || !tbody) return null;
    var tr = findRow(o.id);
    if (tr) {
      var known = isoTime(tr.getAttribute("data-updated-at"));
      if (o.updated_at && known && isoTime(o.updated_at) < known) return null; // stale
      var before = tr.getAttribute("data-status") + "|" + tr.getAttribute("data-cancelled");
      var after = o.status + "|" + (o.cancelled ? "true" : "false");
      if (before === after && tr.getAttribute("data-updated-at") === (o.updated_at || "")) {
        return null;
      }
      var hadFocus = tr.contains(document.activeElement) ?
        document.activeElement.getAttribute("data-action") : null;
      fillRow(tr, o);
      if (hadFocus) {
        var again = tr.querySelector('[data-action="' + hadFocus + '"]') ||
          tr.querySelector('[data-action="details"]');
        if (again) again.focus();
      }
      if (before !== after) flash(tr);
      return "updated";
    }
    if (!liveInsert) {
      if (isNewOrder(o, kind)) countNew(o);
      return null;
    }
    var point = insertionPoint(o);
    if (!point) return null;
    tr = document.createElement("tr");
    fillRow(tr, o);
    tbody.insertBefore(tr, point.before);
    tr.classList.add("row-new");
    // Keep the page at most one page long.
    var rows = tbody.querySelectorAll("tr[data-order-id]");
    for (var i = rows.length - 1; i >= cfg.perPage; i--) tbody.removeChild(rows[i]);
    updateEmptyState();
    return "inserted";
  }

  function mergeOrders(list) {
    if (!Array.isArray(list)) return;
    // Oldest first, so newer rows end up on top when several are inserted.
    var sorted = list.slice().sort(function (a, b) {
      return newerThan(rowSortKey(a.date_ordered, a.id), rowSortKey(b.date_ordered, b.id)) ? 1 : -1;
    });
    for (var i = 0; i < sorted.length; i++) {
      upsert(sorted[i], null);
      // Orders committed by another process (a CLI job, another host without Redis) arrive
      // only in snapshots, never as `event: order` frames: announce those too.
      if (isNewOrder(sorted[i], null)) announceNewOrder(sorted[i]);
      if (state.detailsId != null && String(sorted[i].id) === String(state.detailsId)) {
        refreshDetailsIfStale(sorted[i]);
      }
    }
  }

  // ---------------------------------------------------------------- new-order notice
  var audio = { ctx: null, unlocked: false };

  function unlockAudio() {
    if (audio.unlocked) return;
    audio.unlocked = true;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      audio.ctx = new Ctx();
      if (audio.ctx.state === "suspended") audio.ctx.resume();
    } catch (e) {
      audio.ctx = null;
    }
  }
  document.addEventListener("pointerdown", unlockAudio, { once: true, capture: true });
  document.addEventListener("keydown", unlockAudio, { once: true, capture: true });

  function soundEnabled() {
    return !soundToggle || soundToggle.checked;
  }
  if (soundToggle) {
    try {
      soundToggle.checked = window.localStorage.getItem("orderpulse.sound") !== "off";
    } catch (e) { /* storage may be blocked */ }
    soundToggle.addEventListener("change", function () {
      try {
        window.localStorage.setItem("orderpulse.sound", soundToggle.checked ? "on" : "off");
      } catch (e) { /* ignore */ }
    });
  }

  var lastChime = 0;
  function chime() {
    if (!audio.ctx || !soundEnabled() || document.hidden) return;
    var now = Date.now();
    if (now - lastChime < 800) return; // a burst of orders makes one sound
    lastChime = now;
    try {
      var ctx = audio.ctx;
      var t = ctx.currentTime;
      [880, 1320].forEach(function (freq, i) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t + i * 0.12);
        gain.gain.exponentialRampToValueAtTime(0.15, t + i * 0.12 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.12 + 0.18);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(t + i * 0.12);
        osc.stop(t + i * 0.12 + 0.2);
      });
    } catch (e) { /* sound is optional */ }
  }

  var toastedIds = {};
  function announceNewOrder(o) {
    if (toastedIds[o.id]) return;
    toastedIds[o.id] = true;
    var text = "New order " + o.order_number + " from " + (o.username || "a customer") +
      " — " + formatCount(o.total_credits) + " credits";
    OP.toast(text, { type: "new" });
    chime();
    setUnread(state.unread + 1, false);
  }

  // ---------------------------------------------------------------- unread badge
  var unreadBox = document.querySelector("[data-unread]");
  var unreadText = unreadBox && unreadBox.querySelector("[data-unread-text]");

  /** Show `n` unseen new orders in the tab title ("(3) Orders dashboard") and the badge. */
  function setUnread(n, fromChannel) {
    state.unread = Math.max(0, n);
    document.title = state.unread ? "(" + state.unread + ") " + BASE_TITLE : BASE_TITLE;
    if (unreadBox) unreadBox.hidden = !state.unread;
    if (unreadText) {
      unreadText.textContent = state.unread === 1 ? "1 new order" : state.unread + " new orders";
    }
    if (!state.unread && !fromChannel) broadcast({ type: "seen" });
  }
  var markSeen = document.querySelector("[data-mark-seen]");
  if (markSeen) markSeen.addEventListener("click", function () { setUnread(0, false); });

  // ---------------------------------------------------------------- stream
  function broadcast(msg) {
    if (channel && canShare) {
      try { channel.postMessage(msg); } catch (e) { /* closed */ }
    }
  }

  function handleSnapshot(data) {
    if (!data) return;
    state.lastSyncAt = Date.now();
    if (!state.baselineIso && data.timestamp) state.baselineIso = data.timestamp;
    var before = state.version;
    applyStats(data);
    mergeOrders(data.recent_updates);
    if (data.type === "update" || state.version !== before) scheduleSideRefresh();
  }

  function handleOrder(data) {
    if (!data || !data.order) return;
    state.lastSyncAt = Date.now();
    upsert(data.order, data.kind);
    if (data.kind === "created") announceNewOrder(data.order);
    if (data.activity) addActivity([data.activity]);
    if (state.detailsId != null && String(data.order.id) === String(state.detailsId)) {
      refreshDetailsIfStale(data.order);
    }
    scheduleSideRefresh();
  }

  function onSnapshot(ev) {
    var data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    broadcast({ type: "snapshot", data: data });
    handleSnapshot(data);
  }

  function onOrderEvent(ev) {
    var data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    broadcast({ type: "order", data: data });
    handleOrder(data);
  }

  function applyPoll(data) {
    if (!state.baselineIso && data.timestamp) state.baselineIso = data.timestamp;
    applyStats(data.stats);
    mergeOrders(data.recent_orders);
  }

  if (channel && canShare) {
    channel.onmessage = function (ev) {
      var msg = ev.data || {};
      if (msg.type === "hello") {
        if (state.role === "leader" && indicator) {
          broadcast({ type: "state", state: indicator.getAttribute("data-state") });
        }
        return;
      }
      if (msg.type === "seen") { setUnread(0, true); return; }
      if (state.role === "leader") return; // a stale leader's echo; we own the stream now
      if (msg.type === "snapshot") handleSnapshot(msg.data);
      else if (msg.type === "order") handleOrder(msg.data);
      else if (msg.type === "poll") { state.lastSyncAt = Date.now(); applyPoll(msg.data); }
      else if (msg.type === "state") {
        var was = state.leaderState;
        state.leaderState = msg.state;
        if (state.role === "follower") {
          setIndicator(msg.state);
          // The leader fills its own gaps; a follower fills what it missed itself.
          if (msg.state === "live" && was && was !== "live") {
            fetchUpdates();
            refreshActivity();
          }
        }
      }
    };
  }

  // ---------------------------------------------------------------- leadership
  function start() {
    if (!canShare) {
      state.role = "leader";
      connect();
      return;
    }
    state.role = "follower";
    requestLeadership();
    broadcast({ type: "hello" });
  }

  function requestLeadership() {
    if (state.lockAbort || state.releaseLock) return;
    var abort = new AbortController();
    state.lockAbort = abort;
    navigator.locks.request(LOCK_NAME, { signal: abort.signal }, function () {
      state.lockAbort = null;
      return new Promise(function (resolve) {
        state.releaseLock = resolve;
        becomeLeader();
      });
    }).catch(function () { /* aborted: the tab was hidden while waiting */ });
  }

  function becomeLeader() {
    state.role = "leader";
    state.needGapFill = true; // frames between the old leader leaving and us are missing
    state.backoff = BACKOFF_MIN_MS;
    connect();
  }

  /** Give up the stream (hidden tab): close it, stop polling, leave the lock queue. */
  function pause() {
    if (state.role === "paused") return;
    if (state.es) { state.es.close(); state.es = null; }
    state.connected = false;
    stopPolling();
    clearTimeout(state.retryTimer); state.retryTimer = null;
    clearTimeout(state.graceTimer); state.graceTimer = null;
    if (state.releaseLock) { state.releaseLock(); state.releaseLock = null; }
    if (state.lockAbort) { state.lockAbort.abort(); state.lockAbort = null; }
    state.role = "paused";
    setIndicator("paused");
  }

  function resume() {
    if (state.role !== "paused") return;
    state.needGapFill = false;
    fetchUpdates();
    refreshActivity();
    refreshRevenue();
    if (canShare) {
      state.role = "follower";
      setIndicator(state.leaderState || "connecting");
      requestLeadership();
      broadcast({ type: "hello" });
    } else {
      state.role = "leader";
      state.backoff = BACKOFF_MIN_MS;
      connect();
    }
  }

  function isLive() {
    return state.role === "leader" ? state.connected : state.leaderState === "live";
  }

  function onOpen() {
    state.connected = true;
    state.backoff = BACKOFF_MIN_MS;
    clearTimeout(state.graceTimer);
    state.graceTimer = null;
    setIndicator("live");
    stopPolling();
    if (state.needGapFill) {
      state.needGapFill = false;
      fetchUpdates();
      refreshActivity();
      scheduleSideRefresh();
    }
    state.everConnected = true;
  }

  function onError() {
    if (state.role !== "leader") return;
    if (state.es) {
      state.es.close();
      state.es = null;
    }
    state.connected = false;
    state.needGapFill = true;
    if (!state.polling) {
      setIndicator("reconnecting");
      if (!state.graceTimer) {
        // A routine reconnect (the server ends streams at their lifetime) stays amber.
        state.graceTimer = setTimeout(function () {
          state.graceTimer = null;
          if (!state.connected && state.role === "leader") {
            setIndicator("offline");
            startPolling();
          }
        }, GRACE_MS);
      }
    }
    scheduleReconnect();
  }

  function connect() {
    clearTimeout(state.retryTimer);
    state.retryTimer = null;
    if (state.es || state.role !== "leader") return;
    if (!window.EventSource) {
      setIndicator("offline");
      startPolling();
      return;
    }
    var es;
    try {
      es = new EventSource(cfg.streamUrl, { withCredentials: true });
    } catch (e) {
      onError();
      return;
    }
    state.es = es;
    es.addEventListener("open", onOpen);
    es.addEventListener("message", onSnapshot);
    es.addEventListener("order", onOrderEvent);
    es.addEventListener("error", function () {
      if (state.es === es) onError();
    });
  }

  function scheduleReconnect() {
    if (state.retryTimer) return;
    var delay = state.backoff;
    var jitter = Math.random() * Math.min(1000, delay * 0.5);
    state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX);
    state.retryTimer = setTimeout(connect, delay + jitter);
  }

  function reconnectNow() {
    if (state.connected || state.es || state.role !== "leader") return;
    clearTimeout(state.retryTimer);
    state.retryTimer = null;
    state.backoff = BACKOFF_MIN_MS;
    connect();
  }

  // ---------------------------------------------------------------- polling fallback
  function updatesUrl() {
    // Ask for enough history to cover the gap since the last data (1..1440 minutes).
    var url = new URL(cfg.updatesUrl, window.location.href);
    var gapMinutes = Math.ceil((Date.now() - state.lastSyncAt) / 60000) + 1;
    var minutes = Math.max(parseInt(url.searchParams.get("minutes") || "5", 10) || 5, gapMinutes);
    url.searchParams.set("minutes", String(Math.min(minutes, 1440)));
    return url.pathname + url.search;
  }

  var authWarned = false;
  /** One GET of the JSON endpoint; concurrent callers share the request in flight. */
  function fetchUpdates() {
    if (state.fetchInFlight) return state.fetchInFlight;
    var started = Date.now();
    state.fetchInFlight = OP.getJSON(updatesUrl()).then(function (data) {
      state.lastSyncAt = started;
      if (state.role === "leader" && state.polling) broadcast({ type: "poll", data: data });
      applyPoll(data);
      authWarned = false;
    }).catch(function (err) {
      if ((err.status === 401 || err.status === 403) && !authWarned) {
        authWarned = true;
        OP.toast(err.message, { type: "error", title: "Live updates stopped" });
      }
    }).then(function () {
      state.fetchInFlight = null;
    });
    return state.fetchInFlight;
  }

  function pollLoop() {
    if (!state.polling) return;
    scheduleSideRefresh();
    fetchUpdates().then(function () {
      // The next poll is timed from the end of this one, so requests never overlap.
      if (state.polling) state.pollTimer = setTimeout(pollLoop, POLL_MS);
    });
  }

  function startPolling() {
    if (state.polling) return;
    state.polling = true;
    pollLoop();
  }

  function stopPolling() {
    state.polling = false;
    clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  document.addEventListener("visibilitychange", function () {
    clearTimeout(state.hiddenTimer);
    state.hiddenTimer = null;
    if (document.hidden) {
      state.hiddenAt = Date.now();
      state.hiddenTimer = setTimeout(pause, HIDDEN_GRACE_MS);
      return;
    }
    state.hiddenAt = null;
    if (state.role === "paused") {
      resume();
      return;
    }
    fetchUpdates();
    reconnectNow();
  });
  window.addEventListener("online", function () {
    reconnectNow();
    fetchUpdates();
  });
  window.addEventListener("pagehide", function () {
    if (state.es) { state.es.close(); state.es = null; }
    // Hand the stream over at once rather than when the page is finally discarded.
    if (state.releaseLock) { state.releaseLock(); state.releaseLock = null; }
    if (state.role === "leader" && canShare) state.role = "none";
  });
  window.addEventListener("pageshow", function (ev) {
    if (!ev.persisted) return;
    state.needGapFill = true;
    state.connected = false;
    if (canShare) { state.role = "paused"; resume(); } else { reconnectNow(); }
  });

  // ---------------------------------------------------------------- dialogs
  function openDialog(dialog) {
    if (!dialog) return;
    if (typeof dialog.showModal === "function") {
      if (!dialog.open) dialog.showModal();
    } else {
      dialog.setAttribute("open", "");
    }
  }

  function closeDialog(dialog) {
    if (!dialog) return;
    if (typeof dialog.close === "function") {
      if (dialog.open) dialog.close();
    } else {
      dialog.removeAttribute("open");
    }
  }

  document.addEventListener("click", function (ev) {
    var closer = ev.target.closest("[data-close-dialog]");
    if (closer) closeDialog(closer.closest("dialog"));
  });
  // A click on the backdrop (outside the dialog box) closes it.
  [detailsDialog, cancelDialog].forEach(function (dialog) {
    if (!dialog) return;
    dialog.addEventListener("click", function (ev) {
      if (ev.target !== dialog) return;
      var r = dialog.getBoundingClientRect();
      var inside = ev.clientX >= r.left && ev.clientX <= r.right &&
        ev.clientY >= r.top && ev.clientY <= r.bottom;
      if (!inside) closeDialog(dialog);
    });
  });
  if (detailsDialog) {
    detailsDialog.addEventListener("close", function () { state.detailsId = null; });
  }

  function detailRow(list, label, value, className) {
    var wrap = el("div");
    wrap.appendChild(el("dt", null, label));
    var dd = el("dd", className || null);
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value == null ? "—" : value;
    wrap.appendChild(dd);
    list.appendChild(wrap);
  }

  var detailsShown = null; // the order object the dialog shows

  function renderDetails(o) {
    detailsShown = o;
    var body = detailsDialog.querySelector("[data-details-body]");
    var actions = detailsDialog.querySelector("[data-details-actions]");
    var title = detailsDialog.querySelector("#details-title");
    title.textContent = "Order " + o.order_number;
    while (body.firstChild) body.removeChild(body.firstChild);
    while (actions.firstChild) actions.removeChild(actions.firstChild);

    if (o.cancelled) {
      var banner = el("div", "banner banner-cancelled");
      banner.appendChild(el("strong", null, "Cancelled. "));
      banner.appendChild(el("span", null, o.cancellation_reason ?
        "Reason: " + o.cancellation_reason : "No reason given."));
      body.appendChild(banner);
    }

    var grid = el("div", "details-grid");
    var left = el("dl", "detail-list");
    detailRow(left, "Status", badge(o.status, o.cancelled));
    var customer = o.customer || {};
    var who = el("span");
    who.appendChild(el("strong", null, customer.username || "—"));
    if (customer.email) {
      who.appendChild(document.createElement("br"));
      who.appendChild(el("span", "muted", customer.email));
    }
    detailRow(left, "Customer", who);
    detailRow(left, "Ordered", OP.formatLocal(o.date_ordered) || "—");
    detailRow(left, "Total", formatCount(o.total_credits) + " credits");
    grid.appendChild(left);

    var right = el("dl", "detail-list");
    detailRow(right, "Delivery", capitalize(o.delivery_method));
    if (o.delivery_method !== "pickup") {
      detailRow(right, "Address", o.delivery_address || "—", "pre-line");
    }
    detailRow(right, "Estimated", OP.formatLocal(o.estimated_delivery) || "—");
    detailRow(right, "Delivered", OP.formatLocal(o.actual_delivery) || "Not yet");
    grid.appendChild(right);
    body.appendChild(grid);

    body.appendChild(el("h3", "details-subtitle", "Items"));
    var tableEl = el("table", "table table-compact");
    var thead = el("thead");
    var hr = el("tr");
    [["Product", ""], ["Category", ""], ["Qty", "num"], ["Each", "num"], ["Subtotal", "num"]]
      .forEach(function (h) {
        var th = el("th", h[1] || null, h[0]);
        th.scope = "col";
        hr.appendChild(th);
      });
    thead.appendChild(hr);
    tableEl.appendChild(thead);
    var tb = el("tbody");
    (o.items || []).forEach(function (item) {
      var tr = el("tr");
      var qty = item.quantity != null ? item.quantity : 1;
      tr.appendChild(el("td", null, item.name));
      tr.appendChild(el("td", "muted", item.category));
      tr.appendChild(el("td", "num", qty));
      tr.appendChild(el("td", "num", formatCount(item.credit_value)));
      tr.appendChild(el("td", "num", formatCount(item.credit_value * qty)));
      tb.appendChild(tr);
    });
    if (!o.items || !o.items.length) {
      var emptyTr = el("tr");
      var td = el("td", "muted", "No items.");
      td.colSpan = 5;
      emptyTr.appendChild(td);
      tb.appendChild(emptyTr);
    }
    tableEl.appendChild(tb);
    var wrap = el("div", "table-scroll");
    wrap.appendChild(tableEl);
    body.appendChild(wrap);

    actionButtons(o, actions, true);
    var close = el("button", "btn btn-ghost btn-sm", "Close");
    close.type = "button";
    close.setAttribute("data-close-dialog", "");
    actions.appendChild(close);
  }

  function showDetailsError(message) {
    var body = detailsDialog.querySelector("[data-details-body]");
    var actions = detailsDialog.querySelector("[data-details-actions]");
    while (body.firstChild) body.removeChild(body.firstChild);
    while (actions.firstChild) actions.removeChild(actions.firstChild);
    body.appendChild(el("p", "notice notice-error", message));
    var close = el("button", "btn btn-ghost btn-sm", "Close");
    close.type = "button";
    close.setAttribute("data-close-dialog", "");
    actions.appendChild(close);
  }

  function openDetails(id) {
    if (!detailsDialog) return;
    state.detailsId = id;
    detailsShown = null;
    var body = detailsDialog.querySelector("[data-details-body]");
    var actions = detailsDialog.querySelector("[data-details-actions]");
    while (body.firstChild) body.removeChild(body.firstChild);
    while (actions.firstChild) actions.removeChild(actions.firstChild);
    body.appendChild(el("p", "muted", "Loading…"));
    detailsDialog.querySelector("#details-title").textContent = "Order details";
    openDialog(detailsDialog);
    loadDetails(id);
  }

  function loadDetails(id) {
    return OP.getJSON(urlFor(cfg.detailsTpl, id)).then(function (data) {
      if (String(state.detailsId) !== String(id)) return;
      renderDetails(data.order);
    }).catch(function (err) {
      if (String(state.detailsId) !== String(id)) return;
      showDetailsError(err.message);
    });
  }

  function refreshDetailsIfStale(summary) {
    if (!detailsShown || !detailsDialog || !detailsDialog.open) return;
    if (detailsShown.status !== summary.status || detailsShown.cancelled !== summary.cancelled) {
      loadDetails(summary.id);
    }
  }

  // ---------------------------------------------------------------- actions
  function summaryFromDetails(o) {
    return {
      id: o.id,
      order_number: o.order_number,
      status: o.status,
      username: o.customer ? o.customer.username : o.username,
      total_credits: o.total_credits,
      delivery_method: o.delivery_method,
      date_ordered: o.date_ordered,
      updated_at: o.updated_at,
      cancelled: o.cancelled,
      next_status: o.next_status,
    };
  }

  function applyActionResult(order) {
    upsert(summaryFromDetails(order), null);
    if (detailsDialog && detailsDialog.open && String(state.detailsId) === String(order.id)) {
      renderDetails(order);
    }
    // Without the stream nothing else would move the counters until the next poll.
    if (!isLive()) fetchUpdates();
  }

  function orderIdOf(button) {
    var id = button.getAttribute("data-order-id");
    if (id) return id;
    var tr = button.closest("tr[data-order-id]");
    return tr ? tr.getAttribute("data-order-id") : null;
  }

  function orderNumberOf(id) {
    var tr = findRow(id);
    if (tr) {
      var n = tr.querySelector(".order-number");
      if (n) return n.textContent;
    }
    if (detailsShown && String(detailsShown.id) === String(id)) return detailsShown.order_number;
    return "#" + id;
  }

  function setBusy(button, busy, label) {
    if (busy) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.dataset.label = button.textContent;
      if (label) button.textContent = label;
    } else {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (button.dataset.label) button.textContent = button.dataset.label;
    }
  }

  function advance(button) {
    var id = orderIdOf(button);
    var next = button.getAttribute("data-next-status");
    if (!id || !next) return;
    var number = orderNumberOf(id);
    setBusy(button, true, "Saving…");
    OP.postJSON(urlFor(cfg.statusTpl, id), { status: next }).then(function (data) {
      applyActionResult(data.order);
      OP.toast(number + " is now " + data.order.status + ".", { type: "success" });
    }).catch(function (err) {
      if (button.isConnected) setBusy(button, false);
      OP.toast(err.message, { type: "error", title: "Could not update " + number });
      // The order may have moved meanwhile: show its real state.
      if (err.status === 409) fetchUpdates();
    });
  }

  var cancelForm = document.getElementById("cancel-form");
  var cancelReason = document.getElementById("cancel-reason");
  var cancelCount = cancelDialog && cancelDialog.querySelector("[data-cancel-count]");
  var cancelError = cancelDialog && cancelDialog.querySelector("[data-cancel-error]");
  var cancelSubmit = cancelDialog && cancelDialog.querySelector("[data-cancel-submit]");

  function setCancelError(message) {
    if (!cancelError) return;
    cancelError.textContent = message || "";
    cancelError.hidden = !message;
    if (cancelReason) cancelReason.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function openCancel(button) {
    var id = orderIdOf(button);
    if (!id || !cancelDialog) return;
    state.cancelId = id;
    cancelDialog.querySelector("[data-cancel-number]").textContent = orderNumberOf(id);
    cancelReason.value = "";
    if (cancelCount) cancelCount.textContent = "0";
    setCancelError("");
    if (cancelSubmit) setBusy(cancelSubmit, false);
    openDialog(cancelDialog);
    cancelReason.focus();
  }

  if (cancelReason) {
    cancelReason.addEventListener("input", function () {
      if (cancelCount) cancelCount.textContent = String(cancelReason.value.length);
      if (cancelReason.value.trim()) setCancelError("");
    });
  }

  if (cancelForm) {
    cancelForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var id = state.cancelId;
      var reason = cancelReason.value.trim();
      if (!reason) {
        setCancelError("Please give a reason for the customer.");
        cancelReason.focus();
        return;
      }
      if (reason.length > 300) {
        setCancelError("Keep the reason to 300 characters or fewer.");
        cancelReason.focus();
        return;
      }
      var number = orderNumberOf(id);
      setBusy(cancelSubmit, true, "Cancelling…");
      OP.postJSON(urlFor(cfg.cancelTpl, id), { reason: reason }).then(function (data) {
        setBusy(cancelSubmit, false);
        closeDialog(cancelDialog);
        applyActionResult(data.order);
        OP.toast(number + " was cancelled and the customer refunded.", { type: "success" });
      }).catch(function (err) {
        setBusy(cancelSubmit, false);
        setCancelError(err.message);
        OP.toast(err.message, { type: "error", title: "Could not cancel " + number });
        if (err.status === 409) fetchUpdates();
      });
    });
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    var action = button.getAttribute("data-action");
    if (action === "details") {
      openDetails(orderIdOf(button));
    } else if (action === "advance") {
      advance(button);
    } else if (action === "cancel") {
      openCancel(button);
    }
  });

  // ---------------------------------------------------------------- activity feed
  var activityList = document.querySelector("[data-activity-list]");
  var activityEmpty = document.querySelector("[data-activity-empty]");
  var ACTIVITY_MAX = 30;

  function activityText(a) {
    var who = a.actor || "System";
    if (a.kind === "created") return who + " placed " + a.order_number;
    if (a.kind === "cancelled") {
      return who + " cancelled " + a.order_number + (a.note ? ": " + a.note : "");
    }
    return who + " moved " + a.order_number + " from " + (a.from_status || "?") + " to " +
      (a.to_status || "?");
  }

  function activityItem(a) {
    var li = el("li", "activity-item activity-" + slug(a.kind));
    li.setAttribute("data-activity-id", a.id);
    li.setAttribute("data-at", a.at || "");
    li.appendChild(el("span", "activity-dot"));
    var body = el("div", "activity-body");
    body.appendChild(el("span", "activity-text", activityText(a)));
    if (a.at) {
      var time = el("time", "activity-time muted small", OP.formatLocal(a.at));
      time.setAttribute("datetime", a.at);
      body.appendChild(time);
    }
    li.appendChild(body);
    return li;
  }

  /** Merge entries (any order) into the list: newest first, no duplicates, at most 30. */
  function addActivity(entries) {
    if (!activityList || !entries || !entries.length) return;
    entries.forEach(function (a) {
      if (!a || a.id == null) return;
      if (activityList.querySelector('[data-activity-id="' + Number(a.id) + '"]')) return;
      var li = activityItem(a);
      var key = [isoTime(a.at), Number(a.id)];
      var items = activityList.children;
      var before = null;
      for (var i = 0; i < items.length; i++) {
        var other = [isoTime(items[i].getAttribute("data-at")),
          Number(items[i].getAttribute("data-activity-id"))];
        if (newerThan(key, other)) { before = items[i]; break; }
      }
      activityList.insertBefore(li, before);
    });
    while (activityList.children.length > ACTIVITY_MAX) {
      activityList.removeChild(activityList.lastChild);
    }
    if (activityEmpty) activityEmpty.hidden = activityList.children.length > 0;
  }

  function refreshActivity() {
    if (!root.dataset.activityUrl || !activityList) return;
    OP.getJSON(root.dataset.activityUrl).then(function (data) {
      addActivity(data.activity);
    }).catch(function () { /* the next gap fill tries again */ });
  }

  // ---------------------------------------------------------------- revenue chart
  var chartCanvas = document.getElementById("revenue-chart");
  var chartSummary = document.querySelector("[data-revenue-summary]");
  var chart = null;
  var revenue = { last: 0, timer: null, inFlight: false };
  var REVENUE_MIN_GAP_MS = 2000;
  var HOURS = [];
  for (var h = 0; h < 24; h++) HOURS.push((h < 10 ? "0" : "") + h + ":00");

  function sumTo(list, hour) {
    var total = 0;
    for (var i = 0; i <= hour && i < list.length; i++) total += Number(list[i]) || 0;
    return total;
  }

  function renderRevenue(data) {
    var hour = new Date().getHours();
    if (chartSummary) {
      chartSummary.textContent = "Today so far: " + formatCount(sumTo(data.today, 23)) +
        " credits in " + formatCount(sumTo(data.orders_today, 23)) + " orders. Yesterday by " +
        "this hour: " + formatCount(sumTo(data.yesterday, hour)) + " credits in " +
        formatCount(sumTo(data.orders_yesterday, hour)) + " orders.";
    }
    if (!chartCanvas || !window.Chart) return;
    if (chart) {
      chart.data.datasets[0].data = data.today;
      chart.data.datasets[1].data = data.yesterday;
      chart.update("none");
      return;
    }
    chart = new window.Chart(chartCanvas, {
      type: "bar",
      data: {
        labels: HOURS,
        datasets: [
          { label: "Today", data: data.today, backgroundColor: "#4338ca", borderRadius: 3,
            order: 2 },
          { label: "Yesterday", data: data.yesterday, type: "line", borderColor: "#64748b",
            backgroundColor: "#64748b", borderDash: [5, 4], pointRadius: 0,
            cubicInterpolationMode: "monotone",
            borderWidth: 2, order: 1 },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { color: "#334155", boxWidth: 14 } },
          tooltip: { callbacks: { label: function (c) {
            return c.dataset.label + ": " + formatCount(c.parsed.y) + " credits";
          } } },
        },
        scales: {
          x: { ticks: { color: "#475569", maxRotation: 0, autoSkipPadding: 8 },
            grid: { display: false } },
          y: { beginAtZero: true, ticks: { color: "#475569", precision: 0 },
            title: { display: true, text: "credits", color: "#475569" } },
        },
      },
    });
  }

  function refreshRevenue() {
    if (!root.dataset.revenueUrl) return;
    if (revenue.inFlight) { scheduleSideRefresh(); return; }
    revenue.inFlight = true;
    revenue.last = Date.now();
    var url = new URL(root.dataset.revenueUrl, window.location.href);
    url.searchParams.set("offset", String(-new Date().getTimezoneOffset()));
    OP.getJSON(url.pathname + url.search).then(renderRevenue).catch(function () {
      /* keep the last chart; the next change retries */
    }).then(function () { revenue.inFlight = false; });
  }

  /** Refresh the chart after a change: at once if the last refresh is old enough, otherwise
   *  once at the end of the gap, so a burst of orders costs one request per tab. */
  function scheduleSideRefresh() {
    if (revenue.timer) return;
    var wait = Math.max(0, revenue.last + REVENUE_MIN_GAP_MS - Date.now());
    revenue.timer = setTimeout(function () {
      revenue.timer = null;
      refreshRevenue();
    }, wait);
  }
  // The hour changes without any order: redraw every five minutes anyway.
  setInterval(function () { if (!document.hidden) refreshRevenue(); }, 5 * 60 * 1000);

  // ---------------------------------------------------------------- start
  setIndicator("connecting");
  refreshActivity();
  refreshRevenue();
  start();
})();
