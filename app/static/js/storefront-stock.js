// The storefront's live stock: "Out of stock" and "Only N left" follow every checkout,
// cancel and restock over /catalogue/stream (docs/architecture.md). One EventSource per
// page; the browser reconnects by itself (Last-Event-ID), and the stream's first frame
// carries what changed since the version the page was read at.

const grid = document.getElementById("storefront");

function apply(product) {
  const card = grid.querySelector(`[data-product-id="${product.id}"]`);
  if (!card) {
    return;
  }
  const soldOut = product.stock === 0 || !product.active;
  const label = card.querySelector("[data-stock-label]");
  const text = product.active ? product.label : "No longer available";
  label.textContent = text || "";
  label.hidden = !text;
  label.classList.toggle("is-out", soldOut);
  card.classList.toggle("is-sold-out", soldOut);
  const button = card.querySelector("[data-add-button]");
  const quantity = card.querySelector("input[name=quantity]");
  button.disabled = soldOut;
  quantity.disabled = soldOut;
  button.textContent = soldOut ? (product.active ? "Out of stock" : "Unavailable") : "Add to cart";
  if (product.stock !== null && product.stock > 0) {
    quantity.max = String(Math.min(Number(quantity.dataset.maxQuantity || quantity.max), product.stock));
  }
}

function onMessage(event) {
  let body;
  try {
    body = JSON.parse(event.data);
  } catch {
    return;
  }
  if (body.type === "initial" || body.type === "stock") {
    body.products.forEach(apply);
  }
}

if (grid && "EventSource" in window) {
  grid.querySelectorAll("input[name=quantity]").forEach((input) => {
    input.dataset.maxQuantity = input.max;
  });
  const source = new EventSource(grid.dataset.streamUrl);
  source.addEventListener("message", onMessage);
  source.addEventListener("revoked", () => source.close());
  window.addEventListener("pagehide", () => source.close());
}
