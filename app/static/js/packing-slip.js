// The packing slip's Print button (no inline script: the CSP allows none).
const button = document.querySelector("[data-print]");
if (button) {
  button.addEventListener("click", () => window.print());
}
