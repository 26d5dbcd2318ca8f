"""XSS: user-supplied text is escaped on every page that shows it, and the
browser code never parses data as HTML.

Hostile usernames (possible through ``flask create-admin`` or the database, though the
register form refuses them), delivery addresses, cancellation reasons, product names and
reflected query/form values are rendered; the raw payload must never appear, its escaped form
must (so each check really rendered the value).
"""

import re
from pathlib import Path

import pytest
from markupsafe import escape

from app.extensions import db
from app.models import Order
from app.services.status import cancel_order
from tests.factories import make_order, make_product, make_user
from tests.helpers import logged_in_client

# What these tests check does not depend on the database: they run on SQLite only.
pytestmark = pytest.mark.one_database

ROOT = Path(__file__).resolve().parent.parent
NAME = '<script>alert("name")</script>'
ADDRESS = '"><img src=x onerror=alert(1)>'
REASON = "</span><script>alert('reason')</script>"
PRODUCT = "<svg onload=alert(2)>Tea"
QUERY = "\"'><script>alert(3)</script>"
PAYLOADS = (NAME, ADDRESS, REASON, PRODUCT, QUERY)


@pytest.fixture
def hostile(app, shop):
    """A customer named ``NAME`` with a cancelled home-delivery order of ``PRODUCT`` to
    ``ADDRESS`` (reason ``REASON``), and a second, live order: ``{"cancelled", "live"}``."""
    with app.app_context():
        user = make_user(username=NAME, email="hostile@example.com")
        product = make_product(PRODUCT, credit_value=3)
        cancelled = make_order(user, [(product, 1)], "home delivery", ADDRESS)
        live = make_order(user, [(product, 2)], "home delivery", ADDRESS)
        cancel_order(db.session.get(Order, cancelled.id), REASON)
        db.session.commit()
        return {
            "cancelled": cancelled.order_number,
            "live": live.order_number,
            "product_id": product.id,
        }


def assert_escaped(response, *shown):
    """No payload appears raw; each of ``shown`` appears escaped; every script tag is an
    external file (the CSP allows no inline script anyway)."""
    html = response.get_data(as_text=True)
    for payload in PAYLOADS:
        assert payload not in html, payload
    for payload in shown:
        assert str(escape(payload)) in html, payload
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert re.search(r'\bsrc="/static/[^"]+"', tag), tag
    return html


def test_customer_pages_escape_name_address_reason_and_product(app, hostile):
    client = logged_in_client(app, NAME)
    assert_escaped(client.get("/"), NAME, PRODUCT)  # header chip and catalogue
    assert_escaped(client.get("/orders"), NAME)
    assert_escaped(client.get(f"/orders/{hostile['cancelled']}"), NAME, ADDRESS, REASON, PRODUCT)
    client.post("/cart/add", data={"product_id": hostile["product_id"], "quantity": 1})
    assert_escaped(client.get("/cart"), PRODUCT)  # the "Added ... to your cart" flash too
    assert_escaped(client.get("/checkout"), PRODUCT)


def test_admin_pages_escape_customer_text(admin_client, hostile):
    assert_escaped(admin_client.get("/admin/manage_orders"), NAME)
    assert_escaped(admin_client.get(f"/orders/{hostile['live']}"), ADDRESS, PRODUCT)


@pytest.mark.parametrize(
    "path",
    ["/", "/admin/manage_orders"],
    ids=["catalogue-search", "dashboard-search"],
)
def test_reflected_search_terms_are_escaped(admin_client, hostile, path):
    assert_escaped(admin_client.get(path, query_string={"q": QUERY}), QUERY)


def test_refused_forms_escape_what_was_typed(app, client, customer_client, shop):
    login = client.post("/auth/login", data={"username": QUERY, "password": "wrong-pass"})
    assert_escaped(login, QUERY)
    register = client.post(
        "/auth/register",
        data={"username": QUERY, "email": "q@example.com", "password": "x", "confirm": "y"},
    )
    assert_escaped(register, QUERY)
    customer_client.post("/cart/add", data={"product_id": shop.products[0].id, "quantity": 1})
    checkout = customer_client.post(
        "/checkout", data={"delivery_method": "teleport", "delivery_address": ADDRESS}
    )
    assert_escaped(checkout, ADDRESS)


def test_not_found_pages_do_not_reflect_the_path(customer_client):
    response = customer_client.get("/orders/" + QUERY)
    assert response.status_code == 404
    assert_escaped(response)


# -- static checks: the browser code and the templates -------------------------------------

# Assigning or inserting markup: every way JS turns a string into HTML.
HTML_SINKS = re.compile(
    r"\.(?:innerHTML|outerHTML)\s*\+?=(?!\s*(?:\"\"|''|``)\s*;)"
    r"|insertAdjacentHTML\s*\("
    r"|document\.write(?:ln)?\s*\("
    r"|\beval\s*\("
    r"|new\s+Function\s*\("
    r"|createContextualFragment\s*\("
)


def strip_js_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    return re.sub(r"(?m)^\s*//.*$", "", source)


def test_the_sink_pattern_catches_what_it_should():
    bad = [
        "row.innerHTML = data.username;",
        "el.outerHTML += html;",
        "list.insertAdjacentHTML('beforeend', x)",
        "document.write(x)",
        "eval(frame)",
    ]
    good = ['el.innerHTML = "";', "el.textContent = data.username;", "// el.innerHTML = x"]
    assert all(HTML_SINKS.search(strip_js_comments(line)) for line in bad)
    assert not any(HTML_SINKS.search(strip_js_comments(line)) for line in good)


def test_browser_code_never_turns_data_into_html():
    scripts = sorted((ROOT / "app" / "static" / "js").rglob("*.js"))
    assert scripts, "no scripts found"
    for path in scripts:
        source = strip_js_comments(path.read_text())
        found = [m.group(0) for m in HTML_SINKS.finditer(source)]
        name = path.relative_to(ROOT)
        assert not found, f"{name}: {found} (use textContent / createElement)"


def test_templates_have_no_inline_script_handlers_or_safe_filters():
    for path in sorted((ROOT / "app" / "templates").rglob("*.html")):
        source = path.read_text()
        assert not re.search(r"<script\b(?![^>]*\bsrc=)", source), f"{path.name}: inline script"
        assert not re.search(r"\son[a-z]+\s*=", source), f"{path.name}: inline handler"
        assert not re.search(r"\|\s*safe\b", source), f"{path.name}: |safe"
        assert "autoescape false" not in source, f"{path.name}: autoescape off"
