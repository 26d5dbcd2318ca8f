/* Every page (base.html): times shown in the shop's zone and kept current across its
 * midnight, flash messages that close, and the toast region's watch on modal dialogs. */
import { localizeTimes, shopDays } from "./lib/shop-time.js";
import { trackModalDialogs } from "./lib/toasts.js";

localizeTimes(document);
// "Today" becomes "Yesterday" at the shop's midnight, with no order to redraw a row.
let today = shopDays()[0];
setInterval(() => {
  const now = shopDays()[0];
  if (now !== today) {
    today = now;
    localizeTimes(document);
  }
}, 60 * 1000);

document.addEventListener("click", (ev) => {
  const btn = ev.target.closest('[data-dismiss="flash"]');
  if (btn) {
    const flash = btn.closest(".flash");
    if (flash) flash.parentNode.removeChild(flash);
  }
});

trackModalDialogs();
