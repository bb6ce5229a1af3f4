"""Moving off the embedded store: SQLite → PostgreSQL (and back) without losing one event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application.idempotency import Replay, Reservation
from govflow.application.migration import migrate
from govflow.application.specimens import SteppingClock, play
from govflow.application.webhook_http import Target
from govflow.application.webhooks import verify_signature
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


ALLOW_LOCAL = {"GOVFLOW_WEBHOOK_ALLOW_HOSTS": "127.0.0.1"}


class Sender:
    """Answers 204, or 503 for the subscriptions listed in ``failing``; keeps what it got."""

    def __init__(self, *failing: str) -> None:
        self.failing = set(failing)
        self.sent: list[tuple[dict[str, str], bytes]] = []

    def __call__(self, target: Target, body: bytes, headers: dict[str, str]) -> int:
        if headers["Govflow-Subscription"] in self.failing:
            return 503
        self.sent.append((headers, body))
        return 204


def test_webhook_secrets_cursors_and_idempotent_answers_come_along(
    tmp_path: Path, postgres_db: str
) -> None:
    """After the copy the target signs with the same secrets, goes on from the cursors (not
    from 0), keeps the failures, and replays answered Idempotency-Keys; reservations still
    in progress are not copied. Copying again (--continue) changes nothing."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    source = Governance({**env, **ALLOW_LOCAL}, clock=SteppingClock())
    target = Governance({**postgres_env(postgres_db), **ALLOW_LOCAL}, clock=SteppingClock())
    try:
        play(source)
        ok = source.subscribe_webhook("specimen", "http://127.0.0.1:9/ok", actor="clerk")
        down = source.subscribe_webhook("specimen", "http://127.0.0.1:9/down", actor="clerk")
        sid, down_sid = str(ok.subscription.id), str(down.subscription.id)
        source.enroll_member("specimen", "late", "后来者", actor="clerk")
        assert source.deliver_webhooks(Sender(down_sid)) == 1
        cursor = source.webhook_store.state(sid)
        assert cursor.position == source.recorder.max_notification_id() and cursor.delivered == 1
        failures = source.webhook_store.failures(down_sid)
        assert len(failures) == 1
        held = source.reserve_request("clerk", "key-answered", "sha-1", now=1_000.0)
        assert isinstance(held, Reservation)
        source.keep_answer(held, 201, '{"done": true}')
        pending = source.reserve_request("clerk", "key-pending", "sha-2", now=1_000.0)
        assert isinstance(pending, Reservation)

        report = migrate(source, target)
        subscriptions = len(source.directory.webhooks())  # the specimens subscribe one too
        assert report.webhook_secrets == report.webhook_cursors == subscriptions == 3
        assert report.idempotency_answers == 1
        for subscription in (sid, down_sid):
            assert target.webhook_store.secret(subscription) == source.webhook_store.secret(
                subscription
            )
        assert target.webhook_store.state(sid) == cursor
        assert target.webhook_store.state(down_sid) == source.webhook_store.state(down_sid)
        assert target.webhook_store.failures(down_sid) == failures
        replay = target.reserve_request("clerk", "key-answered", "sha-1", now=1_001.0)
        assert replay == Replay(201, '{"done": true}')
        assert isinstance(
            target.reserve_request("clerk", "key-pending", "sha-2", now=1_001.0), Reservation
        )  # not copied: free on the target

        target.enroll_member("specimen", "new", "新成员", actor="clerk")
        send = Sender(down_sid)
        assert target.deliver_webhooks(send) == 1  # only the new event: the cursor came along
        headers, body = send.sent[0]
        assert headers["Govflow-Subscription"] == sid
        assert headers["Govflow-Delivery"] == str(target.recorder.max_notification_id())
        stamp = int(headers["Govflow-Signature"].split(",")[0].split("=")[1])
        assert verify_signature(ok.secret, body, headers["Govflow-Signature"], now=stamp)
        moved = target.webhook_store.state(sid)
        assert moved.position > cursor.position
        kept_failures = target.webhook_store.failures(down_sid)

        again = migrate(source, target, resume=True)
        assert again.copied == 0 and again.idempotency_answers == 0
        assert target.webhook_store.state(sid) == moved  # the target's further cursor stays
        assert target.webhook_store.failures(down_sid) == kept_failures  # not doubled
        assert target.webhook_store.secret(sid) == source.webhook_store.secret(sid)
        assert target.reserve_request("clerk", "key-answered", "sha-1", now=1_002.0) == replay
    finally:
        source.close()
        target.close()


def test_the_in_memory_side_stores_export_and_import_the_same_way() -> None:
    """The in-memory stores answer the copying methods like the SQL ones."""
    from datetime import UTC, datetime

    from govflow.application.idempotency_store import InMemoryIdempotencyStore, KeptRequest
    from govflow.application.webhook_store import DeliveryState, Failure, InMemoryWebhookStore

    hooks = InMemoryWebhookStore()
    hooks.keep_secret("s", "sealed")
    hooks.save(DeliveryState("s", position=7, delivered=3))
    failure = Failure("s", datetime(2026, 5, 1, tzinfo=UTC), 8, "http_status:503")
    hooks.add_failure(failure)
    copy = InMemoryWebhookStore()
    copy.put_failures("s", hooks.all_failures())
    copy.put_failures("s", hooks.all_failures())
    assert hooks.all_secrets() == {"s": "sealed"}
    assert hooks.all_states() == [DeliveryState("s", position=7, delivered=3)]
    assert copy.failures("s") == [failure]
    keys = InMemoryIdempotencyStore()
    keys.reserve("c", "answered", KeptRequest("h", "r1", 1.0), stale_before=0)
    keys.answer("c", "answered", "r1", 200, "{}")
    keys.reserve("c", "pending", KeptRequest("h", "r2", 1.0), stale_before=0)
    answered = keys.answered()
    assert answered == [("c", "answered", KeptRequest("h", "r1", 1.0, 200, "{}"))]
    other = InMemoryIdempotencyStore()
    assert other.put_answered(*answered[0]) and not other.put_answered(*answered[0])
