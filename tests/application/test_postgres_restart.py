"""PostgreSQL restarted while eight clients cast ballots (duplicates mixed in): afterwards every
accepted ballot is there once, the tally is exact, and the audit chain verifies."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError

from govflow.application import Governance
from govflow.bench.store import MAJORITY, _at_vote, _council
from govflow.domain.ballot import Choice, SecretChoiceCast, TookPart
from govflow.domain.council import Body
from govflow.domain.errors import DoubleVoteError
from tests.conftest import IN_CI, postgres_env

# it restarts the server: under `make test`'s workers, no other PostgreSQL test runs meanwhile
pytestmark = [pytest.mark.postgres, pytest.mark.postgres_alone]

VOTERS = 800
CLIENTS = 8
PACE = 0.03  # seconds between one client's ballots


def cluster() -> list[str]:
    """The command that restarts the local PostgreSQL cluster (Debian's pg_ctlcluster)."""
    versions = sorted(os.listdir("/etc/postgresql")) if Path("/etc/postgresql").is_dir() else []
    tool = shutil.which("pg_ctlcluster")
    if not versions or tool is None or os.geteuid() != 0:
        if IN_CI:
            pytest.fail("restarting PostgreSQL needs root and Debian's pg_ctlcluster in CI")
        pytest.skip("cannot restart the local PostgreSQL here")
    return [tool, "--skip-systemctl-redirect", versions[-1], "main", "restart"]


@pytest.fixture
def app(postgres_db: str) -> Iterator[Governance]:
    governance = Governance(postgres_env(postgres_db))
    yield governance
    governance.close()


def wait_for_postgres(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres connect_timeout=2"):
                return
        except psycopg.Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def started_at() -> datetime:
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres connect_timeout=5") as c:
        row = c.execute("SELECT pg_postmaster_start_time()").fetchone()
    assert row is not None
    value: datetime = row[0]
    return value


def test_ballots_survive_a_postgresql_restart(app: Governance) -> None:
    restart = cluster()
    _council(app, VOTERS)
    _at_vote(app, Body.RESIDENTS_REPRESENTATIVES, MAJORITY)
    accepted: set[str] = set()
    refused_twice: list[str] = []
    failures: list[str] = []
    cast_after_restart = 0
    retries = 0
    restarted = threading.Event()
    lock = threading.Lock()

    def client(voters: list[str]) -> None:
        nonlocal cast_after_restart, retries
        for n, voter in enumerate(voters):
            time.sleep(PACE)  # clients at a person's pace, so the restart lands mid-vote
            attempts = [voter] + ([voters[n - 1]] if n % 10 == 9 else [])  # a duplicate
            for who in attempts:
                for _ in range(300):
                    try:
                        app.cast_ballot("bench", 1, who, Choice.YES if n % 3 else Choice.NO)
                        with lock:
                            if who in accepted:
                                failures.append(f"{who} accepted twice")
                            accepted.add(who)
                            cast_after_restart += restarted.is_set()
                        break
                    except DoubleVoteError:
                        with lock:
                            if who in accepted:
                                refused_twice.append(who)
                            else:  # recorded before the connection dropped: it counts
                                accepted.add(who)
                        break
                    except (PersistenceError, psycopg.Error):
                        with lock:
                            retries += 1
                        time.sleep(0.05)  # the server is restarting: try again
                else:
                    failures.append(f"{who}: gave up")

    voters = [f"v{i}" for i in range(VOTERS)]
    threads = [threading.Thread(target=client, args=(voters[i::CLIENTS],)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    while len(accepted) < VOTERS // 4:
        time.sleep(0.01)
    cast_before = len(accepted)
    before = started_at()
    done = subprocess.run(restart, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    wait_for_postgres()
    restarted.set()
    for thread in threads:
        thread.join(240)
        assert not thread.is_alive()

    assert failures == []
    assert accepted == set(voters)
    assert len(refused_twice) >= VOTERS // 10 - CLIENTS  # the duplicates were refused
    # the restart did land mid-vote: a new server process, ballots on both sides of it
    assert started_at() > before and cast_after_restart > 0 and cast_before > 0
    # (the store's own retries and pre-ping usually hide the outage: retries may be 0)
    assert retries < VOTERS
    issue = app.issue("bench", 1)
    # a secret vote: who took part, and the choices apart, one for one; none lost or doubled
    recorded = app.log_reader.records(0, 1_000_000, topics=[TookPart.TOPIC])
    assert len(recorded) == len({r.originator for r in recorded}) == VOTERS
    choices = app.log_reader.records(0, 1_000_000, topics=[SecretChoiceCast.TOPIC])
    assert len(choices) == len({r.originator for r in choices}) == VOTERS
    tally = app.close_voting("bench", 1, "deadline", actor="system")
    assert tally.participating == VOTERS
    assert tally.yes + tally.no == VOTERS
    assert issue.voting is not None
    app.extend_audit_chain()
    assert app.verify_audit_chain().ok
