"""Usernames: stored NFKC-normalised, unique case-insensitively, and
no name whose letters mix alphabets, so nobody can register a look-alike of ``admin``."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User
from app.services import Conflict, Invalid, accounts, usernames
from tests.helpers import login


def register(client, username: str, email: str):
    form = {"username": username, "email": email, "password": "longpassword1"}
    return client.post("/auth/register", data=form | {"confirm": form["password"]})


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(User.id)))


@pytest.mark.parametrize(
    "lookalike, status",
    [
        ("Ａlice", 409),  # fullwidth Ａ: NFKC makes it "Alice"
        ("Alice", 409),  # case
        ("ALICE", 409),
        ("аlice", 422),  # Cyrillic а (U+0430) among Latin letters
        ("alicе", 422),  # Cyrillic е at the end
        ("bοb", 422),  # Greek omicron
    ],
)
def test_a_lookalike_of_an_existing_name_is_refused(app, client, shop, lookalike, status):
    before = user_count(app)
    response = register(client, lookalike, "new@example.com")
    assert response.status_code == status
    assert user_count(app) == before
    assert b"already registered" in response.data or b"mix alphabets" in response.data


def test_a_fullwidth_name_is_stored_normalised_and_logs_in_in_any_case(app, client):
    assert register(client, "Ｄora", "dora@example.com").status_code == 302
    with app.app_context():
        stored = db.session.scalar(
            sa.select(User.username).where(User.email == "dora@example.com")
        )
    assert stored == "Dora"
    client.post("/auth/logout")
    assert login(client, "dORA", "longpassword1").headers["Location"] == "/"


@pytest.mark.parametrize(
    "name", ["山田taro", "やまだ太郎", "김민준", "Zoë", "straße", "Ωμέγα", "Дмитрий"]
)
def test_names_in_one_script_or_an_allowed_mix_are_fine(name):
    usernames.check_scripts(usernames.normalize(name))


def test_the_service_refuses_lookalikes_whoever_calls_it(ctx):
    accounts.create_user("admin", "admin@example.com", "longpassword1", role="admin")
    with pytest.raises(Conflict):
        accounts.create_user("ADMIN", "x@example.com", "longpassword1")
    with pytest.raises(Invalid, match="mix alphabets"):
        accounts.create_user("аdmin", "y@example.com", "longpassword1")
    with pytest.raises(Invalid):
        accounts.create_user("  ", "z@example.com", "longpassword1")


def test_create_admin_refuses_a_confusable_name(runner):
    result = runner.invoke(args=["create-admin", "аdmin", "--password", "longpassword1"])
    assert result.exit_code == 1
    assert "mix alphabets" in result.output
