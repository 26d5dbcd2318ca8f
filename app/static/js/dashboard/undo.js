/* "Undo" for 10 s after an advance or a cancel: the answer to the change carries
 * its activity entry; Undo posts that entry's id (POST /admin/api/order/<id>/undo, listed in
 * requests.json), and the server reverts exactly that change as a change of its own, or
 * says why not (too late, changed since, the customer's balance no longer covers it). The
 * offer ends on time even under the pointer; `u` (keyboard.js) takes the newest one. */
import { postJSON, urlFor } from "../lib/http.js";
import { toast } from "../lib/toasts.js";

export function createUndo(cfg, apply) {
  let last = null; // the newest offer still showing: {order, activity, toast}

  function run(order, activity, offered) {
    for (const b of offered.querySelectorAll("button")) b.disabled = true;
    return postJSON(urlFor(cfg.undoTpl, order.id), { activity_id: activity.id })
      .then((data) => {
        offered.dismiss();
        apply(data.order, "undo");
        const back = data.order.cancelled ? "cancelled" : data.order.status;
        toast(order.order_number + " is " + back + " again.", { type: "success",
          title: "Undone" });
      }).catch((err) => {
        offered.dismiss();
        toast(err.message, { type: "error", title: "Could not undo " + order.order_number });
        if (err.data && err.data.order) apply(err.data.order, "refused");
      });
  }

  /** Show `text` with an Undo button for `activity` (the change just made to `order`). */
  function offer(order, activity, text) {
    if (!activity || activity.id == null || !cfg.undoTpl) {
      toast(text, { type: "success" });
      return;
    }
    const offered = toast(text, {
      type: "success",
      timeout: cfg.undoMs,
      holdOnHover: false,
      actions: [{ label: "Undo", onClick: (t) => run(order, activity, t) }],
      onDismiss: () => { if (last && last.toast === offered) last = null; },
    });
    offered.setAttribute("data-undo-for", String(order.id));
    last = { order, activity, toast: offered };
  }

  /** Undo the newest change still on offer (the `u` shortcut); false if there is none. */
  function undoLast() {
    if (!last || !last.toast.isConnected) return false;
    run(last.order, last.activity, last.toast);
    return true;
  }

  return { offer, undoLast };
}
