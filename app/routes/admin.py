"""The live dashboard page and the CSV export of its current view."""

from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from app.realtime.presence_board import session_key
from app.security import admin_required
from app.services import dashboard, export, saved_views, shop_time
from app.services.tracking import CARRIERS
from app.web.args import (
    PER_PAGE_CHOICES,
    STATUS_FILTERS,
    choice_arg,
    cursor_arg,
    order_filter_args,
    page_arg,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

FILTERS = STATUS_FILTERS


@bp.get("/")
@admin_required
def index():
    """``/admin/`` → the dashboard (302)."""
    return redirect(url_for("admin.manage_orders"))


@bp.get("/manage_orders")
@admin_required
def manage_orders():
    """Stat cards, the orders table, the chart and the activity list.

    The table's view is all in the query string (bookmarkable): ``status``, ``q``,
    ``from``/``to`` or ``range``, ``sort``/``dir`` (see ``app.web.args
    .order_filter_args``), ``per_page`` (25, 50, 100) and ``page`` (past the end: the last
    page). Bad values fall back to the defaults (never an error page). The data shown (and
    its version) also goes in ``data-bootstrap``: the live client follows the stream from
    that version, with no request of its own on load. ``data-presence-session`` is the
    page's own session as ``event: presence`` frames name it.
    """
    view, page, per_page, cursor = view_args()
    data = dashboard.view(view, page, per_page, cursor)
    links = ViewLinks(view, per_page)
    bootstrap = {k: data[k] for k in ("version", "stats", "activity", "revenue", "timestamp")}
    return render_template(
        "admin/manage_orders.html",
        stats=data["stats"],
        orders=data["page"],
        rows=data["rows"],
        bootstrap=bootstrap,
        view=view,
        status=view.status,
        q=view.q,
        per_page=per_page,
        per_page_choices=PER_PAGE_CHOICES,
        filters=FILTERS,
        today=shop_time.today(),
        zone=shop_time.zone().key,
        link=links.url,
        link_args=links.args,
        # Presence names sessions by this key; the page leaves its own out.
        presence_session=session_key(current_user.id, current_user.session_id),
        saved_views=_saved_views(),
        carriers=list(CARRIERS),
        view_query=urlencode(view.params()),
        insights_state=insights_state(),
    )


INSIGHTS_COOKIE = "orderpulse_insights"


def insights_state() -> str:
    """The chart and activity panel as the admin left it (``open``/``closed``, a cookie
    the page's script sets), else ``auto``: folded where it would push the orders below the
    first screen (``static/css/dashboard-fold.css``)."""
    state = request.cookies.get(INSIGHTS_COOKIE)
    return state if state in ("open", "closed") else "auto"


def _saved_views() -> list[dict]:
    """The admin's own and the shared saved views, with their counts now (the hub keeps
    them live: ``event: views``)."""
    return [
        saved_views.view_entry(
            v, owner, current_user, saved_views.count(saved_views.filter_of(v.query))
        )
        for v, owner in saved_views.visible_to(current_user)
    ]


def view_args():
    """``(OrderFilter, page, per_page, cursor)`` of the orders table from the query string,
    leniently (a bad value falls back to the default), as the page and its reload API read
    them; ``cursor``: ``after=``/``before=`` (keyset paging, ``app/services/keyset.py``)
    or ``None``."""
    view = order_filter_args()
    per_page = choice_arg("per_page", PER_PAGE_CHOICES, PER_PAGE_CHOICES[0])
    return view, page_arg(), per_page, cursor_arg(view)


@bp.get("/orders.csv")
@admin_required
def export_orders():
    """The current view of the orders table as CSV (``text/csv``, an attachment named
    ``orders-<date>[-<from>_<to>].csv``), streamed row by row; columns in
    ``app.services.export.COLUMNS``. Query arguments as the dashboard's (``status``, ``q``,
    ``from``/``to`` or ``range``, ``sort``/``dir``), checked strictly: a bad value is a 400.
    401 JSON logged out, 403 for customers (the path answers errors in JSON).
    """
    view = order_filter_args(strict=True)
    # stream_with_context: unlike the SSE streams, this generator reads the database (through
    # the request's session) until its last row, so it needs the request's context.
    body = stream_with_context(export.csv_chunks(view))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename(view)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


class ViewLinks:
    """Links that change one thing of the table's view and keep every other argument (a
    new filter, range, sort or page size starts again at page 1)."""

    def __init__(self, view, per_page: int):
        self.base = view.params()
        if per_page != PER_PAGE_CHOICES[0]:
            self.base["per_page"] = per_page

    def args(self, **changes) -> dict:
        """The current arguments with ``changes`` applied (``None`` removes one); a
        ``range`` replaces ``from``/``to``."""
        args = dict(self.base)
        if "range" in changes:
            args.pop("from", None)
            args.pop("to", None)
        args.update(changes)
        return {k: v for k, v in args.items() if v is not None}

    def url(self, **changes) -> str:
        """``/admin/manage_orders?...`` for ``args(**changes)``."""
        return url_for("admin.manage_orders", **self.args(**changes))
