"""The catalogue for admins (pages with Flask-WTF forms, JSON API), customers' pages and
packing slips."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Product, User
from tests.factories import make_order
from tests.helpers import assert_json_error
from tests.security_helpers import snapshot

NEW = {"name": "Oat loaf", "category": "Bakery", "credit_value": 4}


def product(app, product_id):
    with app.app_context():
        found = db.session.get(Product, product_id)
        db.session.expunge(found)
        db.session.remove()
    return found


def test_the_products_page_lists_stock_and_state(app, admin_client, shop):
    admin_client.patch(f"/admin/api/products/{shop.products[1].id}", json={"stock": 0})
    admin_client.patch(f"/admin/api/products/{shop.products[2].id}", json={"stock": 3})
    page = admin_client.get("/admin/products").get_data(as_text=True)
    assert "Sourdough loaf" in page and "not tracked" in page
    assert "Out of stock" in page and "3 left" in page
    assert (
        admin_client.get("/admin/products?show=inactive")
        .get_data(as_text=True)
        .count("data-product-id")
        == 0
    )


def test_add_and_edit_with_the_forms(app, admin_client, shop):
    form = {"name": "Oat loaf", "category": "Bakery", "credit_value": "4", "stock": "12"}
    response = admin_client.post("/admin/products/new", data=form)
    assert response.status_code == 302
    with app.app_context():
        made = db.session.scalar(sa.select(Product).where(Product.name == "Oat loaf"))
        made_id, version = made.id, made.version
    assert made.stock == 12 and version > 0
    edit = {**form, "stock": "", "credit_value": "5"}
    assert admin_client.post(f"/admin/products/{made_id}/edit", data=edit).status_code == 302
    edited = product(app, made_id)
    assert (edited.stock, edited.credit_value) == (None, 5)
    assert edited.version > version
    assert "Oat loaf" in admin_client.get(f"/admin/products/{made_id}/edit").get_data(as_text=True)


@pytest.mark.parametrize(
    "form",
    [
        {"name": "", "category": "Bakery", "credit_value": "4"},
        {"name": "Oat", "category": "Bakery", "credit_value": "0"},
        {"name": "Oat", "category": "Bakery", "credit_value": "4", "stock": "-1"},
        {"name": "Oat", "category": "Bakery", "credit_value": "4", "image_url": "javascript:x"},
    ],
)
def test_a_bad_form_shows_its_errors_and_writes_nothing(app, admin_client, shop, form):
    before = snapshot(app)
    response = admin_client.post("/admin/products/new", data=form)
    assert response.status_code == 422
    assert snapshot(app) == before


def test_deactivate_withdraws_from_the_storefront(app, admin_client, client, shop):
    target = shop.products[0]
    response = admin_client.post(f"/admin/products/{target.id}/deactivate", data={})
    assert response.status_code == 302
    assert not product(app, target.id).active
    assert target.name not in client.get("/").get_data(as_text=True)
    admin_client.post(f"/admin/products/{target.id}/activate", data={})
    assert product(app, target.id).active


def test_the_json_api_adds_and_patches(app, admin_client, shop):
    created = admin_client.post(
        "/admin/api/products",
        json={**NEW, "stock": 2, "image_url": "https://img.example.com/oat.jpg"},
    )
    assert created.status_code == 201
    body = created.get_json()["product"]
    assert body == {
        "id": body["id"],
        "name": "Oat loaf",
        "category": "Bakery",
        "description": "",
        "credit_value": 4,
        "stock": 2,
        "image_url": "https://img.example.com/oat.jpg",
        "active": True,
        "label": "Only 2 left",
    }
    patched = admin_client.patch(f"/admin/api/products/{body['id']}", json={"stock": None})
    assert patched.get_json()["product"]["stock"] is None


@pytest.mark.parametrize(
    "method, body, status",
    [
        ("post", None, 400),
        ("post", {**NEW, "colour": "red"}, 400),
        ("post", {**NEW, "credit_value": "4"}, 400),
        ("post", {**NEW, "stock": 1.5}, 400),
        ("post", {**NEW, "active": "yes"}, 400),
        ("post", {"name": "Oat", "category": "Bakery"}, 422),
        ("post", {**NEW, "name": " "}, 422),
        ("post", {**NEW, "name": "x" * 121}, 422),
        ("post", {**NEW, "credit_value": 0}, 422),
        ("post", {**NEW, "stock": -1}, 422),
        ("post", {**NEW, "image_url": "ftp://x/y.jpg"}, 422),
        ("patch", {"stock": "many"}, 400),
        ("patch", {"credit_value": 2_000_000}, 422),
    ],
)
@pytest.mark.one_database
def test_bad_api_bodies_are_refused_with_nothing_written(
    app, admin_client, shop, method, body, status
):
    before = snapshot(app)
    url = "/admin/api/products"
    if method == "patch":
        url += f"/{shop.products[0].id}"
    assert_json_error(getattr(admin_client, method)(url, json=body), status)
    assert snapshot(app) == before


def test_patching_an_unknown_product_is_404(admin_client, shop):
    assert_json_error(admin_client.patch("/admin/api/products/999", json={"stock": 1}), 404)


def test_customers_cannot_use_the_catalogue_api(customer_client, client, shop):
    assert_json_error(customer_client.post("/admin/api/products", json=NEW), 403)
    assert_json_error(client.post("/admin/api/products", json=NEW), 401)
    assert customer_client.get("/admin/products").status_code == 403


# -- customers ---------------------------------------------------------------------------------


def test_the_customer_list_counts_orders_spent_and_balance(app, admin_client, shop):
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        bread = db.session.get(Product, shop.products[0].id)
        first = make_order(alice, [(bread, 2)])  # 12
        make_order(alice, [(bread, 1)])  # 6
        first_id = first.id
    admin_client.post(f"/admin/api/order/{first_id}/refund", json={"credits": 5, "reason": "x"})
    page = admin_client.get("/admin/customers").get_data(as_text=True)
    assert "/admin/customers/alice" in page and "bob" in page
    assert "/admin/customers/boss" not in page  # admins are not customers
    row = page[page.index("/admin/customers/alice") :].split("</tr>")[0]
    assert ">2<" in row and "13 cr" in row and "987 cr" in row  # 12 - 5 + 6; 1000 - 18 + 5
    found = admin_client.get("/admin/customers?q=BOB@").get_data(as_text=True)
    assert "/admin/customers/bob" in found and "/admin/customers/alice" not in found


def test_a_customer_page_shows_orders_and_a_balance_history_that_adds_up(app, admin_client, shop):
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        bread = db.session.get(Product, shop.products[0].id)
        first = make_order(alice, [(bread, 5)])  # 30
        first_id, number = first.id, first.order_number
    admin_client.post(f"/admin/api/order/{first_id}/refund", json={"credits": 10, "reason": "x"})
    admin_client.post(f"/admin/api/order/{first_id}/cancel", json={"reason": "Lost"})
    page = admin_client.get("/admin/customers/alice").get_data(as_text=True)
    assert number in page and "Balance history" in page
    assert "-30 cr" in page and "+10 cr" in page and "+20 cr" in page
    assert page.count("1,000 cr") >= 2  # the balance now and after the cancel
    assert admin_client.get("/admin/customers/nobody").status_code == 404


def test_names_in_the_orders_table_link_to_the_customer(admin_client, placed):
    page = admin_client.get("/admin/manage_orders").get_data(as_text=True)
    assert 'href="/admin/customers/alice"' in page


# -- packing slips -----------------------------------------------------------------------------


def test_a_packing_slip_has_the_items_and_address_but_no_prices_or_notes(app, admin_client, shop):
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        bread = db.session.get(Product, shop.products[0].id)
        order = make_order(alice, [(bread, 3)], "home delivery", "1 Rue de la Paix\n75002 Paris")
        order_id, number = order.id, order.order_number
    admin_client.post(f"/admin/api/order/{order_id}/notes", json={"text": "Grumpy customer"})
    page = admin_client.get(f"/admin/orders/{order_id}/packing-slip").get_data(as_text=True)
    assert number in page and "Sourdough loaf" in page and "75002 Paris" in page
    assert "Grumpy" not in page and "credits" not in page
    assert page.count('class="slip"') == 1 and "packing-slip.css" in page


def test_packing_slips_for_a_selection_keep_its_order(app, admin_client, shop):
    with app.app_context():
        alice = db.session.get(User, shop.alice.id)
        ids = [make_order(alice).id for _ in range(3)]
    page = admin_client.get(f"/admin/orders/packing-slips?ids={ids[2]},{ids[0]},999")
    text = page.get_data(as_text=True)
    assert text.count('class="slip"') == 2
    assert text.index(f"-{ids[2]:05d}") < text.index(f"-{ids[0]:05d}")
    assert "1 unknown order left out" in text


TOO_MANY = "?ids=" + ",".join(str(i) for i in range(1, 502))


@pytest.mark.parametrize("query", ["", "?ids=", "?ids=a,b", "?ids=1,,2", "?ids=-1", TOO_MANY])
def test_malformed_selections_are_400(admin_client, shop, query):
    assert admin_client.get(f"/admin/orders/packing-slips{query}").status_code == 400


def test_a_slip_of_an_unknown_order_is_404(admin_client, shop):
    assert admin_client.get("/admin/orders/999/packing-slip").status_code == 404
    assert admin_client.get("/admin/orders/packing-slips?ids=998,999").status_code == 404
