/* Revenue by local hour, summed from the 15-minute UTC buckets the stream pushes (DOM-free;
 * revenue.js draws it). Every zone in use is a whole number of quarter hours from UTC, so
 * each bucket falls in one local hour of whatever zone the page shows (the browser's, or
 * data-time-zone); Intl knows each zone's offset on each date, so summer time and midnight
 * need nothing special. */
import { formatCount, plural } from "../lib/text.js";

/** The sum of list[0..hour] (entries that are not numbers count 0). */
function sumTo(list, hour) {
  let total = 0;
  for (let i = 0; i <= hour && i < list.length; i++) total += Number(list[i]) || 0;
  return total;
}

/** A function that gives the local [date "YYYY-MM-DD", hour] of a Date in `timeZone`
 *  (undefined: the runtime's zone). */
export function localClock(timeZone) {
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    hourCycle: "h23",
  });
  return (date) => {
    const parts = {};
    for (const p of format.formatToParts(date)) parts[p.type] = p.value;
    return [parts.year + "-" + parts.month + "-" + parts.day, parseInt(parts.hour, 10) % 24];
  };
}

/** Sum buckets into the hours of today and yesterday in `timeZone` at `now`:
 *  {today, yesterday, orders_today, orders_yesterday, cancelled_today, cancelled_yesterday}
 *  (24 ints each), plus `hour` (now's local hour). `buckets` is a Map start (Unix s) →
 *  [revenue, orders placed, cancelled of those]; orders_* are the live ones (placed less
 *  cancelled), as the status cards count them. */
export function hourly(buckets, now, timeZone) {
  const clock = localClock(timeZone);
  const [today, hour] = clock(now);
  // Local yesterday: the date of a moment before today's first hour.
  const [yesterday] = clock(new Date(now.getTime() - (hour + 1) * 3600 * 1000));
  const hours = () => new Array(24).fill(0);
  const out = { today: hours(), yesterday: hours(), orders_today: hours(),
    orders_yesterday: hours(), cancelled_today: hours(), cancelled_yesterday: hours(), hour };
  for (const [start, [revenue, orders, cancelled]] of buckets) {
    const [day, h] = clock(new Date(start * 1000));
    const key = day === today ? "today" : day === yesterday ? "yesterday" : null;
    if (!key) continue;
    out[key][h] += revenue;
    out["orders_" + key][h] += orders - (cancelled || 0);
    out["cancelled_" + key][h] += cancelled || 0;
  }
  return out;
}

/** One day's part of the summary: "1,250 credits in 9 orders (2 cancelled)". The orders
 *  are the live ones, as the cards count them; cancelled ones are said apart, never in N. */
function dayText(revenue, orders, cancelled) {
  return formatCount(revenue) + " credits in " + plural(orders, "order") +
    (cancelled ? " (" + formatCount(cancelled) + " cancelled)" : "");
}

/** The chart's text summary of `hourly`'s result: today so far against yesterday up to the
 *  same hour ("Today so far: 1,250 credits in 9 orders (2 cancelled). Yesterday by this
 *  hour: …"). */
export function revenueSummary(data) {
  const upTo = (key, hour) => sumTo(data[key] || [], hour);
  return "Today so far: " +
    dayText(upTo("today", 23), upTo("orders_today", 23), upTo("cancelled_today", 23)) +
    ". Yesterday by this hour: " +
    dayText(upTo("yesterday", data.hour), upTo("orders_yesterday", data.hour),
      upTo("cancelled_yesterday", data.hour)) + ".";
}
