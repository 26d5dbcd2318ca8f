/* What an admin adds to an order in its details dialog: tags, internal notes (a timeline:
 * yours can be edited or deleted for a while), shipping with a tracking number, a partial
 * refund and its packing slip. The section is built once per opened order and kept while
 * pushed changes redraw the rest of the dialog, so what an admin is typing is never lost;
 * pushed data moves it too (another admin's note, a tag, a refund) with no request.
 * Requests: on_change_tags, on_add_note, on_edit_note, on_delete_note,
 * on_ship_with_tracking, on_refund (requests.json). */
import { clear, el, setBusy } from "../lib/dom.js";
import { postJSON, sendJSON, urlFor } from "../lib/http.js";
import { timeElement } from "../lib/shop-time.js";
import { formatCount } from "../lib/text.js";
import { toast } from "../lib/toasts.js";

const NOTE_KINDS = ["note", "note_edited", "note_deleted"];

function button(text, className, attr) {
  const b = el("button", className || "btn btn-ghost btn-sm", text);
  b.type = "button";
  if (attr) b.setAttribute(attr, "");
  return b;
}

function section(title) {
  const wrap = el("section", "details-tool");
  wrap.appendChild(el("h3", "details-subtitle", title));
  return wrap;
}

function input(attrs) {
  const node = el(attrs.tag || "input", "input");
  for (const [key, value] of Object.entries(attrs)) if (key !== "tag") node.setAttribute(key, value);
  return node;
}

/** hooks: {applyDetails(orderDetails), applySummary(summary)}: an answer redraws the row
 *  and the dialog at once (every other page follows from the stream). */
export function createDetailsTools(cfg, hooks) {
  const carriers = JSON.parse(document.getElementById("dashboard").dataset.carriers || "[]");
  let order = null;
  let notes = new Map(); // note id → {id, author, text, created_at, edited}
  let root = null;
  let parts = null;

  function fail(err, title) {
    toast(err.message, { type: "error", title });
  }

  function act(trigger, request, done, title) {
    setBusy(trigger, true);
    return request().then(done).catch((err) => fail(err, title))
      .finally(() => setBusy(trigger, false));
  }

  // -- tags ---------------------------------------------------------------------------------
  function drawTags() {
    clear(parts.tags);
    for (const t of order.tags || []) {
      const chip = el("span", "tag", t + " ");
      const x = button("×", "chip-remove", "data-remove-tag");
      x.setAttribute("aria-label", "Remove the tag " + t);
      x.onclick = () => changeTags({ remove: [t] }, x);
      chip.appendChild(x);
      parts.tags.appendChild(chip);
    }
    if (!(order.tags || []).length) parts.tags.appendChild(el("span", "muted small", "No tags."));
  }

  function changeTags(body, trigger) {
    act(trigger, () => postJSON(urlFor(cfg.tagsTpl, order.id), body), (data) => {
      hooks.applySummary(data.order);
      if (body.add) parts.tagInput.value = "";
    }, "Could not change the tags");
  }

  // -- notes --------------------------------------------------------------------------------
  function editable(note) {
    return note.author === cfg.username &&
      Date.now() < Date.parse(note.created_at) + cfg.noteEditMs;
  }

  function noteItem(note) {
    const li = el("li", "note-item");
    li.setAttribute("data-note-id", note.id);
    const head = el("div", "note-head small muted");
    head.appendChild(el("strong", null, note.author || "System"));
    head.appendChild(document.createTextNode(" · "));
    head.appendChild(timeElement(note.created_at));
    if (note.edited) head.appendChild(document.createTextNode(" · edited"));
    li.appendChild(head);
    const text = el("p", "note-text pre-line", note.text);
    li.appendChild(text);
    if (editable(note)) {
      const edit = button("Edit", "btn btn-ghost btn-sm", "data-edit-note");
      const del = button("Delete", "btn btn-danger-ghost btn-sm", "data-delete-note");
      edit.onclick = () => startEdit(li, note);
      del.onclick = () => act(del, () => sendJSON("DELETE", noteUrl(note.id)), () => {
        notes.delete(note.id);
        drawNotes();
      }, "Could not delete the note");
      const row = el("div", "note-actions");
      row.append(edit, del);
      li.appendChild(row);
    }
    return li;
  }

  const noteUrl = (id) => urlFor(cfg.notesTpl, order.id) + "/" + encodeURIComponent(id);

  function startEdit(li, note) {
    clear(li);
    const area = input({ tag: "textarea", rows: "3", maxlength: "1000", "aria-label": "Note" });
    area.value = note.text;
    const save = button("Save", "btn btn-primary btn-sm");
    const cancel = button("Cancel");
    save.onclick = () => act(save, () => sendJSON("PATCH", noteUrl(note.id), { text: area.value }),
      (data) => { notes.set(data.note.id, data.note); drawNotes(); }, "Could not save the note");
    cancel.onclick = drawNotes;
    li.append(area, save, cancel);
    area.focus();
  }

  function drawNotes() {
    const editing = parts.notes.querySelector("textarea");
    if (editing && parts.notes.contains(document.activeElement)) return; // redraw later
    clear(parts.notes);
    const list = Array.from(notes.values()).sort((a, b) => a.id - b.id);
    for (const note of list) parts.notes.appendChild(noteItem(note));
    parts.noNotes.hidden = list.length > 0;
  }

  function addNote(ev) {
    ev.preventDefault();
    const text = parts.noteInput.value;
    act(parts.noteButton, () => postJSON(urlFor(cfg.notesTpl, order.id), { text }), (data) => {
      notes.set(data.note.id, data.note);
      parts.noteInput.value = "";
      drawNotes();
    }, "Could not add the note");
  }

  /** Pushed note entries of this order (another admin's, or ours echoed): the timeline. */
  function applyEntries(entries) {
    if (!order) return;
    let moved = false;
    for (const a of entries || []) {
      if (String(a.order_id) !== String(order.id) || !NOTE_KINDS.includes(a.kind)) continue;
      const known = notes.get(a.ref_id);
      if (a.kind === "note_deleted") {
        moved = notes.delete(a.ref_id) || moved;
      } else if (a.kind === "note" && !known) {
        notes.set(a.ref_id, { id: a.ref_id, author: a.actor, text: a.note, created_at: a.at });
        moved = true;
      } else if (a.kind === "note_edited" && known && known.text !== a.note) {
        notes.set(a.ref_id, Object.assign({}, known, { text: a.note, edited: true }));
        moved = true;
      }
    }
    if (moved) drawNotes();
  }

  // -- shipping and refunds -----------------------------------------------------------------
  function ship(ev) {
    ev.preventDefault();
    const body = { status: "Shipped", from: order.status, carrier: parts.carrier.value,
      tracking_number: parts.tracking.value };
    act(parts.shipButton, () => postJSON(urlFor(cfg.statusTpl, order.id), body), (data) => {
      hooks.applyDetails(data.order);
      toast(order.order_number + " shipped with " + body.carrier + ".", { type: "success" });
    }, "Could not ship");
  }

  function refund(ev) {
    ev.preventDefault();
    const body = { credits: Number(parts.credits.value), reason: parts.reason.value };
    act(parts.refundButton, () => postJSON(urlFor(cfg.refundTpl, order.id), body), (data) => {
      hooks.applyDetails(data.order);
      parts.credits.value = "";
      parts.reason.value = "";
      toast("Refunded " + body.credits + " credits of " + data.order.order_number + ".",
        { type: "success" });
    }, "Could not refund");
  }

  function form(onSubmit, ...children) {
    const f = el("form", "details-form");
    f.noValidate = true;
    f.append(...children);
    f.addEventListener("submit", onSubmit);
    return f;
  }

  function build() {
    root = el("div", "details-tools");
    parts = {};
    const tags = section("Tags");
    parts.tags = el("div", "tag-list");
    parts.tagInput = input({ maxlength: "32", placeholder: "Add a tag", "aria-label": "New tag" });
    const addTag = button("Add tag", "btn btn-ghost btn-sm");
    tags.append(parts.tags, form((ev) => {
      ev.preventDefault();
      changeTags({ add: [parts.tagInput.value] }, addTag);
    }, parts.tagInput, addTag));
    addTag.type = "submit";

    const noteSection = section("Internal notes");
    noteSection.appendChild(el("p", "muted small", "Admins only: never shown to the customer."));
    parts.notes = el("ol", "notes-list");
    parts.notes.setAttribute("data-notes", "");
    parts.noNotes = el("p", "muted small", "No notes yet.");
    parts.noteInput = input({ tag: "textarea", rows: "2", maxlength: "1000",
      placeholder: "Add a note for the team", "aria-label": "New note" });
    parts.noteButton = button("Add note", "btn btn-primary btn-sm");
    parts.noteButton.type = "submit";
    noteSection.append(parts.notes, parts.noNotes, form(addNote, parts.noteInput, parts.noteButton));

    parts.shipping = section("Ship with a tracking number");
    parts.carrier = el("select", "input input-select");
    parts.carrier.setAttribute("aria-label", "Carrier");
    for (const c of carriers) parts.carrier.appendChild(new Option(c, c));
    parts.tracking = input({ maxlength: "60", placeholder: "Tracking number",
      "aria-label": "Tracking number", autocomplete: "off" });
    parts.shipButton = button("Ship", "btn btn-primary btn-sm");
    parts.shipButton.type = "submit";
    parts.shipping.appendChild(form(ship, parts.carrier, parts.tracking, parts.shipButton));

    parts.refund = section("Partial refund");
    parts.refundable = el("p", "muted small");
    parts.credits = input({ type: "number", min: "1", step: "1", placeholder: "Credits",
      "aria-label": "Credits to refund" });
    parts.reason = input({ maxlength: "300", placeholder: "Reason", "aria-label": "Refund reason" });
    parts.refundButton = button("Refund", "btn btn-ghost btn-sm");
    parts.refundButton.type = "submit";
    parts.refund.append(parts.refundable,
      form(refund, parts.credits, parts.reason, parts.refundButton));

    parts.slip = el("a", "btn btn-ghost btn-sm", "Packing slip");
    parts.slip.target = "_blank";
    parts.slip.rel = "noopener";
    root.append(tags, noteSection, parts.shipping, parts.refund, parts.slip);
  }

  /** Start over for a newly opened order: its details and notes (the details answer). */
  function show(o, list) {
    build();
    notes = new Map((list || []).map((n) => [n.id, n]));
    update(o);
    drawNotes();
    return root;
  }

  /** The order moved (an answer or a pushed summary): redraw what depends on it. */
  function update(o) {
    order = Object.assign({}, order && String(order.id) === String(o.id) ? order : {}, o);
    drawTags();
    parts.shipping.hidden = order.cancelled || order.status !== "Pending";
    const left = (order.total_credits || 0) - (order.refunded_credits || 0);
    parts.refund.hidden = order.cancelled || left <= 0;
    parts.credits.max = String(left);
    parts.refundable.textContent = formatCount(left) + " of " +
      formatCount(order.total_credits) + " credits can still be refunded.";
    parts.slip.href = urlFor(cfg.packingSlipTpl, order.id);
  }

  return { show, update, applyEntries, node: () => root };
}
