/* The activity list: who did what, newest first. Entries come from the page's bootstrap
 * data, `event: order` frames and resume frames, so the same entry may arrive twice.
 * "Load older" asks for the entries before the oldest shown (GET /admin/api/activity
 * ?before=<id>: a keyset on the feed's order, so arrivals meanwhile shift nothing); what
 * it loaded stays while new entries come in on top. */
import { el } from "../lib/dom.js";
import { getJSON } from "../lib/http.js";
import { toast } from "../lib/toasts.js";
import { timeElement } from "../lib/shop-time.js";
import { slug } from "../lib/text.js";
import { isoTime, newerThan } from "../lib/time-format.js";
import { activityText } from "./activity-text.js";

const ACTIVITY_MAX = 30;
const OLDER_PAGE = 30;

function activityItem(a) {
  const li = el("li", "activity-item activity-" + slug(a.kind));
  li.setAttribute("data-activity-id", a.id);
  li.setAttribute("data-at", a.at || "");
  li.appendChild(el("span", "activity-dot"));
  const body = el("div", "activity-body");
  body.appendChild(el("span", "activity-text", activityText(a)));
  if (a.at) body.appendChild(timeElement(a.at, "activity-time muted small"));
  li.appendChild(body);
  return li;
}

/** `url`: the activity API (its "Load older" pages). */
export function createActivity(url) {
  const list = document.querySelector("[data-activity-list]");
  const empty = document.querySelector("[data-activity-empty]");
  const older = document.querySelector("[data-activity-older]");
  const end = document.querySelector("[data-activity-end]");
  let keep = ACTIVITY_MAX; // grows by what "Load older" brought

  /** Merge entries (any order) into the list: newest first, no duplicates, at most `keep`
   *  (30, and what "Load older" loaded). */
  function add(entries) {
    if (!list || !entries || !entries.length) return;
    entries.forEach((a) => {
      if (!a || a.id == null) return;
      if (list.querySelector('[data-activity-id="' + Number(a.id) + '"]')) return;
      const key = [isoTime(a.at), Number(a.id)];
      let before = null;
      for (const item of list.children) {
        const other = [isoTime(item.getAttribute("data-at")),
          Number(item.getAttribute("data-activity-id"))];
        if (newerThan(key, other)) { before = item; break; }
      }
      list.insertBefore(activityItem(a), before);
    });
    while (list.children.length > keep) list.removeChild(list.lastChild);
    if (empty) empty.hidden = list.children.length > 0;
  }

  /** Replace everything (a reload after a reset). */
  function replace(entries) {
    keep = ACTIVITY_MAX;
    if (list) while (list.firstChild) list.removeChild(list.firstChild);
    add(entries);
    if (empty && list) empty.hidden = list.children.length > 0;
  }

  async function loadOlder() {
    const last = list && list.lastElementChild;
    if (!last || !url) return;
    older.disabled = true;
    older.setAttribute("aria-busy", "true");
    try {
      const data = await getJSON(url + "?limit=" + OLDER_PAGE + "&before=" +
        encodeURIComponent(last.getAttribute("data-activity-id")));
      keep = list.children.length + data.activity.length;
      add(data.activity);
      older.hidden = !data.has_more;
      if (end) end.hidden = data.has_more;
    } catch (err) {
      toast(err.message, { type: "error", title: "Could not load older activity" });
    } finally {
      older.disabled = false;
      older.removeAttribute("aria-busy");
    }
  }
  if (older) older.addEventListener("click", loadOlder);

  return { add, replace };
}
