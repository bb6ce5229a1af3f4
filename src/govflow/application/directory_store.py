"""Where the directory's rows and its position in the log are kept: beside the events, in the
same database (or in memory for an in-memory store).

Two tables. ``directory_rows`` holds one row per listed thing (a council, an item, a meeting,
a notice, ...): its kind and key, the council it belongs to, an optional reference (the item a
notice is about, ...), the notification id that created it (list order), whether it is active
(an item still running, ...) and its fields as JSON (encrypted with the installation's cipher
when one is set, like the events). ``directory_tracking`` holds the position the rows are
caught up to and the version of the sections that made them. A catch-up batch writes its rows
and the new position in one transaction, holding the tracking row's lock (PostgreSQL: ``SELECT
... FOR UPDATE``; SQLite: ``BEGIN IMMEDIATE``), so any number of processes can catch up the
same rows and none applies a record twice.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredRow:
    kind: str
    key: str
    council: str
    ref: str | None
    seq: int
    active: bool
    data: bytes


@dataclass(frozen=True)
class Query:
    """Which rows of one kind to list (newest first when ``newest_first``)."""

    kind: str
    council: str | None = None
    ref: str | None = None
    active: bool | None = None
    newest_first: bool = False
    before_seq: int | None = None
    limit: int | None = None


class Writer(Protocol):
    """The projection's side of one catch-up transaction, holding its lock."""

    position: int
    version: str

    def by_keys(self, keys: Iterable[str]) -> list[StoredRow]: ...
    def put(self, rows: Sequence[StoredRow]) -> None: ...
    def reset(self, version: str) -> None:
        """Forget every row and start again from position 0 under ``version``."""
        ...

    def advance(self, position: int) -> None: ...


class DirectoryStore(Protocol):
    def tracking(self) -> tuple[int, str]:
        """The position the rows are caught up to and the version that made them."""
        ...

    def writing(self) -> contextlib.AbstractContextManager[Writer]: ...
    def get(self, kind: str, key: str) -> StoredRow | None: ...
    def by_keys(self, keys: Iterable[str]) -> list[StoredRow]: ...
    def by_ref(self, kind: str, ref: str) -> StoredRow | None:
        """The first row of ``kind`` with reference ``ref``."""
        ...

    def select(self, query: Query) -> list[StoredRow]: ...


class InMemoryDirectoryStore:
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], StoredRow] = {}
        self._by_key: dict[str, list[StoredRow]] = {}
        self._position, self._version = 0, ""
        self._lock = threading.RLock()

    def tracking(self) -> tuple[int, str]:
        return self._position, self._version

    @contextlib.contextmanager
    def writing(self) -> Iterator[Writer]:
        with self._lock:
            writer = _MemoryWriter(self)
            yield writer
            for row in writer.rows.values():
                self._rows[(row.kind, row.key)] = row
            if writer.cleared:
                self._by_key = {}
            for row in writer.rows.values():
                same = [r for r in self._by_key.get(row.key, ()) if r.kind != row.kind]
                self._by_key[row.key] = [*same, row]
            self._position, self._version = writer.position, writer.version

    def get(self, kind: str, key: str) -> StoredRow | None:
        return self._rows.get((kind, key))

    def by_keys(self, keys: Iterable[str]) -> list[StoredRow]:
        return [row for key in set(keys) for row in self._by_key.get(key, ())]

    def by_ref(self, kind: str, ref: str) -> StoredRow | None:
        found = self.select(Query(kind, ref=ref, limit=1))
        return found[0] if found else None

    def select(self, query: Query) -> list[StoredRow]:
        rows = [
            r
            for r in list(self._rows.values())
            if r.kind == query.kind
            and (query.council is None or r.council == query.council)
            and (query.ref is None or r.ref == query.ref)
            and (query.active is None or r.active == query.active)
            and (query.before_seq is None or r.seq < query.before_seq)
        ]
        rows.sort(key=lambda r: (r.seq, r.key), reverse=query.newest_first)
        return rows if query.limit is None else rows[: query.limit]


class _MemoryWriter:
    def __init__(self, store: InMemoryDirectoryStore) -> None:
        self._store = store
        self.position, self.version = store._position, store._version
        self.rows: dict[tuple[str, str], StoredRow] = {}
        self.cleared = False

    def by_keys(self, keys: Iterable[str]) -> list[StoredRow]:
        return [] if self.cleared else self._store.by_keys(keys)

    def put(self, rows: Sequence[StoredRow]) -> None:
        for row in rows:
            self.rows[(row.kind, row.key)] = row

    def reset(self, version: str) -> None:
        self._store._rows.clear()
        self.rows.clear()
        self.cleared, self.position, self.version = True, 0, version

    def advance(self, position: int) -> None:
        self.position = position


def _schema(blob: str) -> tuple[str, ...]:
    return (
        "CREATE TABLE IF NOT EXISTS directory_rows (kind TEXT NOT NULL, row_key TEXT NOT NULL, "
        "council TEXT NOT NULL, ref TEXT, seq BIGINT NOT NULL, active INTEGER NOT NULL, "
        f"data {blob} NOT NULL, PRIMARY KEY (kind, row_key))",
        "CREATE INDEX IF NOT EXISTS directory_rows_by_council "
        "ON directory_rows (kind, council, seq)",
        "CREATE INDEX IF NOT EXISTS directory_rows_by_key ON directory_rows (row_key)",
        "CREATE INDEX IF NOT EXISTS directory_rows_by_ref ON directory_rows (kind, ref)",
        "CREATE INDEX IF NOT EXISTS directory_rows_active ON directory_rows (kind, active)",
        "CREATE TABLE IF NOT EXISTS directory_tracking (name TEXT PRIMARY KEY, "
        "position BIGINT NOT NULL, version TEXT NOT NULL)",
    )


_COLUMNS = "kind, row_key, council, ref, seq, active, data"


def _row(values: Sequence[Any]) -> StoredRow:
    kind, key, council, ref, seq, active, data = values
    return StoredRow(kind, key, council, ref, int(seq), bool(active), bytes(data))


class SqlDirectoryStore:
    """The rows and the tracking position in two tables, through a DB-API connection
    factory (SQLite with ``?``, PostgreSQL with ``%s``)."""

    NAME = "directory"

    def __init__(self, connect: Callable[[], Any], placeholder: str, blob: str) -> None:
        from govflow.application.sql_tables import SqlTables

        self._tables = SqlTables(connect, placeholder, _schema(blob))
        self._p = placeholder
        self._postgres = placeholder == "%s"
        with self._tables._transaction() as cursor:
            # the tracking row exists before anyone locks it
            cursor.execute(
                "INSERT INTO directory_tracking (name, position, version) "
                f"VALUES ({self._p}, 0, '') ON CONFLICT (name) DO NOTHING",
                (self.NAME,),
            )

    def tracking(self) -> tuple[int, str]:
        with self._tables._transaction() as cursor:
            cursor.execute(
                f"SELECT position, version FROM directory_tracking WHERE name = {self._p}",
                (self.NAME,),
            )
            row = cursor.fetchone()
        return (int(row[0]), str(row[1])) if row else (0, "")

    @contextlib.contextmanager
    def writing(self) -> Iterator[Writer]:
        with self._tables._transaction() as cursor:
            if not self._postgres:
                connection = self._tables._connection()
                if connection.in_transaction:
                    connection.commit()
                cursor.execute("BEGIN IMMEDIATE")  # the database's write lock, until commit
            lock = " FOR UPDATE" if self._postgres else ""
            cursor.execute(
                f"SELECT position, version FROM directory_tracking WHERE name = {self._p}{lock}",
                (self.NAME,),
            )
            position, version = cursor.fetchone()
            writer = _SqlWriter(cursor, self._p, int(position), str(version))
            yield writer
            cursor.execute(
                f"UPDATE directory_tracking SET position = {self._p}, version = {self._p} "
                f"WHERE name = {self._p}",
                (writer.position, writer.version, self.NAME),
            )

    def get(self, kind: str, key: str) -> StoredRow | None:
        p = self._p
        with self._tables._transaction() as cursor:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM directory_rows WHERE kind = {p} AND row_key = {p}",
                (kind, key),
            )
            found = cursor.fetchone()
        return _row(found) if found else None

    def by_keys(self, keys: Iterable[str]) -> list[StoredRow]:
        with self._tables._transaction() as cursor:
            return _by_keys(cursor, self._p, keys)

    def by_ref(self, kind: str, ref: str) -> StoredRow | None:
        found = self.select(Query(kind, ref=ref, limit=1))
        return found[0] if found else None

    def select(self, query: Query) -> list[StoredRow]:
        p = self._p
        clauses, params = [f"kind = {p}"], [query.kind]
        for column, value in (("council", query.council), ("ref", query.ref)):
            if value is not None:
                clauses.append(f"{column} = {p}")
                params.append(value)
        if query.active is not None:
            clauses.append(f"active = {p}")
            params.append(int(query.active))  # type: ignore[arg-type]
        if query.before_seq is not None:
            clauses.append(f"seq < {p}")
            params.append(query.before_seq)  # type: ignore[arg-type]
        order = "DESC" if query.newest_first else "ASC"
        sql = (
            f"SELECT {_COLUMNS} FROM directory_rows WHERE {' AND '.join(clauses)} "
            f"ORDER BY seq {order}, row_key {order}"
        )
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)}"
        with self._tables._transaction() as cursor:
            cursor.execute(sql, params)
            return [_row(r) for r in cursor.fetchall()]


def _by_keys(cursor: Any, p: str, keys: Iterable[str]) -> list[StoredRow]:
    wanted = sorted(set(keys))
    found: list[StoredRow] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        cursor.execute(
            f"SELECT {_COLUMNS} FROM directory_rows "
            f"WHERE row_key IN ({','.join(p for _ in chunk)})",
            chunk,
        )
        found.extend(_row(r) for r in cursor.fetchall())
    return found


class _SqlWriter:
    def __init__(self, cursor: Any, placeholder: str, position: int, version: str) -> None:
        self._cursor, self._p = cursor, placeholder
        self.position, self.version = position, version

    def by_keys(self, keys: Iterable[str]) -> list[StoredRow]:
        return _by_keys(self._cursor, self._p, keys)

    def put(self, rows: Sequence[StoredRow]) -> None:
        p = self._p
        self._cursor.executemany(
            f"INSERT INTO directory_rows ({_COLUMNS}) VALUES ({p},{p},{p},{p},{p},{p},{p}) "
            "ON CONFLICT (kind, row_key) DO UPDATE SET council = excluded.council, "
            "ref = excluded.ref, seq = excluded.seq, active = excluded.active, "
            "data = excluded.data",
            [(r.kind, r.key, r.council, r.ref, r.seq, int(r.active), r.data) for r in rows],
        )

    def reset(self, version: str) -> None:
        self._cursor.execute("DELETE FROM directory_rows")
        self.position, self.version = 0, version

    def advance(self, position: int) -> None:
        self.position = position


def memory_directory_store() -> DirectoryStore:
    return InMemoryDirectoryStore()


def sqlite_directory_store(path: str) -> DirectoryStore:
    from govflow.application.sql_tables import sqlite_connector

    return SqlDirectoryStore(sqlite_connector(path), "?", "BLOB")


def postgres_directory_store(conninfo: str) -> DirectoryStore:
    from govflow.application.sql_tables import postgres_connector

    return SqlDirectoryStore(postgres_connector(conninfo), "%s", "BYTEA")
