"""A database that drops or refuses connections answers 503 "try again", never a 500, and a
connection killed under a finished request does not spoil its response (the real thing,
``pg_terminate_backend`` under load, is in tests/test_reliability_faults.py)."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db, release_session
from app.web import checkout
from tests.helpers import assert_json_error, db_state


def dropped(*_args, **_kwargs):
    raise sa.exc.OperationalError(
        "INSERT INTO orders ...", {}, Exception("server closed the connection unexpectedly")
    )


def body(shop) -> dict:
    return {
        "items": [{"product_id": shop.products[0].id, "quantity": 1}],
        "delivery_method": "pickup",
    }


def test_a_dropped_connection_is_503_json_and_writes_nothing(
    app, customer_client, shop, monkeypatch
):
    before = db_state(app, shop.alice.id)
    monkeypatch.setattr(checkout, "checkout", dropped)
    response = customer_client.post("/api/orders", json=body(shop))
    body_ = assert_json_error(response, 503)
    assert body_["error"] == "Database unavailable, try again"
    assert db_state(app, shop.alice.id) == before


def test_a_dropped_connection_on_a_page_is_a_503_page(customer_client, monkeypatch):
    monkeypatch.setattr("app.services.catalog.browse", dropped)
    response = customer_client.get("/")
    assert response.status_code == 503
    assert "Database unavailable" in response.get_data(as_text=True)


def test_other_database_errors_stay_500(customer_client, shop, monkeypatch):
    def integrity(*_args, **_kwargs):
        raise sa.exc.IntegrityError("INSERT ...", {}, Exception("duplicate key"))

    monkeypatch.setattr(checkout, "checkout", integrity)
    assert_json_error(customer_client.post("/api/orders", json=body(shop)), 500)


def test_a_connection_killed_before_teardown_does_not_spoil_the_response(
    customer_client, shop, monkeypatch
):
    """Closing the session rolls back; on a killed connection that ROLLBACK fails. It used
    to escape from the request teardown as a bare 500 after the order had committed."""
    real_close = so.Session.close

    def close_on_a_dead_connection(session):
        if session.info.pop("kill_on_close", False):
            raise sa.exc.OperationalError("ROLLBACK", {}, Exception("terminating connection"))
        return real_close(session)

    def checkout_then_die(*args, **kwargs):
        result = real_checkout(*args, **kwargs)
        db.session.info["kill_on_close"] = True
        return result

    real_checkout = checkout.checkout
    monkeypatch.setattr(so.Session, "close", close_on_a_dead_connection)
    monkeypatch.setattr(checkout, "checkout", checkout_then_die)
    response = customer_client.post("/api/orders", json=body(shop))
    assert response.status_code == 201, response.get_data(as_text=True)


def test_release_session_survives_a_failing_close(ctx, monkeypatch):
    real_close = so.Session.close
    failures = [1]

    def dead_once(session):
        if failures:
            failures.pop()
            raise sa.exc.OperationalError("ROLLBACK", {}, Exception("terminating connection"))
        return real_close(session)

    db.session.execute(sa.text("SELECT 1"))
    monkeypatch.setattr(so.Session, "close", dead_once)
    release_session()  # no exception: the connection is invalidated instead
    assert db.session.execute(sa.text("SELECT 1")).scalar() == 1


def test_a_refused_rule_on_a_page_is_an_html_page_not_json(customer_client, shop, monkeypatch):
    """``ServiceError`` answers JSON on API paths only: a page gets the error page."""
    from app.services import Conflict

    def refused(*_args, **_kwargs):
        raise Conflict("That order moved meanwhile")

    monkeypatch.setattr("app.services.catalog.browse", refused)
    response = customer_client.get("/")
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    assert "That order moved meanwhile" in response.get_data(as_text=True)
    monkeypatch.setattr(checkout, "checkout", refused)
    assert_json_error(customer_client.post("/api/orders", json=body(shop)), 409, "moved")
