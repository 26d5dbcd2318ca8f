/* Times on the page, in the shop's zone (<html data-time-zone>, SHOP_TIMEZONE; see
 * time-format.js): <time class="js-local-time" datetime="…"> elements show the local time
 * with its zone, the exact instant in their title (hover). */
import { createTimeFormat } from "./time-format.js";

/** The shop's zone (an IANA name), or undefined: the browser's. */
export const timeZone = document.documentElement.getAttribute("data-time-zone") || undefined;

const format = createTimeFormat(timeZone);

/** The shop's local date of a Date, "YYYY-MM-DD". */
export const localDay = format.localDay;
/** [today, yesterday] in the shop's zone, now. */
export const shopDays = () => format.shopDays(new Date());
/** An ISO instant as "Today, 09:15 AM EST" ("" for null). */
export const formatLocal = (iso) => format.formatLocal(iso, new Date());
/** The exact instant, local and UTC, for a title. */
export const exactTime = format.exactTime;

/** A <time> element for `iso` (text, datetime and the exact title); `className` adds
 *  classes after js-local-time. */
export function timeElement(iso, className) {
  const t = document.createElement("time");
  t.className = "js-local-time" + (className ? " " + className : "");
  t.setAttribute("datetime", iso || "");
  t.textContent = formatLocal(iso);
  t.title = exactTime(iso);
  return t;
}

/** Rewrite every <time class="js-local-time" datetime="…"> under `root` (default: the
 *  document) to the shop's local time. */
export function localizeTimes(root) {
  for (const t of (root || document).querySelectorAll("time.js-local-time[datetime]")) {
    const iso = t.getAttribute("datetime");
    const text = formatLocal(iso);
    if (text && t.textContent !== text) t.textContent = text;
    if (iso) t.title = exactTime(iso);
  }
}
