/* The revenue chart (today's bars against yesterday's line) and its text summary, summed
 * here from the 15-minute UTC buckets the stream pushes ({bucket_seconds, buckets:
 * [[start (Unix s), revenue, orders]]}): no request of its own. Every zone in use is a
 * whole number of quarter hours from UTC, so each bucket falls in one local hour of
 * whatever zone the page shows (the browser's, or data-time-zone); Intl knows each zone's
 * offset on each date, so summer time and midnight need nothing special. The page redraws
 * once a minute, so "today" moves on at midnight without any order.
 *
 * Chart.js is the vendored classic script, loaded before the modules; without it only the
 * summary shows. */
import { formatCount } from "./dom.js";

const REDRAW_MS = 60 * 1000;
const KEEP_SECONDS = 50 * 3600; // yesterday and today in any zone, and a margin
const HOURS = Array.from({ length: 24 }, (_, h) => (h < 10 ? "0" : "") + h + ":00");

function sumTo(list, hour) {
  let total = 0;
  for (let i = 0; i <= hour && i < list.length; i++) total += Number(list[i]) || 0;
  return total;
}

/** A function that gives the local [date "YYYY-MM-DD", hour] of a Date in `timeZone`
 *  (undefined: the browser's zone). */
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
 *  {today, yesterday, orders_today, orders_yesterday} (24 ints each), plus `hour` (now's
 *  local hour). `buckets` is a Map start (Unix s) → [revenue, orders]. */
export function hourly(buckets, now, timeZone) {
  const clock = localClock(timeZone);
  const [today, hour] = clock(now);
  // Local yesterday: the date of a moment before today's first hour.
  const [yesterday] = clock(new Date(now.getTime() - (hour + 1) * 3600 * 1000));
  const out = { today: new Array(24).fill(0), yesterday: new Array(24).fill(0),
    orders_today: new Array(24).fill(0), orders_yesterday: new Array(24).fill(0), hour };
  for (const [start, [revenue, orders]] of buckets) {
    const [day, h] = clock(new Date(start * 1000));
    const key = day === today ? "today" : day === yesterday ? "yesterday" : null;
    if (!key) continue;
    out[key][h] += revenue;
    out["orders_" + key][h] += orders;
  }
  return out;
}

function chartOptions() {
  const style = getComputedStyle(document.documentElement);
  const ink = style.getPropertyValue("--chart-ink").trim() || "#334155";
  const muted = style.getPropertyValue("--chart-muted").trim() || "#475569";
  return {
    animation: false,
    maintainAspectRatio: false,
    interaction: { mode: "index", intersect: false },
    plugins: {
      legend: { position: "bottom", labels: { color: ink, boxWidth: 14 } },
      tooltip: { callbacks: {
        label: (c) => c.dataset.label + ": " + formatCount(c.parsed.y) + " credits",
      } },
    },
    scales: {
      x: { ticks: { color: muted, maxRotation: 0, autoSkipPadding: 8 },
        grid: { display: false } },
      y: { beginAtZero: true, ticks: { color: muted, precision: 0 },
        title: { display: true, text: "credits", color: muted } },
    },
  };
}

function createChart(canvas, data) {
  // The theme's colours (dark.css re-defines them for a dark system theme).
  const style = getComputedStyle(document.documentElement);
  const bar = style.getPropertyValue("--chart-bar").trim() || "#4338ca";
  const line = style.getPropertyValue("--chart-line").trim() || "#64748b";
  return new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: HOURS,
      datasets: [
        { label: "Today", data: data.today, backgroundColor: bar, borderRadius: 3,
          order: 2 },
        { label: "Yesterday", data: data.yesterday, type: "line", borderColor: line,
          backgroundColor: line, borderDash: [5, 4], pointRadius: 0,
          cubicInterpolationMode: "monotone",
          borderWidth: 2, order: 1 },
      ],
    },
    options: chartOptions(),
  });
}

export function createRevenue(timeZone) {
  const canvas = document.getElementById("revenue-chart");
  const summary = document.querySelector("[data-revenue-summary]");
  const buckets = new Map();
  let chart = null;
  let scheduled = false;

  function render() {
    scheduled = false;
    const data = hourly(buckets, new Date(), timeZone);
    if (summary) {
      summary.textContent = "Today so far: " + formatCount(sumTo(data.today, 23)) +
        " credits in " + formatCount(sumTo(data.orders_today, 23)) + " orders. Yesterday by " +
        "this hour: " + formatCount(sumTo(data.yesterday, data.hour)) + " credits in " +
        formatCount(sumTo(data.orders_yesterday, data.hour)) + " orders.";
    }
    if (!canvas || !window.Chart) return;
    if (!chart) {
      chart = createChart(canvas, data);
      return;
    }
    chart.data.datasets[0].data = data.today;
    chart.data.datasets[1].data = data.yesterday;
    chart.update("none");
  }

  /** Redraw once per frame at most, and not while the tab is hidden (it redraws when
   *  shown): a burst of orders costs one redraw. */
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    if (document.hidden) return;
    window.requestAnimationFrame(render);
  }

  /** Apply pushed buckets: `replace` (a first frame, a reload) drops what we had. */
  function apply(revenue, replace) {
    if (!revenue || !Array.isArray(revenue.buckets)) return;
    if (replace) buckets.clear();
    for (const [start, amount, orders] of revenue.buckets) {
      buckets.set(Number(start), [Number(amount) || 0, Number(orders) || 0]);
    }
    const oldest = Date.now() / 1000 - KEEP_SECONDS;
    for (const start of buckets.keys()) if (start < oldest) buckets.delete(start);
    schedule();
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && scheduled) window.requestAnimationFrame(render);
  });
  // The hour and the day change without any order.
  setInterval(() => { if (!document.hidden) render(); }, REDRAW_MS);
  // The system theme changed (dark.css): redraw the chart in its colours.
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
      if (chart) { chart.destroy(); chart = null; }
      render();
    });
  }

  return { apply };
}
