/* Toasts: one region per page (page.js starts it on every page).
 *
 * toast(text, opts) → the toast element (with .update(text, title) and .dismiss()).
 * opts: {type: "info"|"success"|"error"|"new", title, timeout (ms; 0: stays), group (a key:
 * a toast of the same group is updated in place instead of stacking, so a burst of orders
 * is one "5 new orders" toast), actions: [{label, onClick(toast)}], holdOnHover (default
 * true: the timer waits while the pointer is on the toast; an Undo toast passes false so
 * its offer ends on time), onDismiss()}. dismissToasts() clears them.
 *
 * The region is a popover (the top layer), so it shows above the page and its dialogs. A
 * modal dialog makes everything outside it inert, even what is drawn above it: while one is
 * open the region moves into it (still a popover on top), so its buttons (Undo, Dismiss all)
 * keep working; it moves back when the dialog closes (trackModalDialogs). At most MAX
 * toasts show; "Dismiss all" appears from two. Where it sits (bottom centre; top on phones
 * and tablets, away from the row actions) is in app.css. Text only via textContent.
 */

const MAX = 4;
const canPopover = typeof HTMLElement !== "undefined" &&
  Object.prototype.hasOwnProperty.call(HTMLElement.prototype, "popover");
let region = null;
let list = null;
let head = null;
let dialogs = []; // open modal dialogs, the last one on top
let tracking = false;

function button(text, className, label) {
  const b = document.createElement("button");
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
  const clear = button("Dismiss all", "toasts-clear");
  clear.setAttribute("data-dismiss-toasts", "");
  clear.addEventListener("click", dismissToasts);
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
  const n = list.children.length;
  head.hidden = n < 2;
  if (!canPopover) return;
  if (n && !isOpen()) region.showPopover();
  if (!n && isOpen()) region.hidePopover();
}

/** Move the region into `host` (the top modal dialog) or back to <body>; shown again
 *  there, it is on top of the top layer and outside no dialog's inertness. */
function layer(host) {
  if (!region) return;
  const target = host || document.body;
  if (region.parentNode === target) return;
  if (isOpen()) region.hidePopover();
  target.appendChild(region);
  refresh();
}

/** Follow modal dialogs opening and closing, so the region stays usable over them (once
 *  per page; page.js calls it). */
export function trackModalDialogs() {
  if (tracking) return;
  tracking = true;
  new MutationObserver((changes) => {
    changes.forEach((change) => {
      const d = change.target;
      dialogs = dialogs.filter((x) => x !== d);
      if (d.open && d.matches(":modal")) dialogs.push(d);
    });
    dialogs = dialogs.filter((x) => x.open);
    layer(dialogs[dialogs.length - 1] || null);
  }).observe(document.documentElement, {
    subtree: true, attributes: true, attributeFilter: ["open"],
  });
}

/** Dismiss every toast showing. */
export function dismissToasts() {
  if (!list) return;
  Array.from(list.children).forEach((el) => el.dismiss(true));
  refresh();
}

/** Show a toast (see the top of this file for `opts`). */
export function toast(text, opts) {
  opts = opts || {};
  if (!region) build();
  if (opts.group) {
    const same = list.querySelector('[data-group="' + String(opts.group).replace(/"/g, "") + '"]');
    if (same) {
      same.update(text, opts.title);
      return same;
    }
  }
  const type = opts.type || "info";
  const el = document.createElement("div");
  el.className = "toast toast-" + type;
  if (opts.group) el.setAttribute("data-group", opts.group);
  if (type === "error") el.setAttribute("role", "alert");
  const body = document.createElement("div");
  body.className = "toast-body";
  const title = document.createElement("strong");
  title.className = "toast-title";
  const msg = document.createElement("span");
  msg.className = "toast-text";
  body.appendChild(title);
  body.appendChild(msg);
  el.appendChild(body);
  (opts.actions || []).forEach((action) => {
    const b = button(action.label, "toast-action");
    b.addEventListener("click", () => action.onClick(el));
    el.appendChild(b);
  });
  const close = button("\u00d7", "toast-close", "Dismiss notification");
  el.appendChild(close);

  let timer = null;
  const timeout = opts.timeout != null ? opts.timeout : (type === "error" ? 10000 : 6000);
  function arm() {
    clearTimeout(timer);
    if (timeout > 0) timer = setTimeout(() => el.dismiss(), timeout);
  }
  el.update = (newText, newTitle) => {
    msg.textContent = newText;
    title.textContent = newTitle || "";
    title.hidden = !newTitle;
    arm();
  };
  el.dismiss = (quiet) => {
    clearTimeout(timer);
    if (!el.parentNode) return;
    el.parentNode.removeChild(el);
    if (!quiet) refresh();
    if (opts.onDismiss) opts.onDismiss();
  };
  close.addEventListener("click", () => el.dismiss());
  if (opts.holdOnHover !== false) {
    el.addEventListener("mouseenter", () => clearTimeout(timer));
    el.addEventListener("mouseleave", arm);
  }
  el.update(text, opts.title);
  list.appendChild(el);
  while (list.children.length > MAX) list.firstChild.dismiss(true);
  refresh();
  return el;
}
