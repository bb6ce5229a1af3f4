"""Where the verifiable log's Merkle tree and its signed checkpoints are kept: beside the
events, in the same database.

Three tables: ``log_leaves`` (each sealed record's leaf hash at its index, with its
notification id and the record's salt: 16 random bytes its leaf's commitment is made with, see
:mod:`govflow.transparency.records`), ``log_nodes`` (the hash of every complete subtree of
2**level leaves above the leaves: what makes any root or proof O(log n) reads) and
``log_checkpoints`` (every signed checkpoint, never deleted). A sealed batch writes all three
in one transaction, so the tree, its position in the log (the last leaf's notification id) and
its checkpoint never disagree; the leaf index's primary key refuses a second sealer's
overlapping batch. Beside them,
``log_cosignatures`` keeps each witness's cosignature line of a checkpoint (verified before it
is kept; a witness's newer one of the same checkpoint replaces its older one).

A tree sealed before salted leaves (v1: ``salt`` NULL, a column added to older tables) is
superseded, not extended: ``supersede`` moves its checkpoints (and their cosignatures) to
``log_superseded_checkpoints`` (``log_superseded_cosignatures``), where they stay listed, and
empties the tree so that the sealer builds the v2 tree from the first record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from govflow.application.sql_tables import SqlTables, postgres_connector, sqlite_connector

Node = tuple[
    int, int
]  # (level, index): the subtree of leaves [index * 2**level, (index+1) * 2**level)


@dataclass(frozen=True)
class SealedLeaf:
    index: int
    notification_id: int
    hash: bytes
    salt: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint: the tree of ``size`` leaves, the last sealed record's notification
    id, the root, the signed note as published, and when it was signed."""

    size: int
    notification_id: int
    root: bytes
    note: str
    signed_at: datetime


@dataclass(frozen=True)
class StoredCosignature:
    """A witness's cosignature line of the checkpoint of ``size`` leaves, and when it came."""

    size: int
    name: str
    key_id: int
    line: str
    received_at: datetime


class SealConflictError(RuntimeError):
    """Another sealer extended the tree first: this batch was not written."""


class LogStore(Protocol):
    def size(self) -> tuple[int, int]:
        """The tree's size and the last sealed record's notification id (0, 0 when empty)."""
        ...

    def nodes(self, keys: Iterable[Node]) -> dict[Node, bytes]: ...
    def seal(
        self,
        leaves: Sequence[SealedLeaf],
        nodes: Sequence[tuple[int, int, bytes]],
        checkpoint: StoredCheckpoint | None,
    ) -> None: ...
    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Keep a checkpoint signed elsewhere (a migration's); one already kept stays."""
        ...

    def leaf_index(self, notification_id: int) -> int | None: ...
    def salts(self, after: int, upto: int) -> dict[int, bytes]:
        """The salts of the sealed records with notification ids in (after, upto]."""
        ...

    def is_legacy(self) -> bool:
        """Whether the tree holds v1 leaves (sealed without salts): to supersede."""
        ...

    def supersede(self) -> int:
        """Move a v1 tree's checkpoints and cosignatures aside (listed as superseded) and empty
        the tree; returns how many checkpoints were moved (0 if it was not v1)."""
        ...

    def superseded_checkpoints(self) -> list[StoredCheckpoint]: ...
    def keep_superseded(self, checkpoints: Sequence[StoredCheckpoint]) -> None:
        """Keep v1 checkpoints superseded elsewhere (a migration's); those kept stay."""
        ...

    def checkpoints(self, after_size: int = 0, limit: int = 1000) -> list[StoredCheckpoint]: ...
    def checkpoint(self, size: int | None = None) -> StoredCheckpoint | None:
        """The checkpoint at ``size`` (default: the latest)."""
        ...

    def add_cosignatures(self, cosignatures: Sequence[StoredCosignature]) -> None:
        """Keep witnesses' cosignatures; a witness's newer one of a checkpoint replaces its
        older one."""
        ...

    def cosignatures(self, sizes: Iterable[int]) -> dict[int, list[StoredCosignature]]:
        """The cosignatures kept of each of these checkpoints, in the order they came."""
        ...


class InMemoryLogStore:
    def __init__(self) -> None:
        self._leaves: list[SealedLeaf] = []
        self._by_id: dict[int, int] = {}
        self._nodes: dict[Node, bytes] = {}
        self._checkpoints: dict[int, StoredCheckpoint] = {}
        self._cosignatures: dict[tuple[int, str, int], StoredCosignature] = {}
        self._superseded: dict[int, StoredCheckpoint] = {}

    def size(self) -> tuple[int, int]:
        return (len(self._leaves), self._leaves[-1].notification_id) if self._leaves else (0, 0)

    def nodes(self, keys: Iterable[Node]) -> dict[Node, bytes]:
        found: dict[Node, bytes] = {}
        for level, index in keys:
            if level == 0:
                if 0 <= index < len(self._leaves):
                    found[(0, index)] = self._leaves[index].hash
            elif (level, index) in self._nodes:
                found[(level, index)] = self._nodes[(level, index)]
        return found

    def seal(
        self,
        leaves: Sequence[SealedLeaf],
        nodes: Sequence[tuple[int, int, bytes]],
        checkpoint: StoredCheckpoint | None,
    ) -> None:
        if leaves and leaves[0].index != len(self._leaves):
            raise SealConflictError("the tree was extended concurrently")
        for leaf in leaves:
            self._leaves.append(leaf)
            self._by_id[leaf.notification_id] = leaf.index
        for level, index, value in nodes:
            self._nodes[(level, index)] = value
        if checkpoint is not None:
            self.add_checkpoint(checkpoint)

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._checkpoints.setdefault(checkpoint.size, checkpoint)

    def leaf_index(self, notification_id: int) -> int | None:
        return self._by_id.get(notification_id)

    def salts(self, after: int, upto: int) -> dict[int, bytes]:
        return {
            nid: self._leaves[index].salt
            for nid, index in self._by_id.items()
            if after < nid <= upto
        }

    def is_legacy(self) -> bool:
        return False  # an in-memory tree is always sealed as it is now

    def supersede(self) -> int:
        return 0

    def superseded_checkpoints(self) -> list[StoredCheckpoint]:
        return sorted(self._superseded.values(), key=lambda c: c.size)

    def keep_superseded(self, checkpoints: Sequence[StoredCheckpoint]) -> None:
        for checkpoint in checkpoints:
            self._superseded.setdefault(checkpoint.size, checkpoint)

    def checkpoints(self, after_size: int = 0, limit: int = 1000) -> list[StoredCheckpoint]:
        sizes = sorted(s for s in self._checkpoints if s > after_size)[:limit]
        return [self._checkpoints[s] for s in sizes]

    def checkpoint(self, size: int | None = None) -> StoredCheckpoint | None:
        if size is None:
            return self._checkpoints[max(self._checkpoints)] if self._checkpoints else None
        return self._checkpoints.get(size)

    def add_cosignatures(self, cosignatures: Sequence[StoredCosignature]) -> None:
        for c in cosignatures:
            self._cosignatures.pop((c.size, c.name, c.key_id), None)
            self._cosignatures[(c.size, c.name, c.key_id)] = c

    def cosignatures(self, sizes: Iterable[int]) -> dict[int, list[StoredCosignature]]:
        wanted = set(sizes)
        found: dict[int, list[StoredCosignature]] = {}
        for c in self._cosignatures.values():
            if c.size in wanted:
                found.setdefault(c.size, []).append(c)
        return found


def _schema(blob: str) -> tuple[str, ...]:
    return (
        "CREATE TABLE IF NOT EXISTS log_leaves (leaf_index BIGINT PRIMARY KEY, "
        f"notification_id BIGINT NOT NULL UNIQUE, hash {blob} NOT NULL, salt {blob})",
        "CREATE TABLE IF NOT EXISTS log_nodes (level INTEGER NOT NULL, node_index BIGINT NOT NULL, "
        f"hash {blob} NOT NULL, PRIMARY KEY (level, node_index))",
        "CREATE TABLE IF NOT EXISTS log_checkpoints (size BIGINT PRIMARY KEY, "
        f"notification_id BIGINT NOT NULL, root {blob} NOT NULL, note TEXT NOT NULL, "
        "signed_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS log_cosignatures (size BIGINT NOT NULL, name TEXT NOT NULL, "
        "key_id BIGINT NOT NULL, line TEXT NOT NULL, received_at TEXT NOT NULL, "
        "PRIMARY KEY (size, name, key_id))",
        "CREATE TABLE IF NOT EXISTS log_superseded_checkpoints (leaf_version INTEGER NOT NULL, "
        f"size BIGINT NOT NULL, notification_id BIGINT NOT NULL, root {blob} NOT NULL, "
        "note TEXT NOT NULL, signed_at TEXT NOT NULL, PRIMARY KEY (leaf_version, size))",
        "CREATE TABLE IF NOT EXISTS log_superseded_cosignatures (leaf_version INTEGER NOT NULL, "
        "size BIGINT NOT NULL, name TEXT NOT NULL, key_id BIGINT NOT NULL, line TEXT NOT NULL, "
        "received_at TEXT NOT NULL, PRIMARY KEY (leaf_version, size, name, key_id))",
    )


class SqlLogStore(SqlTables):
    """The tree and the checkpoints' cosignatures in four tables, through any DB-API
    connection factory (SQLite, PostgreSQL)."""

    def __init__(
        self, connect: Callable[[], Any], placeholder: str, integrity: type[Exception], blob: str
    ) -> None:
        super().__init__(connect, placeholder, _schema(blob))
        self._integrity = integrity
        self._add_salt_column(blob)

    def _add_salt_column(self, blob: str) -> None:
        """Tables made before salted leaves have no ``salt`` column: add it (NULL: v1)."""
        with self._transaction() as cursor:
            if self._p == "%s":
                cursor.execute(f"ALTER TABLE log_leaves ADD COLUMN IF NOT EXISTS salt {blob}")
                return
            cursor.execute("SELECT name FROM pragma_table_info('log_leaves')")
            if "salt" not in {row[0] for row in cursor.fetchall()}:
                cursor.execute(f"ALTER TABLE log_leaves ADD COLUMN salt {blob}")

    def size(self) -> tuple[int, int]:
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT leaf_index, notification_id FROM log_leaves "
                "ORDER BY leaf_index DESC LIMIT 1"
            )
            row = cursor.fetchone()
        return (int(row[0]) + 1, int(row[1])) if row else (0, 0)

    def nodes(self, keys: Iterable[Node]) -> dict[Node, bytes]:
        wanted = sorted(set(keys))
        found: dict[Node, bytes] = {}
        leaves = [index for level, index in wanted if level == 0]
        inner = [(level, index) for level, index in wanted if level > 0]
        p = self._p
        with self._transaction() as cursor:
            for start in range(0, len(leaves), 500):
                chunk = leaves[start : start + 500]
                cursor.execute(
                    "SELECT leaf_index, hash FROM log_leaves "
                    f"WHERE leaf_index IN ({','.join(p for _ in chunk)})",
                    chunk,
                )
                found.update(((0, int(i)), bytes(h)) for i, h in cursor.fetchall())
            for start in range(0, len(inner), 250):
                chunk2 = inner[start : start + 250]
                where = " OR ".join(f"(level = {p} AND node_index = {p})" for _ in chunk2)
                cursor.execute(
                    f"SELECT level, node_index, hash FROM log_nodes WHERE {where}",
                    [v for key in chunk2 for v in key],
                )
                found.update(((int(lv), int(i)), bytes(h)) for lv, i, h in cursor.fetchall())
        return found

    def seal(
        self,
        leaves: Sequence[SealedLeaf],
        nodes: Sequence[tuple[int, int, bytes]],
        checkpoint: StoredCheckpoint | None,
    ) -> None:
        p = self._p
        try:
            with self._transaction() as cursor:
                cursor.executemany(
                    "INSERT INTO log_leaves (leaf_index, notification_id, hash, salt) "
                    f"VALUES ({p},{p},{p},{p})",
                    [(leaf.index, leaf.notification_id, leaf.hash, leaf.salt) for leaf in leaves],
                )
                cursor.executemany(
                    f"INSERT INTO log_nodes (level, node_index, hash) VALUES ({p},{p},{p})",
                    list(nodes),
                )
                if checkpoint is not None:
                    self._insert_checkpoint(cursor, checkpoint)
        except self._integrity as error:
            raise SealConflictError("the tree was extended concurrently") from error

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT 1 FROM log_checkpoints WHERE size = {self._p}", (checkpoint.size,)
            )
            if cursor.fetchone() is None:
                self._insert_checkpoint(cursor, checkpoint)

    def _insert_checkpoint(self, cursor: Any, checkpoint: StoredCheckpoint) -> None:
        p = self._p
        cursor.execute(
            "INSERT INTO log_checkpoints (size, notification_id, root, note, signed_at) "
            f"VALUES ({p},{p},{p},{p},{p})",
            (
                checkpoint.size,
                checkpoint.notification_id,
                checkpoint.root,
                checkpoint.note,
                checkpoint.signed_at.isoformat(),
            ),
        )

    def leaf_index(self, notification_id: int) -> int | None:
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT leaf_index FROM log_leaves WHERE notification_id = {self._p}",
                (notification_id,),
            )
            row = cursor.fetchone()
        return int(row[0]) if row else None

    def salts(self, after: int, upto: int) -> dict[int, bytes]:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT notification_id, salt FROM log_leaves "
                f"WHERE notification_id > {p} AND notification_id <= {p} AND salt IS NOT NULL",
                (after, upto),
            )
            return {int(nid): bytes(salt) for nid, salt in cursor.fetchall()}

    def is_legacy(self) -> bool:
        with self._transaction() as cursor:
            # A v2 tree is built from its first leaf on: the first leaf tells the version.
            cursor.execute("SELECT salt IS NULL FROM log_leaves WHERE leaf_index = 0")
            row = cursor.fetchone()
        return bool(row and row[0])

    def supersede(self) -> int:
        try:
            with self._transaction() as cursor:
                cursor.execute("SELECT salt IS NULL FROM log_leaves WHERE leaf_index = 0")
                row = cursor.fetchone()
                if not (row and row[0]):
                    return 0
                cursor.execute("SELECT COUNT(*) FROM log_checkpoints")
                moved = int(cursor.fetchone()[0])
                cursor.execute(
                    "INSERT INTO log_superseded_checkpoints "
                    "(leaf_version, size, notification_id, root, note, signed_at) "
                    "SELECT 1, size, notification_id, root, note, signed_at FROM log_checkpoints"
                )
                cursor.execute(
                    "INSERT INTO log_superseded_cosignatures "
                    "(leaf_version, size, name, key_id, line, received_at) "
                    "SELECT 1, size, name, key_id, line, received_at FROM log_cosignatures"
                )
                for table in ("log_cosignatures", "log_checkpoints", "log_nodes", "log_leaves"):
                    cursor.execute(f"DELETE FROM {table}")
                return moved
        except self._integrity:
            return 0  # another sealer superseded it first

    def superseded_checkpoints(self) -> list[StoredCheckpoint]:
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT size, notification_id, root, note, signed_at "
                "FROM log_superseded_checkpoints ORDER BY leaf_version, size"
            )
            return [_checkpoint(row) for row in cursor.fetchall()]

    def keep_superseded(self, checkpoints: Sequence[StoredCheckpoint]) -> None:
        p = self._p
        with self._transaction() as cursor:
            for c in checkpoints:
                cursor.execute(
                    "SELECT 1 FROM log_superseded_checkpoints "
                    f"WHERE leaf_version = 1 AND size = {p}",
                    (c.size,),
                )
                if cursor.fetchone() is None:
                    cursor.execute(
                        "INSERT INTO log_superseded_checkpoints "
                        "(leaf_version, size, notification_id, root, note, signed_at) "
                        f"VALUES (1,{p},{p},{p},{p},{p})",
                        (c.size, c.notification_id, c.root, c.note, c.signed_at.isoformat()),
                    )

    def checkpoints(self, after_size: int = 0, limit: int = 1000) -> list[StoredCheckpoint]:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT size, notification_id, root, note, signed_at FROM log_checkpoints "
                f"WHERE size > {p} ORDER BY size LIMIT {p}",
                (after_size, limit),
            )
            return [_checkpoint(row) for row in cursor.fetchall()]

    def checkpoint(self, size: int | None = None) -> StoredCheckpoint | None:
        sql = "SELECT size, notification_id, root, note, signed_at FROM log_checkpoints "
        with self._transaction() as cursor:
            if size is None:
                cursor.execute(sql + "ORDER BY size DESC LIMIT 1")
            else:
                cursor.execute(sql + f"WHERE size = {self._p}", (size,))
            row = cursor.fetchone()
        return _checkpoint(row) if row else None

    def add_cosignatures(self, cosignatures: Sequence[StoredCosignature]) -> None:
        p = self._p
        with self._transaction() as cursor:
            for c in cosignatures:
                cursor.execute(
                    f"DELETE FROM log_cosignatures WHERE size = {p} AND name = {p} "
                    f"AND key_id = {p}",
                    (c.size, c.name, c.key_id),
                )
                cursor.execute(
                    "INSERT INTO log_cosignatures (size, name, key_id, line, received_at) "
                    f"VALUES ({p},{p},{p},{p},{p})",
                    (c.size, c.name, c.key_id, c.line, c.received_at.isoformat()),
                )

    def cosignatures(self, sizes: Iterable[int]) -> dict[int, list[StoredCosignature]]:
        wanted = sorted(set(sizes))
        found: dict[int, list[StoredCosignature]] = {}
        with self._transaction() as cursor:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                cursor.execute(
                    "SELECT size, name, key_id, line, received_at FROM log_cosignatures "
                    f"WHERE size IN ({','.join(self._p for _ in chunk)}) "
                    "ORDER BY received_at, name",
                    chunk,
                )
                for size, name, key, line, at in cursor.fetchall():
                    found.setdefault(int(size), []).append(
                        StoredCosignature(
                            int(size), str(name), int(key), str(line), datetime.fromisoformat(at)
                        )
                    )
        return found


def _checkpoint(row: Sequence[Any]) -> StoredCheckpoint:
    return StoredCheckpoint(
        int(row[0]), int(row[1]), bytes(row[2]), str(row[3]), datetime.fromisoformat(row[4])
    )


def sqlite_log_store(path: str) -> SqlLogStore:
    import sqlite3

    return SqlLogStore(sqlite_connector(path), "?", sqlite3.IntegrityError, "BLOB")


def postgres_log_store(conninfo: str) -> SqlLogStore:
    import psycopg

    return SqlLogStore(postgres_connector(conninfo), "%s", psycopg.errors.IntegrityError, "BYTEA")
