"""Where uploaded files are kept (meeting evidence, 委托书 scans, progress photos): each by its
sha256, which the log records, behind one small interface.

``DirectoryEvidence`` keeps them on this host's disk (one file per digest, written atomically);
``DatabaseEvidence`` keeps them beside the events, in the same database (SQLite or PostgreSQL),
so that several API processes on different hosts serve the same files. Either way a file is
kept once, under the digest of its own bytes: a name that is not a lowercase hex sha256 is
never a path, and bytes that do not match their digest are refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from govflow.application.sql_tables import SqlTables, postgres_connector, sqlite_connector
from govflow.domain.errors import InvalidInputError

if TYPE_CHECKING:
    from govflow.application.core import GovernanceCore

_DIGEST = re.compile(r"[0-9a-f]{64}")


def is_digest(sha256: str) -> bool:
    """Whether ``sha256`` is a lowercase hex SHA-256 (the only names a store knows)."""
    return _DIGEST.fullmatch(sha256) is not None


def _checked(sha256: str, content: bytes) -> None:
    if not is_digest(sha256):
        raise InvalidInputError("a kept file is named by its lowercase hex sha256")
    if hashlib.sha256(content).hexdigest() != sha256:
        raise InvalidInputError("the file does not match its sha256", sha256=sha256)


class EvidenceStore(Protocol):
    def put(self, sha256: str, content: bytes) -> None:
        """Keep ``content`` under ``sha256`` (its own digest, or refused); kept already: done."""
        ...

    def get(self, sha256: str) -> bytes | None:
        """The bytes kept under ``sha256`` (None: not kept here)."""
        ...

    def exists(self, sha256: str) -> bool: ...
    def digests(self) -> Iterator[str]:
        """Every digest kept, in order (to copy the store)."""
        ...


class InMemoryEvidence:
    """For an in-memory installation (tests, a demo): gone with the process."""

    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}

    def put(self, sha256: str, content: bytes) -> None:
        _checked(sha256, content)
        self._files.setdefault(sha256, bytes(content))

    def get(self, sha256: str) -> bytes | None:
        return self._files.get(sha256)

    def exists(self, sha256: str) -> bool:
        return sha256 in self._files

    def digests(self) -> Iterator[str]:
        return iter(sorted(self._files))


class DirectoryEvidence:
    """``directory/<sha256>`` on this host's disk; a crash mid-write leaves no half file under
    a digest (the bytes go to a temporary file, synced, then renamed)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, sha256: str) -> Path | None:
        return self.directory / sha256 if is_digest(sha256) else None

    def put(self, sha256: str, content: bytes) -> None:
        _checked(sha256, content)
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / sha256
        if target.exists():
            return
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> bytes | None:
        path = self._path(sha256)
        try:
            return path.read_bytes() if path is not None else None
        except FileNotFoundError:
            return None

    def exists(self, sha256: str) -> bool:
        path = self._path(sha256)
        return path is not None and path.is_file()

    def digests(self) -> Iterator[str]:
        if not self.directory.is_dir():
            return iter(())
        return iter(sorted(p.name for p in self.directory.iterdir() if is_digest(p.name)))


class DatabaseEvidence(SqlTables):
    """The table ``evidence_files`` beside the events (any DB-API connection factory)."""

    def __init__(self, connect: Callable[[], Any], placeholder: str, blob: str) -> None:
        super().__init__(
            connect,
            placeholder,
            (
                "CREATE TABLE IF NOT EXISTS evidence_files (sha256 TEXT PRIMARY KEY, "
                f"size BIGINT NOT NULL, content {blob} NOT NULL)",
            ),
        )

    def put(self, sha256: str, content: bytes) -> None:
        _checked(sha256, content)
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                f"INSERT INTO evidence_files (sha256, size, content) VALUES ({p}, {p}, {p}) "
                "ON CONFLICT (sha256) DO NOTHING",
                (sha256, len(content), bytes(content)),
            )

    def get(self, sha256: str) -> bytes | None:
        if not is_digest(sha256):
            return None
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT content FROM evidence_files WHERE sha256 = {self._p}", (sha256,)
            )
            row = cursor.fetchone()
        return None if row is None else bytes(row[0])

    def exists(self, sha256: str) -> bool:
        if not is_digest(sha256):
            return False
        with self._transaction() as cursor:
            cursor.execute(f"SELECT 1 FROM evidence_files WHERE sha256 = {self._p}", (sha256,))
            return cursor.fetchone() is not None

    def digests(self) -> Iterator[str]:
        with self._transaction() as cursor:
            cursor.execute("SELECT sha256 FROM evidence_files ORDER BY sha256")
            found = [str(row[0]) for row in cursor.fetchall()]
        return iter(found)


def sqlite_evidence(path: str) -> DatabaseEvidence:
    return DatabaseEvidence(sqlite_connector(path), "?", "BLOB")


def postgres_evidence(conninfo: str) -> DatabaseEvidence:
    return DatabaseEvidence(postgres_connector(conninfo), "%s", "BYTEA")


def database_evidence(app: GovernanceCore) -> EvidenceStore:
    """The files kept in ``app``'s own database (in memory for an in-memory store)."""
    in_memory: Callable[[], EvidenceStore] = InMemoryEvidence
    return app.side_store(sqlite_evidence, postgres_evidence, in_memory)


def copy_evidence(source: EvidenceStore, target: EvidenceStore) -> int:
    """Copy every file ``target`` lacks (checked against its digest on the way); how many."""
    copied = 0
    for sha256 in source.digests():
        if target.exists(sha256):
            continue
        content = source.get(sha256)
        if content is not None:
            target.put(sha256, content)
            copied += 1
    return copied
