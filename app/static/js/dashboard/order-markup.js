/* Markup shared by the table rows and the details dialog (mirrors admin/_order_row.html). */
import { el } from "../lib/dom.js";
import { slug } from "../lib/text.js";

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

/** What an order's action buttons depend on: equal keys, identical buttons. */
export function actionsKey(order) {
  return [order.next_status || "", !!order.cancelled, order.status].join("|");
}

/** Append the order's action buttons to `container`. Each move carries the status it was
 *  drawn for (data-from: the server refuses it if the order moved meanwhile). In a row
 *  the order id comes from the <tr>; in the dialog each button carries data-order-id, and
 *  the destructive "Cancel order…" goes to `dangerContainer`, apart from Close. */
export function actionButtons(order, container, inDialog, dangerContainer) {
  if (!inDialog) container.appendChild(actionButton("btn btn-ghost btn-sm", "Details", "details"));
  const made = [];
  if (order.next_status && !order.cancelled) {
    const adv = actionButton("btn btn-primary btn-sm", "Advance to " + order.next_status,
      "advance");
    adv.setAttribute("data-next-status", order.next_status);
    container.appendChild(adv);
    made.push(adv);
  }
  if (!order.cancelled && order.status !== "Delivered") {
    const cancel = actionButton("btn btn-danger-ghost btn-sm",
      inDialog ? "Cancel order…" : "Cancel", "cancel");
    (dangerContainer || container).appendChild(cancel);
    made.push(cancel);
  }
  for (const button of made) {
    button.setAttribute("data-from", order.status);
    if (inDialog) button.setAttribute("data-order-id", order.id);
  }
}
