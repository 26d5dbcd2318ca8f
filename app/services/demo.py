"""Demo data and the order simulator, both through the real services."""

import random
import secrets
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import ORDER_STATUSES, Order, OrderActivity, Product, User
from app.models.timestamps import utcnow
from app.services import ServiceError, accounts
from app.services.counts import ensure_rows, reconcile
from app.services.orders import CheckoutRequest, place_order
from app.services.status import cancel_order, change_status

CATALOGUE = {
    "Coffee & Tea": [
        ("Ethiopian Yirgacheffe beans", 18),
        ("Colombian house blend", 14),
        ("Sencha green tea", 9),
        ("Earl Grey loose leaf", 8),
        ("Cold brew kit", 25),
        ("Chai spice mix", 7),
    ],
    "Bakery": [
        ("Sourdough loaf", 6),
        ("Butter croissants (4)", 8),
        ("Rye bread", 5),
        ("Cinnamon rolls (6)", 10),
        ("Bagels (6)", 7),
        ("Focaccia", 6),
    ],
    "Pantry": [
        ("Extra virgin olive oil", 15),
        ("Basmati rice 2 kg", 9),
        ("Dark chocolate 85%", 4),
        ("Wildflower honey", 11),
        ("Penne rigate", 3),
        ("Sea salt flakes", 5),
    ],
    "Fresh": [
        ("Seasonal fruit box", 22),
        ("Organic eggs (12)", 6),
        ("Avocados (4)", 7),
        ("Heirloom tomatoes", 6),
        ("Baby spinach", 4),
        ("Free-range chicken", 16),
    ],
    "Household": [
        ("Beeswax wraps", 12),
        ("Bamboo dish brush", 5),
        ("Laundry powder", 13),
        ("Soy candle", 14),
        ("Linen tea towels (2)", 11),
        ("Glass storage jars (3)", 17),
    ],
    "Gifts": [
        ("Breakfast hamper", 45),
        ("Tea lover's box", 35),
        ("Chocolate tasting set", 28),
        ("Gift card 50", 50),
    ],
}
CUSTOMERS = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "yara",
]
ADDRESSES = [
    "12 Harbour Street, Leith",
    "4 Mill Lane, Bristol",
    "77 Rue des Lilas, Lyon",
    "9 Canal Walk, Utrecht",
    "221B Baker Street, London",
    "3 Orchard Row, Galway",
]
ADMIN_LOGIN = ("admin", "admin12345")
CUSTOMER_PASSWORD = "customer123"


def _stock(products: list[Product], rng: random.Random) -> None:
    """Stock on hand after the history: the first product of each category and the gift
    cards not tracked (they never run out), a few low or sold out (so the storefront shows
    "Only N left" and "Out of stock"), the rest plenty."""
    seen: set[str] = set()
    for i, product in enumerate(products):
        first = product.category not in seen
        seen.add(product.category)
        if first or product.name.startswith("Gift card"):
            continue
        if i % 11 == 5:
            product.stock = 0
        elif i % 7 == 3:
            product.stock = rng.randint(1, 4)
        else:
            product.stock = rng.randint(20, 200)


def random_passwords() -> dict[str, str]:
    """A random password per demo account (production, where the fixed demo passwords
    would be an open door): ``{username: password}``."""
    return {name: secrets.token_urlsafe(12) for name in (ADMIN_LOGIN[0], *CUSTOMERS)}


def seed_demo(
    orders: int = 600,
    days: int = 30,
    rng: random.Random | None = None,
    passwords: dict[str, str] | None = None,
) -> dict:
    """Catalogue (34 products, 6 categories), one admin, 20 customers and ``orders`` past
    orders spread over ``days`` days in every status. Returns counts of what was made.
    ``passwords`` (``random_passwords``) replaces the fixed demo passwords. Raises
    ``ServiceError`` (409) when demo users already exist."""
    rng = rng or random.Random(42)
    passwords = passwords or {}
    ensure_rows()
    products = [
        Product(
            name=name,
            category=category,
            credit_value=price,
            description=f"{name}, from our {category.lower()} shelf.",
        )
        for category, items in CATALOGUE.items()
        for name, price in items
    ]
    db.session.add_all(products)
    admin, admin_password = ADMIN_LOGIN
    accounts.create_user(
        admin, "admin@example.com", passwords.get(admin, admin_password), role="admin"
    )
    customers = [
        accounts.create_user(
            name,
            f"{name}@example.com",
            passwords.get(name, CUSTOMER_PASSWORD),
            credits=100_000,
        )
        for name in CUSTOMERS
    ]
    db.session.flush()
    now = utcnow()
    for i in range(orders):
        placed = now - timedelta(days=days) + timedelta(seconds=days * 86400 * i / orders)
        order = _random_order(rng, rng.choice(customers), products, placed)
        _age(order, rng, placed, now)
    for user in customers:  # leave a realistic balance after the history
        user.credits = rng.randint(200, 2000)
    _stock(products, rng)
    _backdate_activity()
    reconcile()
    return {"products": len(products), "customers": len(customers), "orders": orders}


def _random_order(rng, user, products, when) -> Order:
    count = rng.randint(1, min(4, len(products)))
    lines = {p.id: rng.randint(1, 3) for p in rng.sample(products, count)}
    method = rng.choice(("home delivery", "home delivery", "pickup"))
    address = rng.choice(ADDRESSES) if method == "home delivery" else None
    return place_order(user, CheckoutRequest(lines, method, address), now=when)


def _age(order: Order, rng, placed, now) -> None:
    """Move a past order forward as far as its age suggests, with past timestamps, so the
    demo's "last 30 seconds" feed starts empty."""
    age_days = (now - placed).total_seconds() / 86400
    steps = min(3, int(age_days) + rng.choice((0, 0, 1, -1)))
    for status in ORDER_STATUSES[1 : 1 + max(0, steps)]:
        change_status(order, status)
    if order.status != "Delivered" and rng.random() < 0.06:
        cancel_order(order, rng.choice(("Customer asked", "Out of stock", "Address unreachable")))
    moved = placed + timedelta(hours=min(age_days * 24, 20 * max(1, steps)))
    order.updated_at = min(moved, now - timedelta(minutes=5))
    if order.status == "Delivered":
        order.actual_delivery_date = order.updated_at


def _backdate_activity() -> None:
    """The history was written "now"; date its activity like its orders, so the live feed
    starts with the day's real events rather than 600 seed entries."""
    placed = sa.select(Order.date_ordered).where(Order.id == OrderActivity.order_id)
    moved = sa.select(Order.updated_at).where(Order.id == OrderActivity.order_id)
    db.session.execute(
        sa.update(OrderActivity)
        .values(
            at=sa.case(
                (OrderActivity.kind == "created", placed.scalar_subquery()),
                else_=moved.scalar_subquery(),
            )
        )
        .execution_options(synchronize_session=False)
    )


def simulate_step(rng: random.Random) -> str:
    """One simulated event through the services: a new order (60%), a status move (35%) or
    a cancellation (5%). Returns a one-line description; the caller commits."""
    roll = rng.random()
    if roll < 0.6:
        user = rng.choice(db.session.scalars(sa.select(User).where(User.role == "customer")).all())
        products = db.session.scalars(sa.select(Product).where(Product.active)).all()
        if not products:
            return "nothing to order: the catalogue is empty"
        if user.credits < 500:
            user.credits += 1000  # the simulator tops up so it can go on
            db.session.flush()
        order = _random_order(rng, user, products, None)
        return f"placed {order.order_number} for {user.username} ({order.total_credits} cr)"
    candidates = db.session.scalars(
        sa.select(Order)
        .where(Order.cancelled.is_(False), Order.status != "Delivered")
        .order_by(sa.func.random())
        .limit(1)
    ).all()
    if not candidates:
        return "nothing to move"
    order = candidates[0]
    try:
        if roll < 0.95:
            change_status(order, order.next_status)
            return f"{order.order_number} → {order.status}"
        cancel_order(order, "Cancelled by the simulator")
        return f"{order.order_number} cancelled"
    except ServiceError as exc:
        return f"skipped: {exc.message}"
