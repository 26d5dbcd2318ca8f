/* Small DOM helpers. Text only ever goes in through textContent. */

/** A new element: <tag class="className">text</tag> (className and text optional). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = String(text);
  return node;
}

/** Remove every child of `node`. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** Replay the brief "changed" highlight on `node` (app.css .flash-highlight). */
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
 *  changes under the pointer (docs/design.md §5a). */
export function setBusy(button, busy) {
  if (!button) return;
  button.disabled = !!busy;
  if (busy) button.setAttribute("aria-busy", "true");
  else button.removeAttribute("aria-busy");
}
