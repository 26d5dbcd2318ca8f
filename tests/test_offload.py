"""Password hashing off the gevent loop. Inside a gevent-patched
process (as in gunicorn's worker) a hash runs in a native thread while the loop keeps
serving other greenlets; without gevent it runs directly. The figures under load are in
bench/auth_burst_bench.py."""

import json
import subprocess
import sys
import threading

from app import offload
from app.models import User
from app.models import user as user_model
from tests.servers import ROOT

# Runs in a fresh interpreter patched like gunicorn's gevent worker. A ticker greenlet
# counts how often the loop ran while one real (scrypt) hash and one check were in progress:
# on the loop it could not run at all.
SCENARIO = """
from gevent import monkey
monkey.patch_all()
import json, gevent, threading
from werkzeug.security import generate_password_hash
from app import offload
from app.models import User

real_ident = monkey.get_original("threading", "get_ident")
ticks, where = [0], []
def ticker():
    while True:
        ticks[0] += 1
        gevent.sleep(0.001)
def hashing(password):
    where.append(real_ident())
    return generate_password_hash(password)
gevent.spawn(ticker)
gevent.sleep(0.01)
before = ticks[0]
user = User()
user.password_hash = offload.run(hashing, "correct horse")
during_hash = ticks[0] - before
before = ticks[0]
ok = user.check_password("correct horse")
print(json.dumps({
    "patched": offload.patched(),
    "hash_thread_is_loop_thread": where[0] == real_ident(),
    "loop_ran_during_hash": during_hash,
    "loop_ran_during_check": ticks[0] - before,
    "check_ok": ok,
    "wrong_ok": user.check_password("wrong"),
}))
"""


def test_under_gevent_hashing_runs_beside_the_loop():
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert result["patched"] is True
    assert result["hash_thread_is_loop_thread"] is False
    assert result["loop_ran_during_hash"] > 0
    assert result["loop_ran_during_check"] > 0
    assert result["check_ok"] is True and result["wrong_ok"] is False


def test_without_gevent_it_runs_directly():
    assert offload.patched() is False
    seen = []
    assert offload.run(lambda x: seen.append(threading.get_ident()) or x * 2, 21) == 42
    assert seen == [threading.get_ident()]


def test_the_model_hashes_and_checks_through_offload(monkeypatch):
    calls = []
    monkeypatch.setattr(offload, "run", lambda fn, *args: calls.append(fn) or fn(*args))
    user = User()
    user.set_password("correct horse")
    assert user.check_password("correct horse")
    assert calls == [user_model.generate_password_hash, user_model.check_password_hash]


def test_logins_and_registrations_hold_no_database_connection_while_hashing(
    app, client, shop, monkeypatch
):
    """Under a burst a hash waits for the bounded pool; a pooled connection held meanwhile
    would starve checkouts (measured: 15 waiting logins took every connection)."""
    from app.extensions import db

    in_transaction = []

    def record(real):
        def wrapper(*args):
            in_transaction.append(db.session().in_transaction())
            return real(*args)

        return wrapper

    monkeypatch.setattr(user_model, "check_password_hash", record(user_model.check_password_hash))
    monkeypatch.setattr(
        user_model, "generate_password_hash", record(user_model.generate_password_hash)
    )
    for username in ("alice", "nobody"):
        client.post("/auth/login", data={"username": username, "password": "wrong-pass"})
    ok = client.post("/auth/login", data={"username": "alice", "password": "password123"})
    assert ok.status_code == 302
    client.post("/auth/logout")
    form = {"username": "dora", "email": "dora@example.com", "password": "longpassword1"}
    registered = client.post("/auth/register", data=form | {"confirm": "longpassword1"})
    assert registered.status_code == 302
    # Three logins, one registration (and the dummy hash, made once per process).
    assert len(in_transaction) >= 4 and not any(in_transaction), in_transaction
