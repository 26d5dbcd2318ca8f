"""Safe defaults for a real shop: seed-demo refuses under production unless told to make
demo accounts (then with random passwords), and the catalogue comes from a CSV file
(``flask import-products``, all or nothing, idempotent by name; ``export-products``)."""

import sqlalchemy as sa

from app.extensions import db
from app.models import Product, User
from tests.test_cli import count, scalar

GOOD = """name,category,credit_value,description
Rye bread,Bakery,5,Dark and sour
Sencha green tea,Tea,9,
"Olive oil, extra virgin",Pantry,15,"From Crete; cold-pressed"
"""


def production(app):
    """The app as production sees it (seed-demo reads the configuration's name)."""
    app.config["CONFIG_NAME"] = "production"
    return app


def test_seed_demo_refuses_under_production(app, runner):
    production(app)
    result = runner.invoke(args=["seed-demo", "--orders", "3"])
    assert result.exit_code == 1
    assert "refused under production" in result.output
    assert "import-products" in result.output
    assert count(app, User) == 0 and count(app, Product) == 0


def test_seed_demo_under_production_makes_random_passwords_when_asked(app, runner, client):
    production(app)
    result = runner.invoke(args=["seed-demo", "--orders", "3", "--demo-accounts"])
    assert result.exit_code == 0, result.output
    logins = dict(
        line.strip().split(": ", 1) for line in result.output.splitlines() if line.startswith("  ")
    )
    assert len(logins) == 21 and logins["admin"] != "admin12345"
    assert len(set(logins.values())) == 21
    refused = client.post("/auth/login", data={"username": "admin", "password": "admin12345"})
    assert refused.status_code == 200  # the demo password does not open production
    good = client.post("/auth/login", data={"username": "admin", "password": logins["admin"]})
    assert good.headers["Location"] == "/admin/manage_orders"


def test_seed_demo_in_development_keeps_the_readme_logins(app, runner, client):
    assert runner.invoke(args=["seed-demo", "--orders", "3"]).exit_code == 0
    response = client.post("/auth/login", data={"username": "alice", "password": "customer123"})
    assert response.status_code == 302


def test_import_products_adds_then_changes_nothing(app, runner, tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["import-products", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 added, 0 updated, 0 unchanged" in result.output
    oil = scalar(app, sa.select(Product).where(Product.name == "Olive oil, extra virgin"))
    assert (oil.category, oil.credit_value, oil.description) == (
        "Pantry",
        15,
        "From Crete; cold-pressed",
    )
    again = runner.invoke(args=["import-products", str(path)])
    assert "0 added, 0 updated, 3 unchanged" in again.output
    path.write_text("name,credit_value,category\nRye bread,6,Bakery\nBagels,7,Bakery\n")
    result = runner.invoke(args=["import-products", str(path)])
    assert "1 added, 1 updated, 0 unchanged" in result.output
    rye = scalar(app, sa.select(Product).where(Product.name == "Rye bread"))
    assert rye.credit_value == 6 and rye.description == "Dark and sour"  # kept
    assert count(app, Product) == 4


def test_a_bad_file_imports_nothing_and_names_every_line(app, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "name,category,credit_value\n"
        "Good bread,Bakery,5\n"
        ",Bakery,5\n"
        "Cheap tea,Tea,0\n"
        "Odd tea,Tea,²\n"
        "Good bread,Bakery,6\n"
        "Short line,Tea\n" + "Long," + "x" * 61 + ",3\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import-products", str(path)])
    assert result.exit_code == 1
    for expected in (
        "line 3: name is empty",
        "line 4: credit_value must be a whole number",
        "line 5: credit_value must be a whole number",
        "line 6: name 'Good bread' again (line 2)",
        "line 7: 2 cells, the header has 3",
        "line 8: category has 61 characters, at most 60",
        "nothing was imported",
    ):
        assert expected in result.output, result.output
    assert count(app, Product) == 0


def test_a_file_without_the_needed_columns_is_refused(app, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("title,price\nRye,5\n", encoding="utf-8")
    result = runner.invoke(args=["import-products", str(path)])
    assert result.exit_code == 1
    assert "unknown column 'title'" in result.output
    assert "missing column 'credit_value'" in result.output
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert "the file is empty" in runner.invoke(args=["import-products", str(empty)]).output


def test_an_export_imports_back_unchanged(app, runner, tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text(GOOD + '"=HYPERLINK(""x"")",Gifts,3,"a;@b"\n', encoding="utf-8")
    assert runner.invoke(args=["import-products", str(path)]).exit_code == 0
    exported = runner.invoke(args=["export-products"]).stdout
    header = '"name","category","credit_value","description","stock","image_url"'
    assert exported.splitlines()[0] == header
    assert "\"'=HYPERLINK" in exported  # neutralised for spreadsheets
    (tmp_path / "back.csv").write_text(exported, encoding="utf-8")
    again = runner.invoke(args=["import-products", str(tmp_path / "back.csv")])
    assert "0 added, 0 updated, 4 unchanged" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(Product.name).where(Product.category == "Gifts")) == (
            '=HYPERLINK("x")'
        )
