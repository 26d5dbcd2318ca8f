"""Seed the browser tests' database: ``python -m tests.browser.seed`` with ``DATABASE_URL``
set, after ``flask db upgrade``. A small demo shop (admin ``admin``/``admin12345``, customers
``alice``… /``customer123``, two days of orders so the chart has a yesterday) plus a customer
whose name is HTML, for the escaping scenario, and a second admin (``maria``/``admin12345``)
whose changes another admin's page sees."""

from app import create_app
from app.extensions import db
from app.services import accounts, demo

XSS_USERNAME = "<img src=x onerror=__xss=1><script>__xss=2</script>"
XSS_PASSWORD = "customer123"
SECOND_ADMIN = ("maria", "admin12345")


def main() -> None:
    app = create_app()
    with app.app_context():
        demo.seed_demo(orders=60, days=2)
        accounts.create_user(XSS_USERNAME, "xss@example.com", XSS_PASSWORD, credits=10_000)
        accounts.create_user(SECOND_ADMIN[0], "maria@example.com", SECOND_ADMIN[1], role="admin")
        db.session.commit()


if __name__ == "__main__":
    main()
