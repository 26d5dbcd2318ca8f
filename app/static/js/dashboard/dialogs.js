/* <dialog> helpers: the [data-close-dialog] buttons and a backdrop click close a dialog. */

export function openDialog(dialog) {
  if (!dialog) return;
  if (typeof dialog.showModal === "function") {
    if (!dialog.open) dialog.showModal();
  } else {
    dialog.setAttribute("open", "");
  }
}

export function closeDialog(dialog) {
  if (!dialog) return;
  if (typeof dialog.close === "function") {
    if (dialog.open) dialog.close();
  } else {
    dialog.removeAttribute("open");
  }
}

export function bindDialogClosers(dialogs) {
  document.addEventListener("click", (ev) => {
    const closer = ev.target.closest("[data-close-dialog]");
    if (closer) closeDialog(closer.closest("dialog"));
  });
  for (const dialog of dialogs) {
    if (!dialog) continue;
    // A click on the backdrop targets the dialog itself but lands outside its box.
    dialog.addEventListener("click", (ev) => {
      if (ev.target !== dialog) return;
      const r = dialog.getBoundingClientRect();
      const inside = ev.clientX >= r.left && ev.clientX <= r.right &&
        ev.clientY >= r.top && ev.clientY <= r.bottom;
      if (!inside) closeDialog(dialog);
    });
  }
}
