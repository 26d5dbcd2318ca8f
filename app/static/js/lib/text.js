/* Small text formatters shared by the dashboard and the customer's pages (DOM-free). */

/** "Out for Delivery" → "out-for-delivery": a CSS class part (badge-…, activity-…). */
export function slug(text) {
  return String(text || "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/** "home delivery" → "Home delivery" ("" for null). */
export function capitalize(text) {
  text = String(text || "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A count or an amount of credits with thousands separators: 12345 → "12,345" (0 for
 *  anything that is not a number). */
export function formatCount(n) {
  const num = Number(n) || 0;
  return num.toLocaleString("en-US");
}

/** "1 order", "87 orders", "1,204 orders": a count and its noun, singular for exactly one
 *  (`many`: the plural when it is not the noun + "s": plural(2, "entry", "entries")). */
export function plural(n, one, many) {
  const num = Number(n) || 0;
  return formatCount(num) + " " + (num === 1 ? one : many || one + "s");
}
