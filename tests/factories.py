"""Small factories that go through the real services and commit (need an app context)."""

import itertools
from types import SimpleNamespace

from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import Order, Product, User
from app.services import accounts
from app.services.orders import parse_checkout, place_order
from tests import snapshots

PASSWORD = "password123"
_seq = itertools.count(1)


def fast_password_hash(password: str) -> str:
    """A correct hash at a test's cost: scrypt costs ~0.1 s per hash, here and in every
    server that checks it at each login; tests only need it to be right."""
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


def make_user(
    role: str = "customer",
    credits: int = 1000,
    username: str | None = None,
    password: str = PASSWORD,
    email: str | None = None,
) -> User:
    """A committed user made by ``accounts.create_user``."""
    username = username or f"user{next(_seq)}"
    user = accounts.create_user(
        username, email or f"{username}@example.com", password, role=role, credits=credits
    )
    db.session.commit()
    return user


def make_product(
    name: str | None = None,
    category: str = "Bakery",
    credit_value: int = 10,
    description: str = "",
    active: bool = True,
) -> Product:
    """A committed catalogue product."""
    product = Product(
        name=name or f"Product {next(_seq)}",
        category=category,
        credit_value=credit_value,
        description=description,
        active=active,
    )
    db.session.add(product)
    db.session.commit()
    return product


def make_order(
    user: User,
    items=None,
    delivery_method: str = "pickup",
    delivery_address: str | None = None,
    idempotency_key: str | None = None,
    now=None,
) -> Order:
    """A committed order through ``parse_checkout`` + ``place_order``.

    ``items`` is a list of ``(product, quantity)`` pairs; by default one new 10-credit product.
    """
    items = items if items is not None else [(make_product(), 1)]
    request = parse_checkout(
        [{"product_id": p.id, "quantity": q} for p, q in items],
        delivery_method,
        delivery_address,
    )
    order = place_order(user, request, idempotency_key, now=now)
    db.session.commit()
    return order


def seed_shop(app) -> SimpleNamespace:
    """An admin, two customers (1000 credits each) and four products in three categories.

    Returns plain values (ids, names), safe to use outside the app context. Written back
    from a snapshot when the database is as ``make_app`` left it (tests/snapshots.py).
    """
    return snapshots.restore_or_build(app, "shop", _seed_shop)


def _seed_shop(app) -> SimpleNamespace:
    with app.app_context():
        admin = make_user("admin", credits=0, username="boss")
        alice = make_user(username="alice", credits=1000)
        bob = make_user(username="bob", credits=1000)
        products = [
            make_product("Sourdough loaf", "Bakery", 6, "Slow rise, crusty"),
            make_product("Rye bread", "Bakery", 5, "Dense and dark"),
            make_product("Sencha green tea", "Tea", 9, "Loose leaf from Shizuoka"),
            make_product("Wildflower honey", "Pantry", 11, "Raw, unfiltered"),
        ]
        shop = SimpleNamespace(
            password=PASSWORD,
            admin=SimpleNamespace(id=admin.id, username=admin.username),
            alice=SimpleNamespace(id=alice.id, username=alice.username),
            bob=SimpleNamespace(id=bob.id, username=bob.username),
            products=[
                SimpleNamespace(id=p.id, name=p.name, category=p.category, price=p.credit_value)
                for p in products
            ],
        )
        db.session.remove()
    return shop
