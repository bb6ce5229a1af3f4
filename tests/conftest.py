"""Shared fixtures: one Governance per persistence (in memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import fcntl
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from pydantic import SecretStr

from govflow.application import Governance
from govflow.application.specimens import SteppingClock
from govflow.bootstrap import cipher_env

PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
TEST_CIPHER_KEY = "q3ZbG2f6cJx0hT4V1m8yWkR5nE7pA9sD3uLzQ2wXy0c="  # AES-256, tests only
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# No timed assertions in tests: these machines are shared and noisy, and hypothesis's default
# 200 ms deadline per example failed a request that took 365 ms once under load.
settings.register_profile("govflow", deadline=None)
settings.load_profile("govflow")

# Temporary files (tmp_path: the tests' SQLite stores, `govflow up`'s data and its Temporal dev
# server's database) in memory: every SQLite commit is an fsync, and on this disk the fsyncs were
# most of many tests' time (a specimen council played into SQLite: 0.3 s here, 0.6-1 s on disk).
# Nothing tested depends on surviving the machine's crash. TMPDIR set by the caller wins.
SHM = Path("/dev/shm")
if not os.environ.get("TMPDIR") and SHM.is_dir() and os.access(SHM, os.W_OK):
    tempfile.tempdir = str(SHM)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `make test`'s workers, the files with end-to-end (``e2e``, the longest) tests go
    first, each file's tests still together and in their order: a worker given one of them
    last would run on alone at the end."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    slow = {item.path for item in items if item.get_closest_marker("e2e")}
    items.sort(key=lambda item: item.path not in slow)


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(
            f"host={PG['host']} port={PG['port']} user={PG['user']} "
            "dbname=postgres connect_timeout=3"
        ):
            return True
    except Exception:
        return False


def require_postgres() -> None:
    """Skip on a laptop without PostgreSQL; fail in CI, where it must be there."""
    if postgres_available():
        return
    if IN_CI:
        pytest.fail("PostgreSQL is required at 127.0.0.1:5432 when CI=true")
    pytest.skip("no PostgreSQL at 127.0.0.1:5432")


@dataclass
class Store:
    kind: str
    env: dict[str, str]
    path: Path | None = None
    dbname: str | None = None


@pytest.fixture
def postgres_turn(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Under `make test`'s workers (pytest-xdist), a test that uses PostgreSQL shares the server
    with the other workers' such tests, except a ``postgres_alone`` test (it restarts the
    server), which has it to itself: a shared or exclusive flock on one file of the run. In one
    process there is no one to share with."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    alone = request.node.get_closest_marker("postgres_alone") is not None
    path = tmp_path_factory.getbasetemp().parent / "postgres.lock"
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _postgres_marked(request: pytest.FixtureRequest) -> None:
    """Every test marked ``postgres`` takes its turn (see ``postgres_turn``) from its start."""
    if request.node.get_closest_marker("postgres") or request.node.get_closest_marker(
        "postgres_alone"
    ):
        request.getfixturevalue("postgres_turn")


@pytest.fixture
def postgres_db(postgres_turn: None) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    require_postgres()
    import psycopg

    name = f"govflow_test_{uuid.uuid4().hex[:10]}"
    admin = f"host={PG['host']} port={PG['port']} user={PG['user']} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        # commits need not wait for the WAL's fsync (nothing tested survives a crash of the
        # machine; locking and isolation are the same)
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    yield name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_env(dbname: str) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": PG["host"],
        "POSTGRES_PORT": PG["port"],
        "POSTGRES_USER": PG["user"],
        "POSTGRES_PASSWORD": "",
        "POSTGRES_PRE_PING": "y",
    }


def _store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if kind == "memory":
        return Store("memory", {"PERSISTENCE_MODULE": "eventsourcing.popo"})
    if kind in ("sqlite", "sqlite-encrypted"):
        path = tmp_path / "events.db"
        cipher = cipher_env(SecretStr(TEST_CIPHER_KEY)) if kind == "sqlite-encrypted" else {}
        return Store(
            "sqlite",
            {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path), **cipher},
            path=path,
        )
    dbname = request.getfixturevalue("postgres_db")
    return Store("postgres", postgres_env(dbname), dbname=dbname)


POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(params=["memory", "sqlite", "sqlite-encrypted", POSTGRES])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Every persistence govflow supports."""
    return _store(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", POSTGRES])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The persistences with rows someone could edit behind the engine's back."""
    return _store(request.param, request, tmp_path)


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def app(store: Store, clock: SteppingClock) -> Iterator[Governance]:
    governance = Governance(store.env, clock=clock)
    yield governance
    governance.close()


@pytest.fixture
def sql_app(sql_store: Store, clock: SteppingClock) -> Iterator[Governance]:
    governance = Governance(sql_store.env, clock=clock)
    yield governance
    governance.close()
