/* Checkout: hide the address for pickup, check it for home delivery, and make the submit
 * button one-shot ("Placing order…") so a double click cannot send the form twice. When
 * the balance is short (data-credits-missing > 0) the button stays disabled, even after
 * the Back button restores the page. The server is still the judge: it refuses a short
 * balance with 422, and the form's idempotency key makes a repeat return the same order. */

function bindCheckout(form) {
  const addressField = form.querySelector("[data-address-field]");
  const address = addressField && addressField.querySelector("textarea");
  const submit = form.querySelector("[data-submit]");
  const radios = Array.from(form.querySelectorAll('input[name="delivery_method"]'));
  const originalLabel = submit ? submit.textContent : "";
  const creditsMissing = parseInt(form.getAttribute("data-credits-missing") || "0", 10) > 0;
  let clientError = null;

  function method() {
    const checked = radios.find((radio) => radio.checked);
    return checked ? checked.value : "";
  }

  function showError(message) {
    if (!addressField) return;
    if (!clientError) {
      clientError = document.createElement("p");
      clientError.className = "field-errors";
      clientError.id = "address-client-error";
      clientError.setAttribute("role", "alert");
      addressField.appendChild(clientError);
    }
    clientError.textContent = message || "";
    clientError.hidden = !message;
    addressField.classList.toggle("has-error", !!message);
    if (address) {
      address.setAttribute("aria-invalid", message ? "true" : "false");
    }
  }

  function sync() {
    const pickup = method() === "pickup";
    if (addressField) addressField.hidden = pickup;
    if (address) address.required = !pickup;
    if (pickup) showError("");
  }

  for (const radio of radios) radio.addEventListener("change", sync);
  if (address) {
    address.addEventListener("input", () => {
      if (address.value.trim()) showError("");
    });
  }

  form.addEventListener("submit", (ev) => {
    if (creditsMissing || form.dataset.submitting === "true") {
      ev.preventDefault();
      return;
    }
    if (method() !== "pickup" && address && !address.value.trim()) {
      ev.preventDefault();
      showError("Please enter a delivery address, or choose pickup.");
      address.focus();
      return;
    }
    form.dataset.submitting = "true";
    if (submit) {
      // Disable after this event so the browser still sends the form.
      setTimeout(() => {
        submit.disabled = true;
        submit.setAttribute("aria-busy", "true");
        submit.textContent = submit.getAttribute("data-busy-label") || "Placing order…";
      }, 0);
    }
  });

  // Coming back with the Back button restores the page from cache: make it usable again.
  window.addEventListener("pageshow", (ev) => {
    if (!ev.persisted) return;
    form.dataset.submitting = "false";
    if (submit) {
      submit.disabled = creditsMissing;
      submit.removeAttribute("aria-busy");
      submit.textContent = originalLabel;
    }
  });

  if (submit && creditsMissing) submit.disabled = true;
  sync();
}

const form = document.getElementById("checkout-form");
if (form) bindCheckout(form);
