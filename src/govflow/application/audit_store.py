"""Where the audit hash chain and its checkpoints are kept: beside the events, same database."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from govflow.application.sql_tables import SqlTables, postgres_connector, sqlite_connector


@dataclass(frozen=True)
class Link:
    """The chain digest after the record at ``position`` (1-based) of the log."""

    position: int
    notification_id: int
    digest: str


@dataclass(frozen=True)
class Checkpoint:
    position: int
    notification_id: int
    digest: str
    recorded_at: datetime


class AuditStore(Protocol):
    def head(self) -> Link | None: ...
    def append(self, links: Sequence[Link]) -> None: ...
    def links(self, after_position: int, limit: int) -> list[Link]: ...
    def add_checkpoint(self, checkpoint: Checkpoint) -> None: ...
    def checkpoints(self) -> list[Checkpoint]: ...


class InMemoryAuditStore:
    def __init__(self) -> None:
        self._links: list[Link] = []
        self._checkpoints: dict[int, Checkpoint] = {}

    def head(self) -> Link | None:
        return self._links[-1] if self._links else None

    def append(self, links: Sequence[Link]) -> None:
        expected = len(self._links) + 1
        if links and links[0].position != expected:
            raise RuntimeError("the audit chain was extended concurrently")
        self._links.extend(links)

    def links(self, after_position: int, limit: int) -> list[Link]:
        return self._links[after_position : after_position + limit]

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        self._checkpoints.setdefault(checkpoint.position, checkpoint)

    def checkpoints(self) -> list[Checkpoint]:
        return [self._checkpoints[p] for p in sorted(self._checkpoints)]


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS audit_chain (position BIGINT PRIMARY KEY, "
    "notification_id BIGINT NOT NULL, digest TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_checkpoints (position BIGINT PRIMARY KEY, "
    "notification_id BIGINT NOT NULL, digest TEXT NOT NULL, recorded_at TEXT NOT NULL)",
)


class SqlAuditStore(SqlTables):
    """The chain in two tables, through any DB-API connection factory (SQLite, PostgreSQL)."""

    def __init__(self, connect: Callable[[], Any], placeholder: str) -> None:
        super().__init__(connect, placeholder, _SCHEMA)

    def head(self) -> Link | None:
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT position, notification_id, digest FROM audit_chain "
                "ORDER BY position DESC LIMIT 1"
            )
            row = cursor.fetchone()
        return Link(*row) if row else None

    def append(self, links: Sequence[Link]) -> None:
        p = self._p
        with self._transaction() as cursor:
            cursor.executemany(
                f"INSERT INTO audit_chain (position, notification_id, digest) VALUES ({p},{p},{p})",
                [(link.position, link.notification_id, link.digest) for link in links],
            )

    def links(self, after_position: int, limit: int) -> list[Link]:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT position, notification_id, digest FROM audit_chain "
                f"WHERE position > {p} ORDER BY position LIMIT {p}",
                (after_position, limit),
            )
            return [Link(*row) for row in cursor.fetchall()]

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT 1 FROM audit_checkpoints WHERE position = {p}", (checkpoint.position,)
            )
            if cursor.fetchone():
                return
            cursor.execute(
                "INSERT INTO audit_checkpoints (position, notification_id, digest, recorded_at) "
                f"VALUES ({p},{p},{p},{p})",
                (
                    checkpoint.position,
                    checkpoint.notification_id,
                    checkpoint.digest,
                    checkpoint.recorded_at.isoformat(),
                ),
            )

    def checkpoints(self) -> list[Checkpoint]:
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT position, notification_id, digest, recorded_at "
                "FROM audit_checkpoints ORDER BY position"
            )
            rows = cursor.fetchall()
        return [Checkpoint(r[0], r[1], r[2], datetime.fromisoformat(r[3])) for r in rows]


def sqlite_audit_store(path: str) -> SqlAuditStore:
    return SqlAuditStore(sqlite_connector(path), "?")


def postgres_audit_store(conninfo: str) -> SqlAuditStore:
    return SqlAuditStore(postgres_connector(conninfo), "%s")


def iterate_links(store: AuditStore, batch: int = 10_000) -> Iterator[Link]:
    position = 0
    while True:
        links = store.links(position, batch)
        yield from links
        if len(links) < batch:
            return
        position = links[-1].position
