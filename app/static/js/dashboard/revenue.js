/* The revenue chart (today's bars against yesterday's line) and its text summary, from the
 * 15-minute UTC buckets the stream pushes ({bucket_seconds, buckets: [[start (Unix s),
 * revenue, orders placed, cancelled of those]]}), summed into local hours by revenue-hours.js: no request of its own.
 * The page redraws once a minute, so "today" moves on at midnight without any order.
 *
 * Chart.js is the vendored classic script, loaded before the modules; without it only the
 * summary shows. */
import { formatCount } from "../lib/text.js";
import { hourly, revenueSummary } from "./revenue-hours.js";

const REDRAW_MS = 60 * 1000;
const KEEP_SECONDS = 50 * 3600; // yesterday and today in any zone, and a margin
const HOURS = Array.from({ length: 24 }, (_, h) => (h < 10 ? "0" : "") + h + ":00");

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
      summary.textContent = revenueSummary(data);
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
    for (const [start, amount, orders, cancelled] of revenue.buckets) {
      buckets.set(Number(start),
        [Number(amount) || 0, Number(orders) || 0, Number(cancelled) || 0]);
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
