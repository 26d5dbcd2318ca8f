/* What presence and a colleague's changes say (docs/design.md §5a), DOM-free: which admins
 * are on the dashboard, who is viewing or acting on an order ("maria is cancelling"), the
 * line an open dialog shows when someone else changed its order, and what the cancel
 * dialog offers then. tests/js/presence-text.test.mjs covers it.
 *
 * An `event: presence` entry: {user_id, username, session, order_id, action, since}. */

const VERB = { viewing: "viewing", cancelling: "cancelling", advancing: "advancing" };

function joinNames(names) {
  if (names.length <= 1) return names.join("");
  return names.slice(0, -1).join(", ") + " and " + names[names.length - 1];
}

/** The other people on the dashboard, one per username, in the frame's order: `you: true`
 *  for the page's own user in another browser (`mine`: this page's session key, `me`: its
 *  username). [{username, you, sessions}] */
export function othersHere(admins, mine, me) {
  const byName = new Map();
  for (const entry of admins || []) {
    if (!entry || entry.session === mine) continue;
    const found = byName.get(entry.username);
    if (found) {
      found.sessions += 1;
    } else {
      byName.set(entry.username, { username: entry.username, you: entry.username === me,
        sessions: 1 });
    }
  }
  return Array.from(byName.values());
}

/** `{orderId: [entry, ...]}` of the entries focused on an order, the page's own session
 *  left out. */
export function byOrder(admins, mine) {
  const orders = {};
  for (const entry of admins || []) {
    if (!entry || entry.session === mine || entry.order_id == null) continue;
    (orders[String(entry.order_id)] ||= []).push(entry);
  }
  return orders;
}

function who(entry, me) {
  return entry.username === me ? "You (another window)" : entry.username;
}

/** "maria is cancelling", "maria and john are viewing", "maria is cancelling · john is
 *  viewing": acting first, then viewing. "" for nobody. */
export function focusText(entries, me) {
  const groups = new Map();
  for (const entry of entries || []) {
    const verb = VERB[entry.action] || "viewing";
    if (!groups.has(verb)) groups.set(verb, []);
    const name = who(entry, me);
    if (!groups.get(verb).includes(name)) groups.get(verb).push(name);
  }
  const order = ["cancelling", "advancing", "viewing"];
  return order.filter((verb) => groups.has(verb)).map((verb) => {
    const names = groups.get(verb);
    return joinNames(names) + (names.length > 1 ? " are " : " is ") + verb;
  }).join(" · ");
}

/** The line for a dialog whose order someone else just changed (an `event: order`), or
 *  null when it was the page's own user. */
export function changeText(event, me) {
  if (!event || !event.order || (event.actor && event.actor === me)) return null;
  const name = event.actor || "The system";
  const order = event.order;
  if (event.kind === "cancelled") return name + " cancelled it.";
  if (event.kind === "cancel_undone") {
    return name + " undid its cancellation: it is " + order.status + " again.";
  }
  if (event.kind === "status_undone") {
    return name + " undid the last move: it is " + order.status + " again.";
  }
  if (event.kind === "status") {
    return order.status === "Delivered" ? name + " marked it Delivered." :
      name + " moved it to " + order.status + ".";
  }
  return null;
}

/** What the cancel dialog offers once its order changed under it (`seen`: the status the
 *  admin saw when opening it): {canCancel, from (the status a cancel now names), note,
 *  button}. The typed reason always stays. */
export function cancelAfterChange(order, seen, actor) {
  const name = actor || "Someone";
  if (order.cancelled) {
    return { canCancel: false, from: seen, button: null,
      note: name + " cancelled this order already. Nothing more to do: close this." };
  }
  if (order.status === "Delivered") {
    return { canCancel: false, from: seen, button: null,
      note: name + " marked it Delivered: it can no longer be cancelled." };
  }
  if (order.status !== seen) {
    return { canCancel: true, from: order.status, button: "Cancel anyway",
      note: name + " moved it to " + order.status + ". Your reason is kept: cancel it " +
        "anyway, or keep the order." };
  }
  return { canCancel: true, from: seen, button: null, note: "" };
}
