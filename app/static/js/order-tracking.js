/* Customer order tracking: follows /orders/<number>/stream and moves the timeline live.
 *
 * Frames: data: {type: "initial"|"update", order_number, status, cancelled,
 * cancellation_reason, estimated_delivery, actual_delivery, updated_at, carrier,
 * tracking_number, tracking_url, refunded_credits, balance} (the tracking number and a
 * partial refund show as they happen), and
 * {type: "balance", balance} when another order of the customer charges or refunds credits:
 * the header's balance follows both. `event: revoked` means the session ended on the server
 * (logout elsewhere, a password change): the page goes to the login page, no reconnect.
 * EventSource reconnects by itself after a dropped connection; when the browser gives up
 * (readyState CLOSED, e.g. a 5xx answer) we retry with backoff (lib/backoff.js). Cancelled
 * orders, and delivered ones refunded in full, cannot change any more, except by the
 * admin's Undo (data-undo-seconds, plus the server's 5 s allowance): the stream closes once
 * that has passed. A delivered order can still get a partial refund: its stream stays.
 */
import { createBackoff } from "./lib/backoff.js";
import { clear, flash } from "./lib/dom.js";
import { timeElement } from "./lib/shop-time.js";
import { slug } from "./lib/text.js";
import { toast } from "./lib/toasts.js";

const STEPS = ["Pending", "Shipped", "Out for Delivery", "Delivered"];
const TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  final: "Final status",
};

function setTime(container, iso, fallback) {
  if (!container) return;
  clear(container);
  if (!iso) {
    container.textContent = fallback;
    return;
  }
  container.appendChild(timeElement(iso));
}

/** The header's credit balance, from what the stream pushed. */
function showBalance(balanceEl, balance) {
  if (!balanceEl || typeof balance !== "number") return;
  const text = balance + " cr";
  if (balanceEl.textContent.trim() === text) return;
  balanceEl.textContent = text;
  flash(balanceEl);
}

/** The tracking number (a link to the carrier's page when it has one) and the refunds. */
function showShipping(root, data) {
  const row = root.querySelector("[data-tracking-row]");
  if (row && "tracking_number" in data) {
    row.hidden = !data.tracking_number;
    root.querySelector("[data-carrier]").textContent = data.carrier || "";
    const link = root.querySelector("[data-tracking-link]");
    const plain = root.querySelector("[data-tracking-plain]");
    const url = /^https:\/\//.test(data.tracking_url || "") ? data.tracking_url : "";
    link.textContent = plain.textContent = data.tracking_number || "";
    link.hidden = !url;
    plain.hidden = !!url;
    if (url) link.href = url;
  }
  const refundRow = root.querySelector("[data-refund-row]");
  if (refundRow && "refunded_credits" in data) {
    refundRow.hidden = !data.refunded_credits || !!data.cancelled;
    root.querySelector("[data-refunded]").textContent = String(data.refunded_credits || 0);
  }
}

function track(root) {
  const indicator = root.querySelector("[data-live-indicator]");
  const indicatorText = indicator && indicator.querySelector("[data-live-text]");
  const badgeSlot = root.querySelector("[data-status-badge]");
  const banner = root.querySelector("[data-cancelled-banner]");
  const reasonEl = root.querySelector("[data-cancel-reason]");
  const timelineCard = root.querySelector("[data-timeline-card]");
  const statusText = root.querySelector("[data-status-text]");
  const estimatedEl = root.querySelector("[data-estimated]");
  const actualEl = root.querySelector("[data-actual]");
  const estimatedRow = root.querySelector("[data-estimated-row]");
  const actualRow = root.querySelector("[data-actual-row]");
  const cancelledRow = root.querySelector("[data-cancelled-row]");
  const cancelledWhen = root.querySelector("[data-cancelled-when]");
  const cancelledAt = root.querySelector("[data-cancelled-at]");
  const selfCancel = document.querySelector("[data-self-cancel]");
  const balanceEl = document.querySelector("[data-balance]");

  let es = null;
  const retry = createBackoff(connect);
  let finished = false;
  const current = {
    status: root.dataset.status,
    cancelled: root.dataset.cancelled === "true",
    refunded: parseInt(root.dataset.refunded || "0", 10) || 0,
    tracking: root.dataset.trackingNumber || "",
  };
  const total = parseInt(root.dataset.totalCredits || "0", 10) || 0;
  // A final status may still be undone by the admin (UNDO_SECONDS + the server's 5 s): the
  // stream stays open that long after the order reached it, then closes.
  const undoMs = (parseInt(root.dataset.undoSeconds || "0", 10) + 5) * 1000;
  let finishTimer = null;

  function setIndicator(kind) {
    if (!indicator) return;
    indicator.setAttribute("data-state", kind);
    if (indicatorText) indicatorText.textContent = TEXT[kind] || kind;
  }

  function render(data) {
    showBalance(balanceEl, data.balance);
    if (data.type === "balance") return;
    const status = STEPS.indexOf(data.status) >= 0 ? data.status : current.status;
    const cancelled = !!data.cancelled;
    const changed = status !== current.status || cancelled !== current.cancelled;
    const index = STEPS.indexOf(status);

    for (const li of root.querySelectorAll("[data-step]")) {
      const pos = STEPS.indexOf(li.getAttribute("data-step"));
      li.classList.toggle("is-done", pos < index);
      li.classList.toggle("is-current", pos === index);
      li.classList.toggle("is-todo", pos > index);
      if (pos === index) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
      // An undone step (the admin's Undo) is not reached any more: its time goes.
      const stepTime = li.querySelector("[data-step-time]");
      if (pos > index && stepTime && stepTime.firstChild) setTime(stepTime, null, "");
      const sr = li.querySelector(".timeline-sr");
      if (sr) sr.textContent = pos < index ? "(done)" : pos === index ? "(current)" : "";
      if (changed && pos === index) flash(li);
    }

    if (badgeSlot) {
      clear(badgeSlot);
      const badge = document.createElement("span");
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
        const reached = root.querySelector('[data-step="' + status + '"] [data-step-time]');
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

    showShipping(root, data);
    const title = data.order_number || root.dataset.orderNumber;
    if (changed && data.type === "update") {
      toast(cancelled ? "Your order was cancelled." : "Your order is now " + status + ".", {
        type: cancelled ? "error" : "success", title,
      });
    }
    const refunded = data.refunded_credits || 0;
    if (data.type === "update" && !cancelled && refunded > current.refunded) {
      toast((refunded - current.refunded) + " credits were refunded to your balance.",
        { type: "success", title });
    }
    if (data.type === "update" && data.tracking_number && data.tracking_number !== current.tracking) {
      toast("Tracking number: " + (data.carrier || "") + " " + data.tracking_number, { title });
    }
    current.status = status;
    current.cancelled = cancelled;
    current.refunded = refunded;
    current.tracking = data.tracking_number || "";

    if (isFinal()) {
      setIndicator("final");
      finishAfterUndo(data.updated_at);
    } else {
      clearTimeout(finishTimer);
      if (es) setIndicator("live");
    }
  }

  /** No status move can follow (the indicator says "Final status"). */
  function isFinal() { return current.cancelled || current.status === "Delivered"; }

  /** Nothing the customer sees can change any more: a delivered order can still get a
   *  partial refund until it is refunded in full, so its stream stays open until then. */
  function isSettled() {
    return current.cancelled || (current.status === "Delivered" && current.refunded >= total);
  }

  /** Close the stream once the final status at `updatedIso` is past the admin's Undo. */
  function finishAfterUndo(updatedIso) {
    clearTimeout(finishTimer);
    const left = Date.parse(updatedIso || "") + undoMs - Date.now();
    if (left > 0) {
      finishTimer = setTimeout(finishAfterUndo, left);
      return;
    }
    if (isSettled()) {
      finished = true;
      close();
    }
  }

  function close() {
    if (es) {
      es.close();
      es = null;
    }
    retry.cancel();
  }

  function connect() {
    retry.cancel();
    if (finished || es || !window.EventSource) return;
    const source = new EventSource(root.dataset.streamUrl, { withCredentials: true });
    es = source;
    source.addEventListener("open", () => {
      retry.reset();
      setIndicator(isFinal() ? "final" : "live");
    });
    source.addEventListener("message", (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch { return; }
      render(data);
    });
    source.addEventListener("revoked", () => {
      finished = true;
      close();
      window.location.assign((root.dataset.loginUrl || "/auth/login") + "?next=" +
        encodeURIComponent(window.location.pathname));
    });
    source.addEventListener("error", () => {
      if (es !== source || finished) return;
      setIndicator("reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (an HTTP error): retry ourselves with backoff and jitter.
        es = null;
        retry.schedule();
      }
    });
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !es && !finished) {
      retry.cancel();
      retry.reset();
      connect();
    }
  });
  window.addEventListener("pagehide", close);
  window.addEventListener("pageshow", (ev) => {
    if (ev.persisted && !finished) connect();
  });

  if (isFinal()) setIndicator("final");
  if (isSettled()) {
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
}

const root = document.getElementById("order-tracking");
if (root) track(root);
