/* Checkout: hide the address for pickup, check it for home delivery, and make the submit
 * button one-shot ("Placing order…") so a double click cannot send the form twice. When
 * the balance is short (data-credits-missing > 0) the button stays disabled, even after
 * the Back button restores the page. The server is still the judge: it refuses a short
 * balance with 422, and the form's idempotency key makes a repeat return the same order. */
(function () {
  "use strict";

  var form = document.getElementById("checkout-form");
  if (!form) return;
  var addressField = form.querySelector("[data-address-field]");
  var address = addressField && addressField.querySelector("textarea");
  var submit = form.querySelector("[data-submit]");
  var radios = form.querySelectorAll('input[name="delivery_method"]');
  var originalLabel = submit ? submit.textContent : "";
  var clientError = null;
  var creditsMissing = parseInt(form.getAttribute("data-credits-missing") || "0", 10) > 0;

  function method() {
    for (var i = 0; i < radios.length; i++) if (radios[i].checked) return radios[i].value;
    return "";
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
    var pickup = method() === "pickup";
    if (addressField) addressField.hidden = pickup;
    if (address) address.required = !pickup;
    if (pickup) showError("");
  }

  for (var i = 0; i < radios.length; i++) radios[i].addEventListener("change", sync);
  if (address) {
    address.addEventListener("input", function () {
      if (address.value.trim()) showError("");
    });
  }

  form.addEventListener("submit", function (ev) {
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
      setTimeout(function () {
        submit.disabled = true;
        submit.setAttribute("aria-busy", "true");
        submit.textContent = submit.getAttribute("data-busy-label") || "Placing order…";
      }, 0);
    }
  });

  // Coming back with the Back button restores the page from cache: make it usable again.
  window.addEventListener("pageshow", function (ev) {
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
})();
