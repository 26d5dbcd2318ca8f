"""Hostile input for the admin tools' routes (bulk, export, date ranges), with the
strategies and properties of tests/test_properties.py: never a 5xx, API answers are JSON
objects, and a refused request writes nothing."""

from hypothesis import given
from hypothesis import strategies as st

from tests.security_helpers import snapshot
from tests.test_properties import (
    JSON_VALUES,
    NUMBERS,
    QUERY_VALUES,
    SCALARS,
    SETTINGS,
    check,
    json_requests,
    order_ids,  # noqa: F401  (fixture)
)

BULK_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "ids": st.one_of(
            SCALARS,
            st.lists(st.one_of(st.integers(0, 4), NUMBERS, SCALARS), max_size=5),
            st.lists(st.integers(1, 10**6), min_size=499, max_size=503, unique=True),
        ),
        "action": st.one_of(st.sampled_from(["advance", "cancel"]), SCALARS),
        "reason": st.one_of(st.just("Out of stock"), SCALARS, JSON_VALUES),
        # The status each order showed: right, stale, unknown or malformed.
        "from": st.one_of(
            SCALARS,
            JSON_VALUES,
            st.dictionaries(
                st.sampled_from(["1", "2", "3", "4", "01", "x", ""]),
                st.one_of(
                    st.sampled_from(["Pending", "Shipped", "Delivered", "Cancelled", "x"]),
                    SCALARS,
                ),
                max_size=4,
            ),
        ),
    },
)


@SETTINGS
@given(request=json_requests(BULK_BODIES))
def test_bulk_never_fails_or_half_writes(app, admin_client, order_ids, request):  # noqa: F811
    before = snapshot(app)
    response = admin_client.post("/admin/api/orders/bulk", **request)
    check(app, response, before, api=True)


VIEW_ARGS = st.dictionaries(
    st.sampled_from(["status", "q", "from", "to", "range", "sort", "dir", "per_page", "page"]),
    st.one_of(
        QUERY_VALUES,
        st.dates().map(str),
        st.sampled_from(["today", "7d", "total", "status", "asc", "25", "100", "Cancelled"]),
    ),
    max_size=5,
)


@SETTINGS
@given(query=VIEW_ARGS, path=st.sampled_from(["/admin/manage_orders", "/admin/api/orders/ids"]))
def test_the_view_arguments_never_fail(app, admin_client, order_ids, query, path):  # noqa: F811
    before = snapshot(app)
    response = admin_client.get(path, query_string=query)
    check(app, response, before, api=path.startswith("/admin/api/"), refused=True)
    if path == "/admin/manage_orders" and not any("\x00" in v for v in query.values()):
        assert response.status_code == 200  # a page falls back to defaults (NUL is a 400)


@SETTINGS
@given(query=VIEW_ARGS)
def test_the_export_never_fails(app, admin_client, order_ids, query):  # noqa: F811
    response = admin_client.get("/admin/orders.csv", query_string=query)
    body = response.get_data(as_text=True)
    assert response.status_code in (200, 400), body[:300]
    if response.status_code == 200:
        assert body.startswith('"order_number","ordered_at",')
    else:
        assert response.get_json()["success"] is False
