/* Instants as people read them, in a given time zone (DOM-free; shop-time.js binds them to
 * the shop's zone for the page). Every time shows in the shop's zone (SHOP_TIMEZONE), the
 * zone the order numbers' dates and the date filters use, with its abbreviation; "Today"
 * and "Yesterday" are the shop's days. */

function makeFormat(locale, zone, opts) {
  try {
    return new Intl.DateTimeFormat(locale, Object.assign({ timeZone: zone }, opts));
  } catch {
    // An unknown zone name: the browser's zone rather than no times at all.
    try { return new Intl.DateTimeFormat(locale, opts); } catch { return null; }
  }
}

/** An ISO 8601 instant → a Date, or null (absent or unreadable). */
export function parseInstant(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return isNaN(d.getTime()) ? null : d;
}

/** An ISO 8601 instant → milliseconds since the epoch; 0 when absent or unreadable, so it
 *  sorts first. */
export function isoTime(iso) {
  const t = iso ? Date.parse(iso) : NaN;
  return isNaN(t) ? 0 : t;
}

/** Compare [time, id] sort keys: true when `a` is newer; ties on time go to the higher id. */
export function newerThan(a, b) {
  return a[0] !== b[0] ? a[0] > b[0] : a[1] > b[1];
}

/** Formatters for `zone` (an IANA name; undefined: the runtime's zone) and `locale`
 *  (undefined: the runtime's). Returns {localDay(date) → "YYYY-MM-DD", shopDays(now) →
 *  [today, yesterday], formatLocal(iso, now) → "Today, 09:15 AM EST", exactTime(iso) →
 *  "Sat, Nov 28, 2026, 09:15:07 AM EST · 2026-11-28 14:15:07 UTC"}. */
export function createTimeFormat(zone, locale) {
  const dayKey = makeFormat("en-CA", zone, { year: "numeric", month: "2-digit", day: "2-digit" });
  const hourOf = makeFormat("en-GB", zone, { hour: "2-digit", hourCycle: "h23" });
  const timeFormat = makeFormat(locale, zone,
    { hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  const dateFormat = makeFormat(locale, zone, { month: "short", day: "numeric" });
  const yearFormat = makeFormat(locale, zone, { year: "numeric", month: "short", day: "numeric" });
  const exactFormat = makeFormat(locale, zone, {
    weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "2-digit",
    minute: "2-digit", second: "2-digit", timeZoneName: "short",
  });

  /** The local date of a Date, "YYYY-MM-DD". */
  function localDay(d) {
    return dayKey ? dayKey.format(d) : d.toISOString().slice(0, 10);
  }

  /** [today, yesterday] at `now` (a Date; default: now). Yesterday is the day of a moment
   *  two hours before today's local hour began, which is yesterday whatever DST did (days
   *  of 23 to 25 hours). */
  function shopDays(now = new Date()) {
    const hour = hourOf ? parseInt(hourOf.format(now), 10) % 24 : now.getUTCHours();
    return [localDay(now), localDay(new Date(now.getTime() - (hour + 2) * 3600 * 1000))];
  }

  /** An ISO 8601 instant as local time with its zone: "Today, 09:15 AM EST", "Yesterday,
   *  11:47 PM EST", "Nov 26, 02:03 PM EST", "Nov 26, 2025, 02:03 PM EST" (another year);
   *  "" for null, the text itself when it is not an instant. */
  function formatLocal(iso, now = new Date()) {
    const d = parseInstant(iso);
    if (!d) return iso ? String(iso) : "";
    if (!timeFormat) return d.toLocaleString();
    const time = timeFormat.format(d);
    const days = shopDays(now);
    const day = localDay(d);
    if (day === days[0]) return "Today, " + time;
    if (day === days[1]) return "Yesterday, " + time;
    const sameYear = day.slice(0, 4) === days[0].slice(0, 4);
    return (sameYear ? dateFormat : yearFormat).format(d) + ", " + time;
  }

  /** The exact instant, for a title (local and UTC); "" for null or unreadable. */
  function exactTime(iso) {
    const d = parseInstant(iso);
    if (!d) return "";
    const utc = d.toISOString().slice(0, 19).replace("T", " ") + " UTC";
    return exactFormat ? exactFormat.format(d) + " · " + utc : utc;
  }

  return { localDay, shopDays, formatLocal, exactTime };
}
