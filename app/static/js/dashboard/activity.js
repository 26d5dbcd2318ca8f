/* The activity list: who did what, newest first. Entries come from the page's bootstrap
 * data, `event: order` frames and resume frames, so the same entry may arrive twice. */
import { el } from "../lib/dom.js";
import { timeElement } from "../lib/shop-time.js";
import { slug } from "../lib/text.js";
import { isoTime, newerThan } from "../lib/time-format.js";
import { activityText } from "./activity-text.js";

const ACTIVITY_MAX = 30;

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

export function createActivity() {
  const list = document.querySelector("[data-activity-list]");
  const empty = document.querySelector("[data-activity-empty]");

  /** Merge entries (any order) into the list: newest first, no duplicates, at most 30. */
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
    while (list.children.length > ACTIVITY_MAX) list.removeChild(list.lastChild);
    if (empty) empty.hidden = list.children.length > 0;
  }

  /** Replace everything (a reload after a reset). */
  function replace(entries) {
    if (list) while (list.firstChild) list.removeChild(list.firstChild);
    add(entries);
    if (empty && list) empty.hidden = list.children.length > 0;
  }

  return { add, replace };
}
