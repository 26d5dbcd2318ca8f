"""Flask CLI commands: accounts, demo data, the catalogue as CSV, the simulator, and
maintenance (prune-sessions, reconcile-counts)."""

import random
import time

import click
import sqlalchemy as sa
from flask import Flask
from flask_migrate import Migrate

from app.extensions import db
from app.models import User
from app.models.user import ROLES
from app.services import ServiceError, accounts, catalog_csv, demo, revenue, session_expiry
from app.services.counts import reconcile
from app.services.usernames import canonical

migrate = Migrate()


def register_cli(app: Flask) -> None:
    """Attach the commands to ``flask``: Flask-Migrate's ``db`` (upgrade, downgrade...;
    batch mode, for SQLite's ALTER TABLE), create-admin, set-role, deactivate-user,
    seed-demo, import-products, export-products, simulate-orders, prune-sessions,
    reconcile-counts."""
    migrate.init_app(app, db, render_as_batch=True)

    @app.cli.command("create-admin")
    @click.argument("username")
    @click.option("--email", default=None, help="Defaults to USERNAME@example.com")
    @click.password_option(help="Prompted (twice) when not given")
    def create_admin(username: str, email: str | None, password: str) -> None:
        """Create an admin account (exit 1 with the reason if it cannot)."""
        try:
            accounts.create_user(
                username, email or f"{username}@example.com", password, role="admin"
            )
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
        click.echo(f"Admin {username} created.")

    @app.cli.command("set-role")
    @click.argument("username")
    @click.argument("role", type=click.Choice(ROLES))
    def set_role(username: str, role: str) -> None:
        """Make USERNAME a customer or an admin; a change ends all of their sessions and
        open streams (a demoted admin's dashboards close at once)."""
        user = _user(username)
        ended = accounts.set_role(user, role)
        db.session.commit()
        click.echo(f"{user.username} is now {role}; {ended} session(s) ended.")

    @app.cli.command("deactivate-user")
    @click.argument("username")
    @click.option("--reactivate", is_flag=True, help="Let the account log in again")
    def deactivate_user(username: str, reactivate: bool) -> None:
        """Deactivate USERNAME: no more logins, every session and stream ends."""
        user = _user(username)
        ended = accounts.set_active(user, reactivate)
        db.session.commit()
        state = "active again" if reactivate else f"deactivated; {ended} session(s) ended"
        click.echo(f"{user.username} is {state}.")

    @app.cli.command("seed-demo")
    @click.option("--orders", default=600, show_default=True, help="Past orders to create")
    @click.option("--days", default=30, show_default=True, help="Spread over this many days")
    @click.option(
        "--demo-accounts",
        is_flag=True,
        help="Under production: make the demo admin and customers anyway, with random "
        "passwords printed once",
    )
    def seed_demo(orders: int, days: int, demo_accounts: bool) -> None:
        """Load the demo shop (products, an admin, 20 customers, past orders); does nothing
        if demo users already exist. Under production it refuses unless --demo-accounts
        is given, and then the passwords are random (a real catalogue without demo data:
        import-products)."""
        production = app.config.get("CONFIG_NAME") == "production"
        if production and not demo_accounts:
            raise click.ClickException(
                "seed-demo makes demo accounts (admin and 20 customers) and is refused under "
                "production; pass --demo-accounts to make them with random passwords, or "
                "load your catalogue with: flask import-products FILE.csv"
            )
        if db.session.scalar(sa.select(User).where(User.username == demo.ADMIN_LOGIN[0])):
            click.echo("Demo data already present; nothing to do.")
            return
        passwords = demo.random_passwords() if production else None
        made = demo.seed_demo(orders=orders, days=days, passwords=passwords)
        db.session.commit()
        click.echo(
            f"Seeded {made['products']} products, {made['customers']} customers, "
            f"{made['orders']} orders."
        )
        for name, password in (passwords or {}).items():
            click.echo(f"  {name}: {password}")

    @app.cli.command("import-products")
    @click.argument("file", type=click.File("r", encoding="utf-8-sig"))
    def import_products(file) -> None:
        """Add or update products from a CSV FILE with a header row: name, category,
        credit_value (required), description, stock (empty: not tracked), image_url.
        All or nothing: every problem is listed
        with its line and nothing is written unless all lines are good (exit 1).
        Products are matched by name, so importing the same file again changes nothing."""
        try:
            made = catalog_csv.apply(catalog_csv.read(file.read()))
            db.session.commit()
        except catalog_csv.CatalogueErrors as exc:
            db.session.rollback()
            for problem in exc.problems:
                click.echo(problem, err=True)
            raise click.ClickException(exc.message) from exc
        click.echo(
            f"{made['added']} added, {made['updated']} updated, {made['unchanged']} unchanged."
        )

    @app.cli.command("export-products")
    @click.argument("file", type=click.File("w", encoding="utf-8"), default="-")
    def export_products(file) -> None:
        """Write every product as CSV (the columns import-products reads) to FILE, or to
        standard output."""
        count = catalog_csv.write(file)
        click.echo(f"{count} products written.", err=True)

    @app.cli.command("simulate-orders")
    @click.option("--rate", default=1.0, show_default=True, help="Events per second")
    @click.option("--duration", default=60.0, show_default=True, help="Seconds to run")
    @click.option("--seed", default=None, type=int, help="Random seed (repeatable runs)")
    def simulate_orders(rate: float, duration: float, seed: int | None) -> None:
        """New orders and status moves through the real services, one commit each, so a
        watched dashboard visibly moves."""
        if rate <= 0 or duration < 0:
            raise click.BadParameter("rate must be > 0 and duration >= 0")
        rng = random.Random(seed)
        deadline = time.monotonic() + duration
        done = 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                line = demo.simulate_step(rng)
                db.session.commit()
            except ServiceError as exc:
                db.session.rollback()
                line = f"skipped: {exc.message}"
            done += 1
            click.echo(line)
            time.sleep(max(0.0, 1.0 / rate - (time.monotonic() - started)))
        click.echo(f"Simulated {done} events in {duration:g}s.")

    @app.cli.command("prune-sessions")
    def prune_sessions() -> None:
        """Delete expired sessions (idle longer than SESSION_IDLE_TIMEOUT_SECONDS or older
        than SESSION_ABSOLUTE_TIMEOUT_SECONDS). The app does this by itself at logins; this
        is for a quiet shop or a one-off cleanup."""
        pruned = session_expiry.prune()
        db.session.commit()
        click.echo(f"Pruned {pruned} expired session(s).")

    @app.cli.command("reconcile-counts")
    def reconcile_counts() -> None:
        """Recompute ``order_counts`` and ``revenue_buckets`` from ``orders``; print any
        drift and fix it."""
        drift = reconcile()
        buckets = revenue.reconcile()
        db.session.commit()
        if not drift and not buckets:
            click.echo("order_counts and revenue_buckets match orders: no drift.")
            return
        for name, (stored, true) in drift.items():
            click.echo(f"drift {name}: stored {stored}, actual {true} (fixed)")
        for start, (stored, true) in sorted(buckets.items()):
            click.echo(f"drift revenue bucket {start}: stored {stored}, actual {true} (fixed)")


def _user(username: str) -> User:
    """The user named ``username`` (in any case or width), or a ``ClickException``."""
    user = db.session.scalar(sa.select(User).where(User.username_canonical == canonical(username)))
    if user is None:
        raise click.ClickException(f"No user named {username!r}")
    return user
