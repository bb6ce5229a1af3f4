"""Copying the whole event log between stores (SQLite ⇄ PostgreSQL) without losing one event.

Notification ids, order and stored bytes are kept exactly, so the audit chain recomputed on the
target gives the same digests, and published checkpoints still verify. The copy goes in
batches, one transaction each, and resumes after the target's last record.

Once the log is complete, what is kept beside it follows: the webhook subscriptions' signing
secrets, their delivery cursors and recent failures, the answered Idempotency-Key requests
(reservations still in progress are not copied), and members' contacts with the notifier's
position and pending deliveries, and the uploaded files kept in the database (those kept in a
directory stay where they are); then the verifiable log's tree, rebuilt from the copied
records (the same leaves), and every signed checkpoint, each checked against it. Secrets and
answers are copied sealed, as they are: with ``GOVFLOW_CIPHER_KEY`` set, the target must use
the same key (as for the events themselves, which the same key encrypts; ``govflow migrate``
opens both stores with the one configuration, so it does).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import Notification

from govflow.application.audit_store import iterate_links
from govflow.application.core import postgres_conninfo
from govflow.application.evidence_store import copy_evidence, database_evidence
from govflow.application.governance import Governance
from govflow.application.sealer import copy_log_tree
from govflow.application.webhook_store import DeliveryState, Failure
from govflow.domain.errors import InvalidInputError, TargetNotEmptyError

BATCH = 2_000
Writer = Callable[[Sequence[Notification]], None]


@dataclass
class MigrationReport:
    copied: int = 0
    already_there: int = 0
    chain_links: int = 0
    checkpoints: int = 0
    webhook_secrets: int = 0
    webhook_cursors: int = 0
    idempotency_answers: int = 0
    contacts: int = 0
    log_checkpoints: int = 0  # the verifiable log's signed checkpoints
    evidence_files: int = 0  # uploaded files kept in the database (GOVFLOW_EVIDENCE_STORE)


def _kind(app: Governance) -> str:
    if app.store_kind == "memory":
        raise InvalidInputError("migration copies between SQLite and PostgreSQL stores")
    return app.store_kind


def _sqlite_writer(app: Governance) -> Writer:
    path = app.env.get("SQLITE_DBNAME") or ""

    def write(batch: Sequence[Notification]) -> None:
        with sqlite3.connect(path, timeout=30) as conn:
            conn.executemany(
                "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, "
                "state) VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        n.id,
                        n.originator_id.hex
                        if isinstance(n.originator_id, UUID)
                        else n.originator_id,
                        n.originator_version,
                        n.topic,
                        n.state,
                    )
                    for n in batch
                ],
            )

    return write


def _postgres_writer(app: Governance) -> Writer:
    import psycopg

    conninfo = postgres_conninfo(app.env.get)
    table = f"{app.name.lower()}_events"

    def write(batch: Sequence[Notification]) -> None:
        with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (notification_id, originator_id, originator_version, "
                "topic, state) VALUES (%s, %s, %s, %s, %s)",
                [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in batch],
            )
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'notification_id'), "
                f"(SELECT max(notification_id) FROM {table}))"
            )

    return write


def migrate(
    source: Governance,
    target: Governance,
    *,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    max_batches: int | None = None,
) -> MigrationReport:
    """Copy every record of ``source``'s log (and its audit chain) into ``target``, then the
    webhook secrets, cursors and failures and the answered Idempotency-Keys kept beside it.

    Refuses a target that already holds records unless ``resume`` is set, in which case it
    continues after the target's last record. ``max_batches`` stops early (tests, drills).
    """
    already = target.recorder.max_notification_id() or 0
    if already and not resume:
        raise TargetNotEmptyError(
            f"the target already holds {already} record(s): pass --continue to resume a copy"
        )
    write = _sqlite_writer(target) if _kind(target) == "sqlite" else _postgres_writer(target)
    _kind(source)  # refuses an in-memory source too
    report = MigrationReport(already_there=already)
    position, batches = already, 0
    while max_batches is None or batches < max_batches:
        batch = source.recorder.select_notifications(position, BATCH, inclusive_of_start=False)
        if not batch:
            break
        write(batch)
        position = batch[-1].id
        report.copied += len(batch)
        batches += 1
        if progress:
            progress(len(batch))
    else:  # stopped by max_batches: the copy is not complete, so neither is the chain
        return report
    head = target.audit_store.head()
    pending = []
    for link in iterate_links(source.audit_store):
        if head is None or link.position > head.position:
            pending.append(link)
        if len(pending) >= BATCH:
            target.audit_store.append(pending)
            report.chain_links += len(pending)
            pending = []
    if pending:
        target.audit_store.append(pending)
        report.chain_links += len(pending)
    for checkpoint in source.list_checkpoints():
        target.audit_store.add_checkpoint(checkpoint)
        report.checkpoints += 1
    _copy_side_tables(source, target, report)
    report.log_checkpoints = copy_log_tree(source, target)
    return report


def _copy_side_tables(source: Governance, target: Governance, report: MigrationReport) -> None:
    """Copy the webhook secrets, cursors and failures, and the answered idempotency keys.

    Safe to run again: secrets are overwritten with the same sealed value; a cursor (with its
    recent failures) is copied only where the target has none yet or is behind the source, so
    a target that has delivered since keeps its own; an answer already kept on the target
    stays as it is.
    """
    source_hooks, target_hooks = source.webhook_store, target.webhook_store
    for subscription_id, sealed in source_hooks.all_secrets().items():
        target_hooks.keep_secret(subscription_id, sealed)
        report.webhook_secrets += 1
    failures: dict[str, list[Failure]] = {}
    for failure in source_hooks.all_failures():
        failures.setdefault(failure.subscription_id, []).append(failure)
    for state in source_hooks.all_states():
        there = target_hooks.state(state.subscription_id)
        if there != DeliveryState(state.subscription_id) and there.position >= state.position:
            continue  # the target has moved on (or is where the source is): keep its own
        target_hooks.save(state)
        target_hooks.put_failures(state.subscription_id, failures.get(state.subscription_id, []))
        report.webhook_cursors += 1
    for caller, key, kept in source.idempotency_store.answered():
        if target.idempotency_store.put_answered(caller, key, kept):
            report.idempotency_answers += 1
    _copy_notifications(source, target, report)
    report.evidence_files = copy_evidence(database_evidence(source), database_evidence(target))


def _copy_notifications(source: Governance, target: Governance, report: MigrationReport) -> None:
    """Copy members' contacts (sealed as they are), the notifier's position (unless the
    target's is further on) and its deliveries still to attempt."""
    source_store, target_store = source.notification_store, target.notification_store
    for row in source_store.all_contacts():
        target_store.put_contact(row)
        report.contacts += 1
    position, there = source_store.position(), target_store.position()
    if position is not None and (there is None or there < position):
        target_store.save_position(position)
    for delivery_id, due in source_store.pending().items():
        target_store.put_pending(delivery_id, due)
