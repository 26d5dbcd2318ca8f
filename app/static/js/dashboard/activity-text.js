/* One activity entry in words, for the activity list and an order's history. */

/** "bob moved ORD-… from Pending to Shipped" (`subject`: the order's number, or "it"). */
export function activityText(a, subject) {
  const who = a.actor || "System";
  const what = subject || a.order_number;
  switch (a.kind) {
    case "created": return who + " placed " + what;
    case "cancelled": return who + " cancelled " + what + (a.note ? ": " + a.note : "");
    case "status_undone":
      return who + " undid the move of " + what + " to " + (a.from_status || "?") +
        " (back to " + (a.to_status || "?") + ")";
    case "cancel_undone":
      return who + " undid the cancellation of " + what + " (charged again)";
    case "note": return who + " noted on " + what + ": " + (a.note || "");
    case "note_edited": return who + " edited a note on " + what + ": " + (a.note || "");
    case "note_deleted": return who + " deleted a note on " + what;
    case "tagged": return who + " tagged " + what + " " + (a.note || "");
    case "refunded":
      return who + " refunded " + (a.credits || 0) + " credits of " + what +
        (a.note ? ": " + a.note : "");
    default:
      return who + " moved " + what + " from " + (a.from_status || "?") + " to " +
        (a.to_status || "?") + (a.note ? " (" + a.note + ")" : "");
  }
}
