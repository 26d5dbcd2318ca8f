/* Order Pulse toasts (issue 12): one region per page, loaded after common.js on every page.
 *
 * OrderPulse.toast(text, opts) → the toast element (with .update(text, title) and
 * .dismiss()). opts: {type: "info"|"success"|"error"|"new", title, timeout (ms; 0: stays),
 * group (a key: a toast of the same group is updated in place instead of stacking, so a
 * burst of orders is one "5 new orders" toast), actions: [{label, onClick(toast)}],
 * holdOnHover (default true: the timer waits while the pointer is on the toast; an Undo
 * toast passes false so its offer ends on time)}. OrderPulse.dismissToasts() clears them.
 *
 * The region is a popover (the top layer), so it shows above the page and its dialogs. A
 * modal dialog makes everything outside it inert, even what is drawn above it: while one is
 * open the region moves into it (still a popover on top), so its buttons (Undo, Dismiss all)
 * keep working; it moves back when the dialog closes. At most MAX toasts show; "Dismiss
 * all" appears from two. Where it sits (bottom centre; top on phones and tablets, away from
 * the row actions) is in app.css. Text only via textContent.
 */
(function () {
  "use strict";

  var OP = window.OrderPulse;
  if (!OP) return;
  var MAX = 4;
  var canPopover = typeof HTMLElement !== "undefined" &&
    Object.prototype.hasOwnProperty.call(HTMLElement.prototype, "popover");
  var region = null;
  var list = null;
  var head = null;
  var dialogs = []; // open modal dialogs, the last one on top

  function button(text, className, label) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = text;
    if (label) b.setAttribute("aria-label", label);
    return b;
  }

  function build() {
    region = document.createElement("section");
    region.id = "toasts";
    region.className = "toasts";
    region.setAttribute("aria-label", "Notifications");
    if (canPopover) region.setAttribute("popover", "manual");
    head = document.createElement("div");
    head.className = "toasts-head";
    head.hidden = true;
    var clear = button("Dismiss all", "toasts-clear");
    clear.setAttribute("data-dismiss-toasts", "");
    clear.addEventListener("click", dismissAll);
    head.appendChild(clear);
    list = document.createElement("div");
    list.className = "toasts-list";
    list.setAttribute("aria-live", "polite");
    list.setAttribute("aria-relevant", "additions");
    region.appendChild(head);
    region.appendChild(list);
    (dialogs[dialogs.length - 1] || document.body).appendChild(region);
  }

  function isOpen() {
    return canPopover && region.matches(":popover-open");
  }

  /** Show or hide the region for its toasts; "Dismiss all" from two. */
  function refresh() {
    var n = list.children.length;
    head.hidden = n < 2;
    if (!canPopover) return;
    if (n && !isOpen()) region.showPopover();
    if (!n && isOpen()) region.hidePopover();
  }

  /** Move the region into `host` (the top modal dialog) or back to <body>; shown again
   *  there, it is on top of the top layer and outside no dialog's inertness. */
  function layer(host) {
    if (!region) return;
    var target = host || document.body;
    if (region.parentNode === target) return;
    if (isOpen()) region.hidePopover();
    target.appendChild(region);
    refresh();
  }

  function watchDialogs() {
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        var d = change.target;
        dialogs = dialogs.filter(function (x) { return x !== d; });
        if (d.open && d.matches(":modal")) dialogs.push(d);
      });
      dialogs = dialogs.filter(function (x) { return x.open; });
      layer(dialogs[dialogs.length - 1] || null);
    }).observe(document.documentElement, {
      subtree: true, attributes: true, attributeFilter: ["open"],
    });
  }

  function dismissAll() {
    if (!list) return;
    Array.prototype.slice.call(list.children).forEach(function (el) { el.dismiss(true); });
    refresh();
  }

  function toast(text, opts) {
    opts = opts || {};
    if (!region) build();
    if (opts.group) {
      var same = list.querySelector('[data-group="' + String(opts.group).replace(/"/g, "") + '"]');
      if (same) {
        same.update(text, opts.title);
        return same;
      }
    }
    var type = opts.type || "info";
    var el = document.createElement("div");
    el.className = "toast toast-" + type;
    if (opts.group) el.setAttribute("data-group", opts.group);
    if (type === "error") el.setAttribute("role", "alert");
    var body = document.createElement("div");
    body.className = "toast-body";
    var title = document.createElement("strong");
    title.className = "toast-title";
    var msg = document.createElement("span");
    msg.className = "toast-text";
    body.appendChild(title);
    body.appendChild(msg);
    el.appendChild(body);
    (opts.actions || []).forEach(function (action) {
      var b = button(action.label, "toast-action");
      b.addEventListener("click", function () { action.onClick(el); });
      el.appendChild(b);
    });
    var close = button("\u00d7", "toast-close", "Dismiss notification");
    el.appendChild(close);

    var timer = null;
    var timeout = opts.timeout != null ? opts.timeout : (type === "error" ? 10000 : 6000);
    function arm() {
      clearTimeout(timer);
      if (timeout > 0) timer = setTimeout(function () { el.dismiss(); }, timeout);
    }
    el.update = function (newText, newTitle) {
      msg.textContent = newText;
      title.textContent = newTitle || "";
      title.hidden = !newTitle;
      arm();
    };
    el.dismiss = function (quiet) {
      clearTimeout(timer);
      if (!el.parentNode) return;
      el.parentNode.removeChild(el);
      if (!quiet) refresh();
      if (opts.onDismiss) opts.onDismiss();
    };
    close.addEventListener("click", function () { el.dismiss(); });
    if (opts.holdOnHover !== false) {
      el.addEventListener("mouseenter", function () { clearTimeout(timer); });
      el.addEventListener("mouseleave", arm);
    }
    el.update(text, opts.title);
    list.appendChild(el);
    while (list.children.length > MAX) list.firstChild.dismiss(true);
    refresh();
    return el;
  }

  OP.toast = toast;
  OP.dismissToasts = dismissAll;
  watchDialogs();
})();
