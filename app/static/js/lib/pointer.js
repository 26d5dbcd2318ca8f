/* Is the pointer on a node? `:hover` alone says yes on a touch screen long after the finger
 * left: a tapped card keeps :hover until the next tap, so anything held "under the
 * pointer" (a row's buttons, a leaving row) would stay held, stale, after a tap. After a
 * touch, nothing counts as hovered until a mouse or pen moves again. */

let touched = false;
document.addEventListener("pointerdown", (ev) => { touched = ev.pointerType === "touch"; },
  { capture: true, passive: true });
document.addEventListener("pointermove", (ev) => {
  if (ev.pointerType !== "touch") touched = false;
}, { capture: true, passive: true });

/** True while a mouse or pen pointer is over `node`. */
export function hovered(node) {
  return !touched && !!node && node.matches(":hover");
}
