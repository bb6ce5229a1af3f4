"""Moving off the embedded store: SQLite → PostgreSQL (and back) without losing one event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application.migration import migrate
from govflow.application.specimens import SteppingClock, play
from govflow.domain.errors import TargetNotEmptyError
from govflow.domain.ids import spending_id
from tests.conftest import postgres_env

pytestmark = pytest.mark.postgres


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Governance]:
    app = Governance(
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.db"),
        },
        clock=SteppingClock(),
    )
    play(app)
    yield app
    app.close()


@pytest.fixture
def postgres_app(postgres_db: str) -> Iterator[Governance]:
    app = Governance(postgres_env(postgres_db))
    yield app
    app.close()


def test_copy_keeps_ids_order_and_the_published_digest(
    sqlite_app: Governance, postgres_app: Governance
) -> None:
    """Every record arrives with its id; the checkpoint published before verifies after."""
    published = sqlite_app.record_checkpoint()
    sqlite_app.enroll_member("specimen", "late", "后来者", actor="clerk")  # not yet sealed
    report = migrate(sqlite_app, postgres_app)
    total = sqlite_app.recorder.max_notification_id()
    assert report.copied == total == postgres_app.recorder.max_notification_id()
    assert report.chain_links == published.position and report.checkpoints == 1
    verified = postgres_app.verify_audit_chain({published.position: published.digest})
    assert verified.ok and verified.checked == published.position and verified.unsealed == 1
    assert postgres_app.record_checkpoint().position == total
    spending = spending_id("specimen", 1)
    assert postgres_app.get_history(spending) == sqlite_app.get_history(spending)
    postgres_app.enroll_member("specimen", "new", "新成员", actor="clerk")
    assert postgres_app.recorder.max_notification_id() == total + 1  # the sequence moved on


def test_refuses_a_non_empty_target_and_resumes_when_told(
    sqlite_app: Governance, postgres_app: Governance
) -> None:
    """An interrupted copy resumes after the last record; without --continue it is refused."""
    migrate(sqlite_app, postgres_app, max_batches=0)
    from govflow.application import migration

    migration.BATCH, batch = 10, migration.BATCH
    try:
        first = migrate(sqlite_app, postgres_app, max_batches=2)
        assert first.copied == 20
        with pytest.raises(TargetNotEmptyError):
            migrate(sqlite_app, postgres_app)
        rest = migrate(sqlite_app, postgres_app, resume=True)
    finally:
        migration.BATCH = batch
    assert rest.already_there == 20
    assert first.copied + rest.copied == sqlite_app.recorder.max_notification_id()
    postgres_app.record_checkpoint()
    assert postgres_app.verify_audit_chain().ok


def test_and_back_to_sqlite(
    sqlite_app: Governance, postgres_app: Governance, tmp_path: Path
) -> None:
    """PostgreSQL → SQLite works the same way (a district can move back to one machine)."""
    checkpoint = sqlite_app.record_checkpoint()
    migrate(sqlite_app, postgres_app)
    back = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "back.db")}
    )
    try:
        migrate(postgres_app, back)
        assert back.verify_audit_chain({checkpoint.position: checkpoint.digest}).ok
        assert back.get_spending("specimen", 1) == sqlite_app.get_spending("specimen", 1)
    finally:
        back.close()
