/* Customer order tracking: follows /orders/<number>/stream and moves the timeline live.
 *
 * Frames: data: {type: "initial"|"update", order_number, status, cancelled,
 * cancellation_reason, estimated_delivery, actual_delivery, updated_at, balance}, and
 * {type: "balance", balance} when another order of the customer charges or refunds credits:
 * the header's balance follows both. `event: revoked` means the session ended on the server
 * (logout elsewhere, a password change): the page goes to the login page, no reconnect.
 * EventSource reconnects by itself after a dropped connection; when the browser gives up
 * (readyState CLOSED, e.g. a 5xx answer) we retry with backoff. Delivered or cancelled
 * orders cannot change any more, except by the admin's Undo (data-undo-seconds, plus the
 * server's 5 s allowance): the stream closes once that has passed.
 */
(function () {
  "use strict";

  var root = document.getElementById("order-tracking");
  if (!root || !window.OrderPulse) return;
  var OP = window.OrderPulse;
  var STEPS = ["Pending", "Shipped", "Out for Delivery", "Delivered"];

  var indicator = root.querySelector("[data-live-indicator]");
  var indicatorText = indicator && indicator.querySelector("[data-live-text]");
  var badgeSlot = root.querySelector("[data-status-badge]");
  var banner = root.querySelector("[data-cancelled-banner]");
  var reasonEl = root.querySelector("[data-cancel-reason]");
  var timelineCard = root.querySelector("[data-timeline-card]");
  var statusText = root.querySelector("[data-status-text]");
  var estimatedEl = root.querySelector("[data-estimated]");
  var actualEl = root.querySelector("[data-actual]");
  var estimatedRow = root.querySelector("[data-estimated-row]");
  var actualRow = root.querySelector("[data-actual-row]");
  var cancelledRow = root.querySelector("[data-cancelled-row]");
  var cancelledWhen = root.querySelector("[data-cancelled-when]");
  var cancelledAt = root.querySelector("[data-cancelled-at]");
  var selfCancel = document.querySelector("[data-self-cancel]");

  var es = null;
  var backoff = 1000;
  var retryTimer = null;
  var finished = false;
  var current = {
    status: root.dataset.status,
    cancelled: root.dataset.cancelled === "true",
  };

  var TEXT = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    final: "Final status",
  };

  function setIndicator(kind) {
    if (!indicator) return;
    indicator.setAttribute("data-state", kind);
    if (indicatorText) indicatorText.textContent = TEXT[kind] || kind;
  }

  function slug(text) {
    return String(text || "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  }

  function setTime(container, iso, fallback) {
    if (!container) return;
    while (container.firstChild) container.removeChild(container.firstChild);
    if (!iso) {
      container.textContent = fallback;
      return;
    }
    container.appendChild(OP.timeElement(iso));
  }

  var balanceEl = document.querySelector("[data-balance]");

  /** The header's credit balance, from what the stream pushed. */
  function showBalance(balance) {
    if (!balanceEl || typeof balance !== "number") return;
    var text = balance + " cr";
    if (balanceEl.textContent.trim() === text) return;
    balanceEl.textContent = text;
    balanceEl.classList.remove("flash-highlight");
    void balanceEl.offsetWidth;
    balanceEl.classList.add("flash-highlight");
  }

  function render(data) {
    showBalance(data.balance);
    if (data.type === "balance") return;
    var status = STEPS.indexOf(data.status) >= 0 ? data.status : current.status;
    var cancelled = !!data.cancelled;
    var changed = status !== current.status || cancelled !== current.cancelled;
    var index = STEPS.indexOf(status);

    var steps = root.querySelectorAll("[data-step]");
    for (var i = 0; i < steps.length; i++) {
      var li = steps[i];
      var pos = STEPS.indexOf(li.getAttribute("data-step"));
      li.classList.toggle("is-done", pos < index);
      li.classList.toggle("is-current", pos === index);
      li.classList.toggle("is-todo", pos > index);
      if (pos === index) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
      // An undone step (the admin's Undo) is not reached any more: its time goes.
      var stepTime = li.querySelector("[data-step-time]");
      if (pos > index && stepTime && stepTime.firstChild) setTime(stepTime, null, "");
      var sr = li.querySelector(".timeline-sr");
      if (sr) sr.textContent = pos < index ? "(done)" : pos === index ? "(current)" : "";
      if (changed && pos === index) {
        li.classList.remove("flash-highlight");
        void li.offsetWidth;
        li.classList.add("flash-highlight");
      }
    }

    if (badgeSlot) {
      while (badgeSlot.firstChild) badgeSlot.removeChild(badgeSlot.firstChild);
      var badge = document.createElement("span");
      badge.className = "badge " + (cancelled ? "badge-cancelled" : "badge-" + slug(status));
      badge.textContent = cancelled ? "Cancelled" : status;
      badgeSlot.appendChild(badge);
    }

    // The time of the step just reached (the frame's updated_at is when it changed).
    if (changed && data.updated_at) {
      if (cancelled && !current.cancelled) {
        setTime(cancelledWhen, data.updated_at, "—");
        if (cancelledAt) {
          setTime(cancelledAt, data.updated_at, "");
          cancelledAt.insertBefore(document.createTextNode(" on "), cancelledAt.firstChild);
        }
      } else if (!cancelled) {
        var reached = root.querySelector('[data-step="' + status + '"] [data-step-time]');
        if (reached && !reached.firstChild) setTime(reached, data.updated_at, "");
      }
    }
    // A cancelled order has no delivery to estimate; only a Pending one can be cancelled.
    if (estimatedRow) estimatedRow.hidden = cancelled;
    if (actualRow) actualRow.hidden = cancelled;
    if (cancelledRow) cancelledRow.hidden = !cancelled;
    if (selfCancel && (cancelled || status !== "Pending")) selfCancel.hidden = true;
    if (banner) banner.hidden = !cancelled;
    if (reasonEl) {
      reasonEl.textContent = cancelled && data.cancellation_reason ?
        "Reason: " + data.cancellation_reason : "";
    }
    if (timelineCard) timelineCard.classList.toggle("is-cancelled", cancelled);

    if (statusText) {
      statusText.textContent = cancelled ? "Cancelled while " + status.toLowerCase() + "." :
        status === "Delivered" ? "Delivered. Enjoy!" : "Current status: " + status + ".";
    }
    if ("estimated_delivery" in data) setTime(estimatedEl, data.estimated_delivery, "—");
    if ("actual_delivery" in data) setTime(actualEl, data.actual_delivery, "Not yet");

    if (changed && data.type === "update") {
      OP.toast(cancelled ? "Your order was cancelled." : "Your order is now " + status + ".", {
        type: cancelled ? "error" : "success",
        title: data.order_number || root.dataset.orderNumber,
      });
    }
    current.status = status;
    current.cancelled = cancelled;

    if (isFinal()) { setIndicator("final"); finishAfterUndo(data.updated_at); }
    else { clearTimeout(finishTimer); if (es) setIndicator("live"); }
  }

  // A final status may still be undone by the admin (UNDO_SECONDS + the server's 5 s): the
  // stream stays open that long after the order reached it (`updatedIso`), then closes.
  var undoMs = (parseInt(root.dataset.undoSeconds || "0", 10) + 5) * 1000;
  var finishTimer = null;
  function isFinal() { return current.cancelled || current.status === "Delivered"; }
  function finishAfterUndo(updatedIso) {
    clearTimeout(finishTimer);
    var left = Date.parse(updatedIso || "") + undoMs - Date.now();
    if (left > 0) { finishTimer = setTimeout(finishAfterUndo, left); return; }
    if (isFinal()) { finished = true; close(); }
  }

  function close() {
    if (es) {
      es.close();
      es = null;
    }
    clearTimeout(retryTimer);
    retryTimer = null;
  }

  function connect() {
    retryTimer = null;
    if (finished || es || !window.EventSource) return;
    var source = new EventSource(root.dataset.streamUrl, { withCredentials: true });
    es = source;
    source.addEventListener("open", function () {
      backoff = 1000;
      setIndicator(isFinal() ? "final" : "live");
    });
    source.addEventListener("message", function (ev) {
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      render(data);
    });
    source.addEventListener("revoked", function () {
      finished = true;
      close();
      window.location.assign((root.dataset.loginUrl || "/auth/login") + "?next=" +
        encodeURIComponent(window.location.pathname));
    });
    source.addEventListener("error", function () {
      if (es !== source || finished) return;
      setIndicator("reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (an HTTP error): retry ourselves with backoff and jitter.
        es = null;
        var delay = backoff + Math.random() * Math.min(1000, backoff / 2);
        backoff = Math.min(backoff * 2, 30000);
        retryTimer = setTimeout(connect, delay);
      }
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !es && !finished) {
      clearTimeout(retryTimer);
      backoff = 1000;
      connect();
    }
  });
  window.addEventListener("pagehide", close);
  window.addEventListener("pageshow", function (ev) {
    if (ev.persisted && !finished) connect();
  });

  if (isFinal()) {
    setIndicator("final");
    if (!(Date.parse(root.dataset.updatedAt || "") + undoMs > Date.now())) {
      finished = true;
      return;
    }
  }
  if (!window.EventSource) {
    setIndicator("reconnecting");
    return;
  }
  if (!isFinal()) setIndicator("connecting");
  connect();
})();
