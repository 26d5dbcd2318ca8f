/* Markup shared by the table rows and the details dialog (mirrors admin/_order_row.html). */
import { el, slug } from "./dom.js";

export function badge(status, cancelled) {
  if (cancelled) return el("span", "badge badge-cancelled", "Cancelled");
  return el("span", "badge badge-" + slug(status), status);
}

function actionButton(className, text, action) {
  const button = el("button", className, text);
  button.type = "button";
  button.setAttribute("data-action", action);
  return button;
}

/** Append the order's action buttons. In a row the order id comes from the <tr>; the
 *  dialog has no row, so there each button carries data-order-id itself. */
export function actionButtons(order, container, inDialog) {
  if (!inDialog) container.appendChild(actionButton("btn btn-ghost btn-sm", "Details", "details"));
  if (order.next_status && !order.cancelled) {
    const adv = actionButton("btn btn-primary btn-sm", "Advance to " + order.next_status,
      "advance");
    adv.setAttribute("data-next-status", order.next_status);
    container.appendChild(adv);
  }
  if (!order.cancelled && order.status !== "Delivered") {
    container.appendChild(actionButton("btn btn-danger-ghost btn-sm", "Cancel", "cancel"));
  }
  if (inDialog) {
    for (const button of container.querySelectorAll("button[data-action]")) {
      button.setAttribute("data-order-id", order.id);
    }
  }
}
