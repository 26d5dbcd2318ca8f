/* Small DOM and formatting helpers. Text only ever goes in through textContent. */

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = String(text);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function slug(text) {
  return String(text || "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

export function capitalize(text) {
  text = String(text || "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function formatCount(n) {
  const num = Number(n) || 0;
  return num.toLocaleString("en-US");
}

export function isoTime(iso) {
  const t = iso ? Date.parse(iso) : NaN;
  return isNaN(t) ? 0 : t;
}

/** Compare [time, id] sort keys: ties on time are broken by the higher id. */
export function newerThan(a, b) {
  return a[0] !== b[0] ? a[0] > b[0] : a[1] > b[1];
}

export function urlFor(template, id) {
  // Templates are built by url_for(order_id=0): replace the "/0/" segment only.
  return template.replace(/\/0(\/|$)/, "/" + encodeURIComponent(String(id)) + "$1");
}

export function flash(node) {
  if (!node) return;
  node.classList.remove("flash-highlight");
  void node.offsetWidth; // restart the animation
  node.classList.add("flash-highlight");
}

/** Drop the highlight classes once their animation ends, so the next change can replay it. */
export function clearHighlightsWhenDone() {
  document.addEventListener("animationend", (ev) => {
    if (ev.animationName === "flash-highlight" || ev.animationName === "row-highlight") {
      ev.target.classList.remove("flash-highlight", "row-new");
    }
  });
}

/** Mark a button busy (disabled, aria-busy) without changing its label: a label never
 *  changes under the pointer (issue 12). */
export function setBusy(button, busy) {
  if (!button) return;
  button.disabled = !!busy;
  if (busy) button.setAttribute("aria-busy", "true");
  else button.removeAttribute("aria-busy");
}
