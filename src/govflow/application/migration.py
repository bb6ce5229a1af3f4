"""Copying the whole event log between stores (SQLite ⇄ PostgreSQL) without losing one event.

Notification ids, order and stored bytes are kept exactly, so the audit chain recomputed on the
target gives the same digests, and published checkpoints still verify. The copy goes in
batches, one transaction each, and resumes after the target's last record.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import Notification

from govflow.application.audit_store import iterate_links
from govflow.application.core import postgres_conninfo
from govflow.application.governance import Governance
from govflow.domain.errors import InvalidInputError, TargetNotEmptyError

BATCH = 2_000
Writer = Callable[[Sequence[Notification]], None]


@dataclass
class MigrationReport:
    copied: int = 0
    already_there: int = 0
    chain_links: int = 0
    checkpoints: int = 0


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
    """Copy every record of ``source``'s log (and its audit chain) into ``target``.

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
    return report
