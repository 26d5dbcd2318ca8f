/* The chart and activity panel folds away and stays as the admin left it: a cookie the
 * server reads (app/routes/admin.py insights_state), so the next page is drawn folded or
 * open from the start, with no jump. Until the admin chooses, dashboard-fold.css folds it
 * where it would push the orders below the first screen. On phones the custom dates and
 * the page size sit behind one button ("Custom dates, rows per page"). */

const COOKIE = "orderpulse_insights";
const YEAR_S = 365 * 24 * 3600;

function bindMoreFilters() {
  const box = document.querySelector("[data-more-filters-box]");
  const button = box && box.querySelector("[data-more-filters]");
  if (!button) return;
  button.addEventListener("click", () => {
    const open = box.classList.toggle("is-open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
}

export function bindInsights() {
  bindMoreFilters();
  const panel = document.querySelector("[data-insights]");
  const toggle = panel && panel.querySelector("[data-insights-toggle]");
  const body = panel && panel.querySelector("#insights");
  if (!toggle || !body) return;

  const open = () => getComputedStyle(body).display !== "none";

  function show() {
    const isOpen = open();
    toggle.setAttribute("aria-expanded", isOpen ? "true" : "false");
    toggle.textContent = isOpen ? "Hide chart and activity" : "Show chart and activity";
  }

  toggle.addEventListener("click", () => {
    const state = open() ? "closed" : "open";
    panel.setAttribute("data-insights-state", state);
    document.cookie = COOKIE + "=" + state + "; path=/admin; max-age=" + YEAR_S +
      "; SameSite=Lax";
    show();
  });
  // The default follows the window's size until the admin chooses.
  window.addEventListener("resize", show);
  show();
}
