"""Event-store figures, each against a baseline measured in the same run:

- ballots cast per second through the application vs raw eventsourcing aggregate saves;
- the tally of a 40,000-household owners' vote (area-weighted): time and peak memory;
- ``audit verify`` throughput vs reading the raw log;
- history and as-of of an issue with 10,000 events vs reading its raw stored events.
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.ballot import Ballot, Choice, tally
from govflow.domain.council import Body
from govflow.domain.issue import StageOutcome
from govflow.domain.voting import Base, Comparison, Threshold, VotingRule

BALLOTS = 3_000
HOUSEHOLDS = 40_000
HISTORY_EVENTS = 10_000
OWNERS_RULE = VotingRule(
    quorum=Threshold(
        fraction=Fraction(2, 3), comparison=Comparison.AT_LEAST, base=Base.MEMBERS_OF_RECORD
    ),
    passes=Threshold(
        fraction=Fraction(1, 2), comparison=Comparison.MORE_THAN, base=Base.PARTICIPATING
    ),
    area_weighted=True,
)
MAJORITY = VotingRule(
    passes=Threshold(fraction=Fraction(1, 2), comparison=Comparison.MORE_THAN, base=Base.PRESENT)
)


class Receipt(Aggregate):
    """The baseline: the library's own aggregate, one event, one save."""

    @event("Issued")
    def __init__(self, number: int) -> None:
        self.number = number


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def raw_saves_per_s(env: dict[str, str], count: int) -> float:
    """The baseline of every ballot figure: ``count`` one-event aggregates saved one by one
    through a bare eventsourcing Application into the (fresh) store ``env`` names."""
    raw: Application[Any] = Application(env)
    try:
        return count / _timed(lambda: [raw.save(Receipt(i)) for i in range(count)])
    finally:
        raw.close()


@contextmanager
def _stores(kind: str) -> Iterator[Callable[[str], dict[str, str]]]:
    """Fresh, empty stores of ``kind``: a function from a name to eventsourcing settings."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield lambda name: {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(Path(tmp) / f"{name}.db"),
            }
        return
    import psycopg

    admin = "host=127.0.0.1 user=postgres dbname=postgres"
    created: list[str] = []

    def make(name: str) -> dict[str, str]:
        db = f"govflow_bench_{name}_{os.getpid()}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
            conn.execute(f'CREATE DATABASE "{db}"')
        created.append(db)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": db,
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": "5432",
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "",
        }

    try:
        yield make
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for db in created:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _council(app: Governance, voters: int, *, households: bool = False) -> None:
    app.register_council("bench", "bench", actor="clerk")
    council = app.council("bench")
    at = app.now()
    for i in range(voters):
        if households:
            council.register_household(
                f"u{i}", Decimal("88.50") + i % 7, f"o{i}", at=at, actor="clerk"
            )
        else:
            council.enroll_member(
                f"v{i}", f"v{i}", at=at, actor="clerk", bodies=(Body.RESIDENTS_REPRESENTATIVES,)
            )
    app.save(council)


def _at_vote(app: Governance, body: Body, rule: VotingRule, *, secret: bool = True) -> None:
    procedure = ProcedureLibrary(Path("workflows")).get("residents-assembly")
    app.propose_issue("bench", 1, "bench", procedure, actor="system")
    for stage in ("propose", "public_deliberation"):
        app.open_stage("bench", 1, stage, deadline=None, actor="system")
        app.close_stage("bench", 1, stage, StageOutcome.COMPLETED, actor="system")
    app.open_stage("bench", 1, "resolve", deadline=None, actor="system")
    app.open_voting(
        "bench",
        1,
        "resolve",
        body=body,
        rule=rule,
        closes_at=app.now() + timedelta(days=7),
        actor="system",
        secret=secret,
    )


def ballots(kind: str) -> dict[str, Any]:
    with _stores(kind) as store:
        app = Governance(store("ballots"))
        _council(app, BALLOTS)
        _at_vote(app, Body.RESIDENTS_REPRESENTATIVES, MAJORITY)
        app_seconds = _timed(
            lambda: [app.cast_ballot("bench", 1, f"v{i}", Choice.YES) for i in range(BALLOTS)]
        )
        app.close()
        raw_rate = raw_saves_per_s(store("raw"), BALLOTS)
    app_rate = BALLOTS / app_seconds
    return {
        "ballots": BALLOTS,
        "application_per_s": round(app_rate),
        "raw_saves_per_s": round(raw_rate),
        "ratio": round(app_rate / raw_rate, 3),
        "target_ratio": 0.5,
    }


def tally_and_verify() -> dict[str, Any]:
    with _stores("sqlite") as store:
        app = Governance(store("tally"))
        _council(app, HOUSEHOLDS, households=True)
        _at_vote(app, Body.OWNERS_ASSEMBLY, OWNERS_RULE, secret=False)  # whole ballots
        voting = app.issue("bench", 1).voting
        assert voting is not None
        cast = [
            Ballot.cast(voting, f"o{i}", Choice.YES if i % 3 else Choice.NO, at=app.now())
            for i in range(HOUSEHOLDS)
        ]
        for start in range(0, len(cast), 5_000):
            app.save(*cast[start : start + 5_000])
        tally_seconds = _timed(lambda: app.close_voting("bench", 1, "deadline", actor="system"))
        # Memory separately: tracemalloc slows everything it watches several times over.
        opened, closed = app._round_positions(voting.issue_id, voting.ballot_key)
        tracemalloc.start()
        tally(
            voting,
            (
                (b.voter, b.choice)
                for b in app._round_ballots(voting.issue_id, voting.ballot_key, opened, closed)
                if b.voter is not None and b.choice is not None
            ),
            counted_up_to=closed,
        )
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        events = app.recorder.max_notification_id() or 0
        app.extend_audit_chain()
        verify_seconds = _timed(app.verify_audit_chain)
        raw_seconds = _timed(lambda: sum(1 for _ in app._notifications(0)))
        app.close()
    return {
        "tally_40000": {
            "households": HOUSEHOLDS,
            "seconds": round(tally_seconds, 3),
            "peak_mib": round(peak / 2**20, 1),
            "target_seconds": 1.0,
        },
        "audit_verify": {
            "events": events,
            "events_per_s": round(events / verify_seconds),
            "raw_read_per_s": round(events / raw_seconds),
            "ratio": round(raw_seconds / verify_seconds, 3),
            "target_events_per_s": 100_000,
        },
    }


def history() -> dict[str, Any]:
    with _stores("sqlite") as store:
        app = Governance(store("history"), clock=_Ticking())
        _council(app, 1)
        procedure = ProcedureLibrary(Path("workflows")).get("residents-assembly")
        app.propose_issue("bench", 1, "bench", procedure, actor="system")
        app.open_stage("bench", 1, "propose", deadline=None, actor="system")
        issue = app.issue("bench", 1)
        for i in range(HISTORY_EVENTS):
            issue.record_opinion("propose", f"opinion {i}", at=app.now(), actor=f"v{i % 50}")
            if i % 2_000 == 1_999:
                app.save(issue)
        app.save(issue)
        entries = app.get_history(issue.id)
        middle, late = entries[HISTORY_EVENTS // 2].timestamp, entries[-2].timestamp
        history_seconds = min(_timed(lambda: app.get_history(issue.id)) for _ in range(3))
        page_seconds = min(
            _timed(lambda: app.get_history(issue.id, after=HISTORY_EVENTS // 2, limit=1_000))
            for _ in range(3)
        )
        first_seconds = _timed(lambda: app.get_state_as_of(issue.id, late))  # takes snapshots
        as_of_seconds = min(_timed(lambda: app.get_state_as_of(issue.id, middle)) for _ in range(3))
        late_seconds = min(_timed(lambda: app.get_state_as_of(issue.id, late)) for _ in range(3))
        raw_seconds = min(_timed(lambda: app.recorder.select_events(issue.id)) for _ in range(3))
        app.close()
    return {
        "history_10000": {
            "events": HISTORY_EVENTS,
            "history_page_1000_ms": round(page_seconds * 1000, 1),
            "whole_history_ms": round(history_seconds * 1000, 1),
            "as_of_first_ms": round(first_seconds * 1000, 1),
            "as_of_middle_ms": round(as_of_seconds * 1000, 1),
            "as_of_latest_ms": round(late_seconds * 1000, 1),
            "raw_read_ms": round(raw_seconds * 1000, 1),
            "target_ms": 50,
        }
    }


class _Ticking:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> Any:
        self.now += timedelta(seconds=1)
        return self.now


def run(progress: Callable[[str], None]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    progress("ballots through the application vs raw saves (SQLite) ...")
    results["ballots_sqlite"] = ballots("sqlite")
    try:
        progress("ballots through the application vs raw saves (PostgreSQL) ...")
        results["ballots_postgres"] = ballots("postgres")
    except Exception as error:  # a laptop without PostgreSQL still gets the other figures
        results["ballots_postgres"] = {"skipped": str(error).splitlines()[0]}
    progress(f"tally of {HOUSEHOLDS} owners and audit verify ...")
    results.update(tally_and_verify())
    progress(f"history and as-of of {HISTORY_EVENTS} events ...")
    results.update(history())
    return results
