"""Saved views of the orders table: ``GET/POST /admin/api/views``, ``DELETE
/admin/api/views/<id>`` (docs/admin-tools.md)."""

from flask import Blueprint, jsonify, request
from flask_login import current_user

from app.extensions import db
from app.security import admin_required
from app.services import saved_views
from app.web.args import view_from_query

bp = Blueprint("saved_views_api", __name__, url_prefix="/admin/api")


@bp.get("/views")
@admin_required
def list_views():
    """``{success, views: [{id, name, query, shared, owner, mine, count}]}``: the caller's
    own views and every shared one (shared first, then by name); ``count`` is how many
    orders each matches now (the hub pushes later counts as ``event: views``)."""
    views = [
        saved_views.view_entry(view, owner, current_user, saved_views.count(filter_))
        for view, owner in saved_views.visible_to(current_user)
        for filter_ in [saved_views.filter_of(view.query)]
    ]
    return jsonify(success=True, views=views)


@bp.post("/views")
@admin_required
def create_view():
    """Body ``{"name": str (1..60), "query": "status=Pending&tag=vip" | {"status":
    "Pending", ...}, "shared": bool}``: the table's arguments (``status``, ``q``, ``tag``,
    ``from``/``to`` or ``range``, ``sort``, ``dir``; ``page`` and ``per_page`` are not part
    of a view), checked as strictly as the API's. ``201 {success, view}`` with the
    normalised ``query``; 400 malformed body or a bad argument (naming it), 409 a name you
    already use, 422 blank or long name, more than 20 views."""
    name, query, shared = saved_views.parse_view(request.get_json(silent=True))
    view = view_from_query(query)
    saved = saved_views.create(current_user, name, view, shared)
    db.session.commit()
    entry = saved_views.view_entry(saved, current_user.username, current_user)
    entry["count"] = saved_views.count(view)
    return jsonify(success=True, view=entry), 201


@bp.delete("/views/<int:view_id>")
@admin_required
def delete_view(view_id: int):
    """Delete your own view: ``{success, id}``; 403 another admin's shared view, 404
    unknown (or another admin's private) view."""
    saved_views.delete(view_id, current_user)
    db.session.commit()
    return jsonify(success=True, id=view_id)
