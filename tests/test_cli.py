"""The flask commands: seed-demo, reconcile-counts, simulate-orders, create-admin."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ORDER_STATUSES, Order, Product, User
from tests.factories import make_order, make_product, make_user
from tests.helpers import counts_consistent, db_state


def scalar(app, query):
    with app.app_context():
        value = db.session.scalar(query)
        db.session.remove()
        return value


def count(app, model, *where):
    return scalar(app, sa.select(sa.func.count()).select_from(model).where(*where))


def test_seed_demo_builds_a_shop_once(app, runner):
    # 60 orders over 4 days reach every status (the demo itself: 600 over 30 days).
    result = runner.invoke(args=["seed-demo", "--orders", "60", "--days", "4"])
    assert result.exit_code == 0, result.output
    assert "60 orders" in result.output
    assert count(app, Product) >= 30
    assert scalar(app, sa.select(sa.func.count(sa.distinct(Product.category)))) >= 5
    assert count(app, User, User.role == "admin") == 1
    assert count(app, User, User.role == "customer") >= 20
    assert count(app, Order) == 60
    for status in ORDER_STATUSES:
        assert count(app, Order, Order.status == status, Order.cancelled.is_(False)) > 0, status
    assert counts_consistent(app)
    assert db_state(app)["stats"]["total_orders"] == 60

    again = runner.invoke(args=["seed-demo", "--orders", "40"])
    assert again.exit_code == 0
    assert "nothing to do" in again.output
    assert count(app, Order) == 60


def test_seeded_admin_can_log_in(app, runner, client):
    runner.invoke(args=["seed-demo", "--orders", "5"])
    response = client.post("/auth/login", data={"username": "admin", "password": "admin12345"})
    assert response.headers["Location"] == "/admin/manage_orders"


def place_some_orders(app, n=3):
    with app.app_context():
        user, product = make_user(credits=1000), make_product()
        for _ in range(n):
            make_order(user, [(product, 1)])
        db.session.remove()


def test_reconcile_counts_without_drift(app, runner):
    place_some_orders(app)
    result = runner.invoke(args=["reconcile-counts"])
    assert result.exit_code == 0
    assert "no drift" in result.output


def test_reconcile_counts_reports_and_fixes_drift(app, runner):
    place_some_orders(app)
    with app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO order_counts (name, shard, count) VALUES ('Shipped', 15, 5) "
                "ON CONFLICT (name, shard) DO UPDATE SET count = order_counts.count + 5"
            )
        )
        db.session.commit()
    assert not counts_consistent(app)
    result = runner.invoke(args=["reconcile-counts"])
    assert result.exit_code == 0
    assert "drift Shipped: stored 5, actual 0 (fixed)" in result.output
    assert counts_consistent(app)
    assert "no drift" in runner.invoke(args=["reconcile-counts"]).output


def small_shop(app, products: int):
    with app.app_context():
        for _ in range(3):
            make_user(credits=2000)
        for price in range(3, 3 + products):
            make_product(credit_value=price)
        db.session.remove()


def simulate(runner):
    return runner.invoke(
        args=["simulate-orders", "--rate", "50", "--duration", "0.3", "--seed", "1"]
    )


def test_simulate_orders_moves_the_shop_and_keeps_counts_right(app, runner):
    small_shop(app, products=5)
    version = db_state(app)["stats"]["version"]
    result = simulate(runner)
    assert result.exit_code == 0, result.output
    assert "Simulated" in result.output
    assert count(app, Order) > 0
    assert db_state(app)["stats"]["version"] > version
    assert counts_consistent(app)


def test_simulate_orders_works_with_a_tiny_catalogue(app, runner):
    small_shop(app, products=2)
    result = simulate(runner)
    assert result.exit_code == 0, result.output
    assert counts_consistent(app)


def test_simulate_orders_rejects_bad_rate(runner):
    result = runner.invoke(args=["simulate-orders", "--rate", "0", "--duration", "0"])
    assert result.exit_code != 0
    assert "rate" in result.output


def test_create_admin(app, runner):
    result = runner.invoke(args=["create-admin", "chief", "--password", "longpassword1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "chief"))
        assert (user.role, user.email) == ("admin", "chief@example.com")
        assert user.check_password("longpassword1")


def test_create_admin_refuses_short_password_and_duplicates(app, runner):
    short = runner.invoke(args=["create-admin", "chief", "--password", "short"])
    assert short.exit_code == 1 and "8 characters" in short.output
    runner.invoke(args=["create-admin", "chief", "--password", "longpassword1"])
    duplicate = runner.invoke(args=["create-admin", "chief", "--password", "longpassword2"])
    assert duplicate.exit_code == 1 and "already registered" in duplicate.output
    assert count(app, User) == 1


@pytest.mark.one_database
def test_a_web_workers_app_has_no_cli_commands(make_app):
    # wsgi.py builds the app with commands only under the flask CLI: a gunicorn worker
    # registers none (nor imports Alembic for ``flask db``).
    with_commands = make_app().cli.commands
    assert {"db", "create-admin", "seed-demo", "simulate-orders"} <= set(with_commands)
    web = make_app(commands=False)
    assert not {"db", "create-admin", "seed-demo"} & set(web.cli.commands)
    assert "migrate" not in web.extensions
