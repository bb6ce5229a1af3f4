"""Reading the notification log fast, as plain tuples, for whole-log work (tallies, the audit
chain, exports): eventsourcing's reader builds a UUID object per record, which dominates."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder


class Record(NamedTuple):
    id: int
    originator: str  # the originator's UUID as 32 hex digits
    version: int
    topic: str
    state: bytes


class LogReader(Protocol):
    def records(
        self, after: int, limit: int, *, stop: int | None = None, topics: Sequence[str] = ()
    ) -> list[Record]: ...

    def last_id(self) -> int:
        """The id of the last record in the log (0 for none)."""
        ...


def _where(
    after: int, stop: int | None, topics: Sequence[str], id_column: str, p: str
) -> tuple[str, list[Any]]:
    clauses = [f"{id_column} > {p}"]
    params: list[Any] = [after]
    if stop is not None:
        clauses.append(f"{id_column} <= {p}")
        params.append(stop)
    if topics:
        clauses.append(f"topic IN ({', '.join(p for _ in topics)})")
        params.extend(topics)
    return " AND ".join(clauses), params


class SqliteLogReader:
    """Reads through one connection per thread, kept open: a page asks "anything new?" many
    times, and opening the file costs more than the question."""

    def __init__(self, path: str, table: str = "stored_events") -> None:
        self.path, self.table = path, table
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # autocommit: no statement leaves a read transaction open between questions
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._local.conn = conn
        return conn

    def records(
        self, after: int, limit: int, *, stop: int | None = None, topics: Sequence[str] = ()
    ) -> list[Record]:
        where, params = _where(after, stop, topics, "rowid", "?")
        rows = (
            self._connection()
            .execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.table} "
                f"WHERE {where} ORDER BY rowid LIMIT ?",
                [*params, limit],
            )
            .fetchall()
        )
        return [Record(r[0], r[1].replace("-", ""), r[2], r[3], r[4]) for r in rows]

    def last_id(self) -> int:
        row = self._connection().execute(f"SELECT max(rowid) FROM {self.table}").fetchone()
        return int(row[0] or 0)


class PostgresLogReader:
    """Reads through one autocommit connection per thread, kept open (see
    :class:`SqliteLogReader`); a broken connection (the server restarted) is opened again."""

    def __init__(self, conninfo: str, table: str) -> None:
        self.conninfo, self.table = conninfo, table
        self._local = threading.local()

    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        import psycopg

        for attempt in (1, 2):
            conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
            if conn is None or conn.closed:
                conn = psycopg.connect(self.conninfo, autocommit=True)
                self._local.conn = conn
            try:
                return conn.execute(sql, params).fetchall()
            except psycopg.OperationalError:
                self._local.conn = None
                conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def records(
        self, after: int, limit: int, *, stop: int | None = None, topics: Sequence[str] = ()
    ) -> list[Record]:
        where, params = _where(after, stop, topics, "notification_id", "%s")
        rows = self._query(
            "SELECT notification_id, replace(originator_id::text, '-', ''), "
            f"originator_version, topic, state FROM {self.table} WHERE {where} "
            "ORDER BY notification_id LIMIT %s",
            [*params, limit],
        )
        return [Record(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]

    def last_id(self) -> int:
        rows = self._query(f"SELECT max(notification_id) FROM {self.table}", [])
        return int(rows[0][0] or 0) if rows else 0


class RecorderLogReader:
    """Any eventsourcing recorder (the in-memory one in tests)."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def records(
        self, after: int, limit: int, *, stop: int | None = None, topics: Sequence[str] = ()
    ) -> list[Record]:
        return [
            Record(
                n.id,
                n.originator_id.hex if isinstance(n.originator_id, UUID) else str(n.originator_id),
                n.originator_version,
                n.topic,
                n.state,
            )
            for n in self.recorder.select_notifications(
                after, limit, stop=stop, topics=topics, inclusive_of_start=False
            )
        ]

    def last_id(self) -> int:
        return int(self.recorder.max_notification_id() or 0)


def scan(
    reader: LogReader,
    after: int = 0,
    *,
    stop: int | None = None,
    topics: Sequence[str] = (),
    batch: int = 10_000,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Record]:
    """Every record after ``after`` (up to ``stop``), in log order, read in batches."""
    position = after
    while True:
        records = reader.records(position, batch, stop=stop, topics=topics)
        yield from records
        if progress and records:
            progress(len(records))
        if len(records) < batch:
            return
        position = records[-1].id
