/* The revenue chart (today's bars against yesterday's line) and its text summary. Chart.js
 * is the vendored classic script, loaded before the modules; without it only the summary
 * shows. */
import { formatCount } from "./dom.js";

const OP = window.OrderPulse;
const MIN_GAP_MS = 2000;
const REDRAW_MS = 5 * 60 * 1000;
const HOURS = Array.from({ length: 24 }, (_, h) => (h < 10 ? "0" : "") + h + ":00");

function sumTo(list, hour) {
  let total = 0;
  for (let i = 0; i <= hour && i < list.length; i++) total += Number(list[i]) || 0;
  return total;
}

function chartOptions() {
  return {
    animation: false,
    maintainAspectRatio: false,
    interaction: { mode: "index", intersect: false },
    plugins: {
      legend: { position: "bottom", labels: { color: "#334155", boxWidth: 14 } },
      tooltip: { callbacks: {
        label: (c) => c.dataset.label + ": " + formatCount(c.parsed.y) + " credits",
      } },
    },
    scales: {
      x: { ticks: { color: "#475569", maxRotation: 0, autoSkipPadding: 8 },
        grid: { display: false } },
      y: { beginAtZero: true, ticks: { color: "#475569", precision: 0 },
        title: { display: true, text: "credits", color: "#475569" } },
    },
  };
}

function createChart(canvas, data) {
  return new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: HOURS,
      datasets: [
        { label: "Today", data: data.today, backgroundColor: "#4338ca", borderRadius: 3,
          order: 2 },
        { label: "Yesterday", data: data.yesterday, type: "line", borderColor: "#64748b",
          backgroundColor: "#64748b", borderDash: [5, 4], pointRadius: 0,
          cubicInterpolationMode: "monotone",
          borderWidth: 2, order: 1 },
      ],
    },
    options: chartOptions(),
  });
}

export function createRevenue(url) {
  const canvas = document.getElementById("revenue-chart");
  const summary = document.querySelector("[data-revenue-summary]");
  let chart = null;
  let last = 0;
  let timer = null;
  let inFlight = false;

  function render(data) {
    const hour = new Date().getHours();
    if (summary) {
      summary.textContent = "Today so far: " + formatCount(sumTo(data.today, 23)) +
        " credits in " + formatCount(sumTo(data.orders_today, 23)) + " orders. Yesterday by " +
        "this hour: " + formatCount(sumTo(data.yesterday, hour)) + " credits in " +
        formatCount(sumTo(data.orders_yesterday, hour)) + " orders.";
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

  function refresh() {
    if (!url) return;
    if (inFlight) { scheduleRefresh(); return; }
    inFlight = true;
    last = Date.now();
    const target = new URL(url, window.location.href);
    // The server buckets by the browser's hours, not its own.
    target.searchParams.set("offset", String(-new Date().getTimezoneOffset()));
    OP.getJSON(target.pathname + target.search).then(render).catch(() => {
      /* keep the last chart; the next change retries */
    }).then(() => { inFlight = false; });
  }

  /** Refresh the chart after a change: at once if the last refresh is old enough, otherwise
   *  once at the end of the gap, so a burst of orders costs one request per tab. */
  function scheduleRefresh() {
    if (timer) return;
    const wait = Math.max(0, last + MIN_GAP_MS - Date.now());
    timer = setTimeout(() => {
      timer = null;
      refresh();
    }, wait);
  }

  // The hour changes without any order: redraw every five minutes anyway.
  setInterval(() => { if (!document.hidden) refresh(); }, REDRAW_MS);

  return { refresh, scheduleRefresh };
}
