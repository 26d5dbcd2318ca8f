/* Order Pulse: helpers shared by every page (loaded on all pages, before page scripts).
 *
 * window.OrderPulse = {csrfToken(), formatLocal(iso), localizeTimes(root), toast(text, opts),
 *                      postJSON(url, body), getJSON(url)}
 * All text is set with textContent: nothing here ever parses data as HTML.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  var fullFormat = null;
  var shortFormat = null; // this year: no year, to keep tables narrow
  try {
    fullFormat = new Intl.DateTimeFormat(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
    shortFormat = new Intl.DateTimeFormat(undefined, {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
  } catch (e) {
    fullFormat = shortFormat = null;
  }

  /** An ISO 8601 UTC string as the browser's local date and time ("" for null/invalid). */
  function formatLocal(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    if (!fullFormat) return d.toLocaleString();
    return d.getFullYear() === new Date().getFullYear() ? shortFormat.format(d) : fullFormat.format(d);
  }

  /** Rewrite <time class="js-local-time" datetime="...Z"> to local time (title keeps UTC). */
  function localizeTimes(root) {
    var nodes = (root || document).querySelectorAll("time.js-local-time[datetime]");
    for (var i = 0; i < nodes.length; i++) {
      var t = nodes[i];
      var iso = t.getAttribute("datetime");
      var text = formatLocal(iso);
      if (text) {
        t.textContent = text;
        t.title = iso.replace("T", " ").replace("Z", " UTC");
      }
    }
  }

  function toastRegion() {
    var region = document.getElementById("toasts");
    if (!region) {
      region = document.createElement("div");
      region.id = "toasts";
      region.className = "toasts";
      region.setAttribute("aria-live", "polite");
      region.setAttribute("aria-relevant", "additions");
      document.body.appendChild(region);
    }
    return region;
  }

  /** Show a toast bottom-right. opts: {type: "info"|"success"|"error"|"new", title, timeout}. */
  function toast(text, opts) {
    opts = opts || {};
    var type = opts.type || "info";
    var region = toastRegion();
    var el = document.createElement("div");
    el.className = "toast toast-" + type;
    if (type === "error") el.setAttribute("role", "alert");
    var body = document.createElement("div");
    body.className = "toast-body";
    if (opts.title) {
      var title = document.createElement("strong");
      title.className = "toast-title";
      title.textContent = opts.title;
      body.appendChild(title);
    }
    var msg = document.createElement("span");
    msg.className = "toast-text";
    msg.textContent = text;
    body.appendChild(msg);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss notification");
    close.textContent = "\u00d7";
    el.appendChild(body);
    el.appendChild(close);

    var timer = null;
    function dismiss() {
      if (timer) clearTimeout(timer);
      if (!el.parentNode) return;
      el.classList.add("is-leaving");
      setTimeout(function () { if (el.parentNode) el.parentNode.removeChild(el); }, 200);
    }
    close.addEventListener("click", dismiss);
    var timeout = opts.timeout != null ? opts.timeout : (type === "error" ? 10000 : 6000);
    function arm() { if (timeout > 0) timer = setTimeout(dismiss, timeout); }
    // Pause while hovered or focused so a long message can be read.
    el.addEventListener("mouseenter", function () { if (timer) clearTimeout(timer); });
    el.addEventListener("mouseleave", arm);
    region.appendChild(el);
    while (region.children.length > 5) region.removeChild(region.firstChild);
    arm();
    return el;
  }

  function parseResponse(resp) {
    return resp.text().then(function (text) {
      var data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      if (!resp.ok || !data || data.success === false) {
        var message = (data && data.error) ||
          (resp.status === 401 ? "Your session has ended: please log in again." :
            "Request failed (HTTP " + resp.status + ").");
        var err = new Error(message);
        err.status = resp.status;
        err.data = data;
        throw err;
      }
      return data;
    });
  }

  function networkError() {
    var err = new Error("Network error: the server could not be reached.");
    err.status = 0;
    throw err;
  }

  /** POST JSON with the CSRF header; resolves with the parsed body, rejects with Error(.status). */
  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(body || {}),
    }).then(parseResponse, networkError);
  }

  function getJSON(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      cache: "no-store",
    }).then(parseResponse, networkError);
  }

  window.OrderPulse = {
    csrfToken: csrfToken,
    formatLocal: formatLocal,
    localizeTimes: localizeTimes,
    toast: toast,
    postJSON: postJSON,
    getJSON: getJSON,
  };

  function init() {
    localizeTimes(document);
    document.addEventListener("click", function (ev) {
      var btn = ev.target.closest('[data-dismiss="flash"]');
      if (btn) {
        var flash = btn.closest(".flash");
        if (flash) flash.parentNode.removeChild(flash);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
