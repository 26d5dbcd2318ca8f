"""Admin JSON API for many orders at once: "select all N matching" resolves the table's
view to ids, and one bulk request advances, cancels or tags them (docs/design.md §4, §5a)."""

from flask import Blueprint, jsonify, request
from flask_login import current_user

from app.extensions import db
from app.security import admin_required
from app.services import bulk
from app.services.pinned_ids import ids_as_of
from app.web.args import MAX_VERSION, int_arg, order_filter_args

bp = Blueprint("bulk_api", __name__, url_prefix="/admin/api")


@bp.post("/orders/bulk")
@admin_required
def orders_bulk():
    """Advance, cancel or tag many orders as the page showed them: body ``{"ids": [int,
    ...] (1..500, distinct), "action": "advance" | "cancel" | "tag", "from": {"<id>":
    "<status shown>", ...} (every id, and only those; required for advance and cancel;
    a status or "Cancelled"), "reason": str (cancel only, 1..300 chars), "add": [str],
    "remove": [str] (tag only, as for one order's tags)}`` (docs/design.md §4, §5a).

    One transaction: the orders are locked and read, each one that is no longer as
    ``from`` says, is missing or cannot take the action is refused on its own and left
    untouched, and the rest move with the single-order rules (activity entry, refund,
    stock, live events; one version each). Answers ``200 {success: true, action,
    succeeded: int, failed: int, results: [{id, ok: true, order: summary} | {id, ok:
    false, status: 404|409|422, error, changed?, order?}]}``: one result per id, in the
    order sent; a 409 for an order that moved meanwhile names who moved it and when in
    ``error`` ("ORD-… changed meanwhile: maria moved it to Shipped 3 s ago.") and carries
    that activity entry (``changed``) and the order as it is now (``order``). The whole
    request is refused, with nothing written, for a malformed body (400: not an object,
    ids not a list of ints, ``from`` not an object of id → string) or a rule broken (422:
    unknown action, no ids, more than 500, duplicates, ``from`` missing or not matching
    the ids or naming an unknown status, missing reason, bad tags). A tag action on an
    order that already has exactly those tags succeeds without a change.
    """
    request_ = bulk.parse_bulk(request.get_json(silent=True))
    results = bulk.run_bulk(request_, current_user)
    db.session.commit()
    succeeded = sum(1 for r in results if r["ok"])
    return jsonify(
        success=True,
        action=request_.action,
        succeeded=succeeded,
        failed=len(results) - succeeded,
        results=results,
    )


@bp.get("/orders/ids")
@admin_required
def order_ids():
    """Resolve the orders table's view to ids, for "select all N matching".

    Query arguments as ``/admin/manage_orders`` (``status``, ``q``, ``from``/``to`` or
    ``range``, ``sort``/``dir``), checked strictly (400 for a bad value), and ``version``
    (optional): the page's version when it counted N, so that the answer is the view as it
    was then, without the orders placed since (``app/services/pinned_ids.py``). Answers
    ``200 {success, ids: [int] (at most 500, in the view's order), total: int (all
    matching), limit: 500, truncated: bool, seen: {"<id>": status shown}}`` (``seen``: the
    bulk request's ``from`` for those ids); 409 when the page is too far behind to be
    answered as of its version. Post the ids to ``/admin/api/orders/bulk``.
    """
    view = order_filter_args(strict=True)
    # Without a version: as of now (a version past the database's reads as now).
    version = int_arg("version", 0, MAX_VERSION, MAX_VERSION, strict=True)
    ids, total, seen = ids_as_of(view, version, bulk.MAX_IDS)
    return jsonify(
        success=True,
        ids=ids,
        total=total,
        limit=bulk.MAX_IDS,
        truncated=total > len(ids),
        seen={str(i): status for i, status in seen.items()},
    )
