/* Order Pulse: helpers shared by every page (loaded on all pages, before page scripts).
 *
 * window.OrderPulse = {csrfToken(), formatLocal(iso), exactTime(iso), timeElement(iso, cls),
 *                      localDay(date), timeZone, localizeTimes(root), postJSON(url, body),
 *                      getJSON(url)}; toasts.js adds toast(text, opts) and its region.
 * All text is set with textContent: nothing here ever parses data as HTML.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Every time shows in the shop's zone (<html data-time-zone>, SHOP_TIMEZONE), the zone the
  // order numbers' dates and the date filters use, with its abbreviation; "Today" and
  // "Yesterday" are the shop's days. The exact instant is in the title (hover).
  var zone = document.documentElement.getAttribute("data-time-zone") || undefined;

  function makeFormat(locale, opts) {
    try {
      return new Intl.DateTimeFormat(locale, Object.assign({ timeZone: zone }, opts));
    } catch (e) {
      try { return new Intl.DateTimeFormat(locale, opts); } catch (e2) { return null; }
    }
  }
  var dayKey = makeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" });
  var hourOf = makeFormat("en-GB", { hour: "2-digit", hourCycle: "h23" });
  var timeFormat = makeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  var dateFormat = makeFormat(undefined, { month: "short", day: "numeric" });
  var yearFormat = makeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
  var exactFormat = makeFormat(undefined, {
    weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "2-digit",
    minute: "2-digit", second: "2-digit", timeZoneName: "short",
  });

  /** The shop's local date of a Date, "YYYY-MM-DD". */
  function localDay(d) {
    return dayKey ? dayKey.format(d) : d.toISOString().slice(0, 10);
  }

  /** [today, yesterday] in the shop's zone. Yesterday is the day of a moment two hours
   *  before today's local hour began, which is yesterday whatever DST did (23-25 h days). */
  function shopDays() {
    var now = new Date();
    var hour = hourOf ? parseInt(hourOf.format(now), 10) % 24 : now.getUTCHours();
    return [localDay(now), localDay(new Date(now.getTime() - (hour + 2) * 3600 * 1000))];
  }

  function parse(iso) {
    if (!iso) return null;
    var d = new Date(iso);
    return isNaN(d.getTime()) ? null : d;
  }

  /** An ISO 8601 instant as the shop's local time with its zone: "Today, 09:15 AM EST",
   *  "Yesterday, 11:47 PM EST", "Nov 26, 02:03 PM EST" ("" for null/invalid). */
  function formatLocal(iso) {
    var d = parse(iso);
    if (!d) return iso ? String(iso) : "";
    if (!timeFormat) return d.toLocaleString();
    var time = timeFormat.format(d);
    var days = shopDays();
    var day = localDay(d);
    if (day === days[0]) return "Today, " + time;
    if (day === days[1]) return "Yesterday, " + time;
    var sameYear = day.slice(0, 4) === days[0].slice(0, 4);
    return (sameYear ? dateFormat : yearFormat).format(d) + ", " + time;
  }

  /** The exact instant, for a title: "Sat, Nov 28, 2026, 09:15:07 AM EST · 2026-11-28
   *  14:15:07 UTC". */
  function exactTime(iso) {
    var d = parse(iso);
    if (!d) return "";
    var utc = d.toISOString().slice(0, 19).replace("T", " ") + " UTC";
    return exactFormat ? exactFormat.format(d) + " · " + utc : utc;
  }

  /** A <time> element for `iso` (text, datetime and the exact title). */
  function timeElement(iso, className) {
    var t = document.createElement("time");
    t.className = "js-local-time" + (className ? " " + className : "");
    t.setAttribute("datetime", iso || "");
    t.textContent = formatLocal(iso);
    t.title = exactTime(iso);
    return t;
  }

  /** Rewrite every <time class="js-local-time" datetime="..."> to the shop's local time. */
  function localizeTimes(root) {
    var nodes = (root || document).querySelectorAll("time.js-local-time[datetime]");
    for (var i = 0; i < nodes.length; i++) {
      var t = nodes[i];
      var iso = t.getAttribute("datetime");
      var text = formatLocal(iso);
      if (text && t.textContent !== text) t.textContent = text;
      if (iso) t.title = exactTime(iso);
    }
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
    exactTime: exactTime,
    timeElement: timeElement,
    localDay: localDay,
    timeZone: zone,
    localizeTimes: localizeTimes,
    postJSON: postJSON,
    getJSON: getJSON,
  };

  function init() {
    localizeTimes(document);
    // "Today" becomes "Yesterday" at the shop's midnight, with no order to redraw a row.
    var today = shopDays()[0];
    setInterval(function () {
      var now = shopDays()[0];
      if (now !== today) { today = now; localizeTimes(document); }
    }, 60 * 1000);
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
