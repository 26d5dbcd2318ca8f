"""Stock: taken by a checkout in the charge's transaction, never below zero (two checkouts
for the last item: one wins), put back by a cancel, taken again by the undo of a cancel;
the storefront shows it and follows it live over /catalogue/stream."""

import threading

import sqlalchemy as sa

from app.extensions import db
from app.models import Order, Product, User
from app.services import products
from tests.factories import make_order
from tests.helpers import (
    assert_json_error,
    counts_consistent,
    data,
    db_state,
    logged_in_client,
    message,
)
from tests.security_helpers import cart_of


def stocked(app, stock: int, price: int = 5, name: str = "Rye bread") -> int:
    """A product added as an admin adds one (so its version is stamped)."""
    with app.app_context():
        fields = {"name": name, "category": "Bakery", "credit_value": price, "stock": stock}
        product = products.create_product(fields)
        db.session.commit()
        return product.id


def stock_of(app, product_id: int) -> int | None:
    with app.app_context():
        value = db.session.scalar(sa.select(Product.stock).where(Product.id == product_id))
        db.session.remove()
    return value


def checkout(client, product_id: int, quantity: int = 1):
    body = {
        "items": [{"product_id": product_id, "quantity": quantity}],
        "delivery_method": "pickup",
    }
    return client.post("/api/orders", json=body)


def test_a_checkout_takes_stock_and_a_shortage_is_409_with_nothing_written(
    app, customer_client, shop
):
    product_id = stocked(app, 3)
    assert checkout(customer_client, product_id, 1).status_code == 201
    assert stock_of(app, product_id) == 2
    before = db_state(app, shop.alice.id)
    body = assert_json_error(checkout(customer_client, product_id, 3), 409, "only 2 left")
    assert body["product"] == {"id": product_id, "name": "Rye bread", "stock": 2}
    assert db_state(app, shop.alice.id) == before
    assert stock_of(app, product_id) == 2
    assert checkout(customer_client, product_id, 2).status_code == 201
    assert stock_of(app, product_id) == 0
    assert_json_error(checkout(customer_client, product_id, 1), 409, "out of stock")


def test_products_without_a_stock_are_never_short(app, customer_client, shop):
    for _ in range(3):
        assert checkout(customer_client, shop.products[0].id, 50).status_code == 201
    assert stock_of(app, shop.products[0].id) is None


def test_two_checkouts_for_the_last_item_one_wins(app, shop):
    """Sent at the same moment, 6 times over: exactly one gets the last item, the other a
    409 and its credits untouched; stock never goes below zero."""
    alice = logged_in_client(app, "alice")
    bob = logged_in_client(app, "bob")
    for round_ in range(6):
        product_id = stocked(app, 1, name=f"Last loaf {round_}")
        barrier = threading.Barrier(2)
        codes = {}

        def run(name, client, barrier=barrier, codes=codes, product_id=product_id):
            barrier.wait()
            codes[name] = checkout(client, product_id).status_code

        threads = [
            threading.Thread(target=run, args=(n, c)) for n, c in (("a", alice), ("b", bob))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(codes.values()) == [201, 409], codes
        assert stock_of(app, product_id) == 0
    state = db_state(app, shop.alice.id, shop.bob.id)
    assert sum(state["credits"].values()) == 2000 - 6 * 5
    assert counts_consistent(app)


def test_cancel_puts_stock_back_and_its_undo_takes_it_again(app, admin_client, shop):
    product_id = stocked(app, 2)
    with app.app_context():
        order = make_order(
            db.session.get(User, shop.alice.id), [(db.session.get(Product, product_id), 2)]
        )
        order_id = order.id
    assert stock_of(app, product_id) == 0
    cancelled = admin_client.post(f"/admin/api/order/{order_id}/cancel", json={"reason": "No"})
    assert cancelled.status_code == 200
    assert stock_of(app, product_id) == 2
    activity_id = cancelled.get_json()["activity"]["id"]
    assert (
        admin_client.post(
            f"/admin/api/order/{order_id}/undo", json={"activity_id": activity_id}
        ).status_code
        == 200
    )
    assert stock_of(app, product_id) == 0


def test_undoing_a_cancel_after_the_items_sold_out_is_409(
    app, admin_client, customer_client, shop
):
    product_id = stocked(app, 1)
    assert checkout(customer_client, product_id).status_code == 201
    with app.app_context():
        order_id = db.session.scalar(sa.select(sa.func.max(Order.id)))
    cancelled = admin_client.post(f"/admin/api/order/{order_id}/cancel", json={"reason": "No"})
    assert stock_of(app, product_id) == 1
    other = logged_in_client(app, "bob")
    assert checkout(other, product_id).status_code == 201  # the item sells again
    before = db_state(app, shop.alice.id)
    undo = admin_client.post(
        f"/admin/api/order/{order_id}/undo",
        json={"activity_id": cancelled.get_json()["activity"]["id"]},
    )
    assert_json_error(undo, 409, "out of stock")
    assert db_state(app, shop.alice.id) == before
    assert stock_of(app, product_id) == 0


def test_the_cart_refuses_more_than_the_stock(app, customer_client, shop):
    product_id = stocked(app, 2)
    response = customer_client.post("/cart/add", data={"product_id": product_id, "quantity": 3})
    assert response.status_code == 302
    assert cart_of(customer_client) == {}
    assert "Only 2 left of Rye bread" in customer_client.get("/cart").get_data(as_text=True)


def test_the_storefront_says_out_of_stock_and_only_n_left(app, client, shop):
    sold_out, low, plenty = (
        stocked(app, 0, name="Gone"),
        stocked(app, 2, name="Few"),
        stocked(app, 50, name="Lots"),
    )
    page = client.get("/").get_data(as_text=True)
    assert "Out of stock" in page and "Only 2 left" in page
    assert f'data-product-id="{sold_out}"' in page and f'data-product-id="{plenty}"' in page
    assert page.count("disabled") >= 2  # the sold-out product's quantity and button
    assert f'data-product-id="{low}"' in page


def test_the_catalogue_stream_follows_stock_live(app, open_stream, client, customer_client, shop):
    product_id = stocked(app, 3)
    stream = open_stream(client, "/catalogue/stream?since=0")
    assert stream.response.status_code == 200
    initial = data(stream.wait_for(message("initial")))
    assert initial["type"] == "initial"
    assert {"id": product_id, "stock": 3, "active": True, "label": "Only 3 left"} in initial[
        "products"
    ]
    assert checkout(customer_client, product_id, 3).status_code == 201
    frame = stream.wait_for(message("stock"))
    assert data(frame)["products"] == [
        {"id": product_id, "stock": 0, "active": True, "label": "Out of stock"}
    ]


def test_an_admin_restock_reaches_the_storefront(app, open_stream, client, admin_client, shop):
    product_id = stocked(app, 0)
    stream = open_stream(client, "/catalogue/stream")
    stream.wait_for(message("initial"))
    patch = admin_client.patch(f"/admin/api/products/{product_id}", json={"stock": 12})
    assert patch.status_code == 200
    frame = stream.wait_for(message("stock"))
    assert data(frame)["products"] == [
        {"id": product_id, "stock": 12, "active": True, "label": None}
    ]
    admin_client.patch(f"/admin/api/products/{product_id}", json={"active": False})
    frame = stream.wait_for(message("stock"))
    assert data(frame)["products"][0]["active"] is False


def test_import_products_sets_stock_and_the_storefront_hears_of_it(
    app, runner, open_stream, client, shop, tmp_path
):
    stream = open_stream(client, "/catalogue/stream")
    stream.wait_for(message("initial"))
    path = tmp_path / "catalogue.csv"
    path.write_text(
        "name,category,credit_value,stock,image_url\n"
        "Rye bread,Bakery,5,2,https://img.example.com/rye.jpg\n"
        "Spelt loaf,Bakery,7,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import-products", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = dict(
            db.session.execute(
                sa.select(Product.name, Product.stock).where(
                    Product.name.in_(["Rye bread", "Spelt loaf"])
                )
            ).all()
        )
    assert rows == {"Rye bread": 2, "Spelt loaf": None}
    frame = stream.wait_for(message("stock"))
    assert {p["label"] for p in data(frame)["products"]} == {"Only 2 left", None}
    bad = tmp_path / "bad.csv"
    bad.write_text("name,category,credit_value,stock\nOat,Bakery,4,-1\n", encoding="utf-8")
    refused = runner.invoke(args=["import-products", str(bad)])
    assert refused.exit_code != 0 and "line 2: stock" in refused.output
    export = runner.invoke(args=["export-products"])
    assert '"stock","image_url"' in export.output and '"Rye bread","Bakery",5' in export.output
