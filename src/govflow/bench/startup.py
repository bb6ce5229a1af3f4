"""API start-up on a long log, against a baseline from the same run.

A SQLite store is filled with ``events`` records (default 1,000,000): a council, 2,000
spending requests and items made through the application (what the lists show), the rest
one-event records of another kind written in bulk (as ballots are: the directory does not
follow them). Then:

- the directory's one-time catch-up over the whole log (what every process did at start-up
  before the directory was kept in the database): seconds and records/s;
- a new API process (a real ``python`` process: import, settings, the ASGI app, then its first
  list request) on that log, caught up, vs the same on a store of the application's records
  only (the baseline): seconds each and their ratio. Constant-time start-up shows as a ratio
  near 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

SPENDING = 2_000
PROBE = """
import json, sys, time
started = time.perf_counter()
from fastapi.testclient import TestClient
from govflow.application import Governance
from govflow.entrypoints.api import create_api
app = Governance({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": sys.argv[1]})
client = TestClient(create_api(app))
response = client.get("/board/bench/spending.json")
assert response.status_code == 200, response.text
assert len(response.json()) >= 20, response.text
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def _fill(path: Path, events: int, spending: int = SPENDING) -> int:
    """The application's records, then bulk records up to ``events``; returns the log's size."""
    from eventsourcing.application import Application

    from govflow.application import Governance
    from govflow.bench.store import Receipt

    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    app = Governance(env)
    app.register_council("bench", "bench", actor="clerk")
    for n in range(1, spending + 1):
        app.request_spending(
            "bench", n, Decimal("100.00") + n, purpose=f"p{n}", payee="payee",
            budget_line="repairs", actor="clerk",
        )  # fmt: skip
    head = app.recorder.max_notification_id() or 0
    app.close()
    raw: Application[Any] = Application(env)
    raw.save(Receipt(0))
    template = next(iter(raw.recorder.select_notifications(head + 1, 1)))
    raw.close()
    import sqlite3

    db = sqlite3.connect(path)
    remaining = events - head - 1
    while remaining > 0:
        chunk = min(remaining, 50_000)
        db.executemany(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (?, 1, ?, ?)",
            ((uuid.uuid4().hex, template.topic, template.state) for _ in range(chunk)),
        )
        db.commit()
        remaining -= chunk
    size = int(db.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0])
    db.close()
    return size


def _catch_up(path: Path) -> float:
    from govflow.application import Governance

    app = Governance({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})
    started = time.perf_counter()
    app.directory  # noqa: B018 (catches up)
    seconds = time.perf_counter() - started
    app.close()
    return seconds


def _start_up(path: Path, tries: int = 3) -> float:
    """The fastest of three fresh API processes: start-up and the first list."""
    best = float("inf")
    for _ in range(tries):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"the API process failed:\n{out.stderr[-3000:]}")
        best = min(best, float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"]))
    return best


def measure(
    events: int = 1_000_000,
    say: Callable[[str], None] = print,
    *,
    spending: int = SPENDING,
    tries: int = 3,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small.db", Path(tmp) / "large.db"
        say(f"start-up: filling a log of {events:,} records ...")
        size = _fill(large, events, spending)
        _fill(small, 0, spending)
        say("start-up: the directory's one-time catch-up ...")
        catch_up = _catch_up(large)
        _catch_up(small)
        say("start-up: new API processes on the long log and on the baseline ...")
        long_log, baseline = _start_up(large, tries), _start_up(small, tries)
    return {
        f"startup_{events}": {
            "events": size,
            "catch_up_s": round(catch_up, 2),
            "catch_up_per_s": int(size / catch_up),
            "api_start_s": round(long_log, 2),
            "baseline_start_s": round(baseline, 2),
            "ratio": round(long_log / baseline, 2),
        }
    }


def run(say: Callable[[str], None]) -> dict[str, Any]:
    return measure(say=say)
