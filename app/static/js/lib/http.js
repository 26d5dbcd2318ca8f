/* Requests to the shop's own JSON endpoints: the CSRF header on every POST (Flask-WTF reads
 * X-CSRFToken; the token is the page's <meta name="csrf-token">), the body's
 * {success: false, error} shown as the error's message, and URLs built from url_for
 * templates. Nothing here parses data as HTML. */

/** The page's CSRF token ("" when the page has none). */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

function parseBody(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** A Response → its JSON body; an HTTP error, a body that is not JSON or {success: false}
 *  → a rejected Error with .status (the HTTP status) and .data (the body, or null). The
 *  message is the body's `error` when it has one. */
export async function readResponse(resp) {
  const data = parseBody(await resp.text());
  if (!resp.ok || !data || data.success === false) {
    const message = (data && data.error) ||
      (resp.status === 401 ? "Your session has ended: please log in again." :
        "Request failed (HTTP " + resp.status + ").");
    const err = new Error(message);
    err.status = resp.status;
    err.data = data;
    throw err;
  }
  return data;
}

/** The request never got an answer: say whether the browser knows it is offline (nothing
 *  was sent; whatever the user typed is still on the page to send again). */
function networkError() {
  const offline = typeof navigator !== "undefined" && navigator.onLine === false;
  const err = new Error(offline ?
    "You are offline: nothing was sent. Try again when the connection is back." :
    "Network error: the server could not be reached.");
  err.status = 0;
  err.offline = offline;
  throw err;
}

/** POST `body` as JSON with the CSRF header; resolves with the parsed body, rejects as
 *  readResponse does (.status 0: the server could not be reached). */
export function postJSON(url, body) {
  return sendJSON("POST", url, body);
}

/** `method` (POST, PATCH, DELETE) with `body` as JSON and the CSRF header; as postJSON. */
export function sendJSON(method, url, body) {
  return fetch(url, {
    method,
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      "Accept": "application/json",
      "X-CSRFToken": csrfToken(),
    },
    body: JSON.stringify(body || {}),
  }).then(readResponse, networkError);
}

/** GET JSON, never from the HTTP cache; resolves and rejects as postJSON does. The CSRF
 *  header says the request comes from the page's own script, which lets a GET carry what
 *  the admin is looking at (the details dialog: presence, docs/design.md §5a). */
export function getJSON(url) {
  return fetch(url, {
    credentials: "same-origin",
    headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
    cache: "no-store",
  }).then(readResponse, networkError);
}

/** An order's URL from a template built by url_for(order_id=0): only the "/0/" segment (or
 *  a final "/0") is replaced, by the URL-encoded id. */
export function urlFor(template, id) {
  return template.replace(/\/0(\/|$)/, "/" + encodeURIComponent(String(id)) + "$1");
}
