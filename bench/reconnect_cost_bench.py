"""CPU of one dashboard stream request in-process: the WSGI app from the request's environ to
its first chunk, then the close. No gunicorn, no socket, one thread: what the app itself
costs a reconnect, steadier than a storm on a shared machine (the best of 10 batches).

Two cases: one session reconnecting again and again (the session cache's case), and a
session the worker has not seen before (its first reconnect after a restart). The sessions
are made in a SQLite database of its own (``prepare.py --cookies``), more than
``SESSION_TOUCH_SECONDS`` before they are used unless ``--fresh``.

    python bench/reconnect_cost_bench.py --requests 3000
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USER_AGENT = "orderpulse-bench/1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", "-n", type=int, default=3000)
    parser.add_argument("--fresh", action="store_true", help="sessions last seen just now")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="orderpulse-reconnect-"))
    os.environ.update(
        DATABASE_URL=f"sqlite:///{work / 'bench.db'}",
        SECRET_KEY="bench-secret",
        SESSION_MAX_PER_USER=str(args.requests + 1000),
        LOG_LEVEL="WARNING",
    )
    cookies_file = work / "cookies.json"
    cmd = [sys.executable, str(ROOT / "bench" / "prepare.py"), "--orders", "1000"]
    cmd += ["--cookies", f"admin:{args.requests + 100}", "--cookies-out", str(cookies_file)]
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    if not args.fresh:
        time.sleep(61)  # as in a storm: each session was last seen over a minute ago
    sys.path.insert(0, str(ROOT))
    from werkzeug.test import EnvironBuilder

    from app import create_app

    app = create_app("development", SSE_MAX_STREAMS_PER_USER=10**6)
    cookies = [made["cookie"] for made in json.loads(cookies_file.read_text())]

    def one(cookie: str) -> None:
        builder = EnvironBuilder(
            path="/admin/orders/stream",
            query_string="last_event_id=1000",
            headers={"Cookie": cookie, "User-Agent": USER_AGENT},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        statuses = []
        body = app(builder.get_environ(), lambda status, *_: statuses.append(status))
        next(iter(body))
        body.close()
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"stream answered {statuses[0]}")

    for cookie in cookies[:50]:  # one-time costs: imports, the hub's thread, compiled queries
        one(cookie)
    fresh = iter(cookies[100:])
    result = {}
    for label, pick in (
        ("one_session_ms", lambda: cookies[0]),
        ("unseen_session_ms", fresh.__next__),
    ):
        best = float("inf")
        for _ in range(10):
            batch = args.requests // 10
            started = time.thread_time()
            for _ in range(batch):
                one(pick())
            best = min(best, (time.thread_time() - started) / batch)
        result[label] = round(best * 1000, 3)
    app.extensions["realtime"].stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
