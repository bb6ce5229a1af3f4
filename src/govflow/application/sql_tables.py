"""Side tables beside the events, in the same database (SQLite or PostgreSQL): one
connection per thread, a transaction per use, a dropped connection replaced on the next call."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

# PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against itself: two processes creating
# the same table at once fail on a catalogue index. They take turns on this advisory lock.
SCHEMA_LOCK = 0x676F76666C6F77  # "govflow"


class SqlTables:
    """Base of the SQL stores: give it a DB-API connection factory, its placeholder (``?`` or
    ``%s``) and the CREATE statements of its tables."""

    def __init__(self, connect: Callable[[], Any], placeholder: str, schema: Sequence[str]):
        self._connect, self._p = connect, placeholder
        self._local = threading.local()
        with self._transaction() as cursor:
            if placeholder == "%s":
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            for statement in schema:
                cursor.execute(statement)

    def _discard(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to release
                connection.close()

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        return connection

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A cursor in a transaction: committed on success, rolled back (and the connection
        replaced, in case the failure was the connection's) on an error."""
        connection = self._connection()
        cursor = connection.cursor()
        try:
            yield cursor
        except BaseException:
            with contextlib.suppress(Exception):
                connection.rollback()
            self._discard()
            raise
        try:
            connection.commit()
            cursor.close()
        except Exception:
            self._discard()  # a dropped connection: reconnect on the next call
            raise


def sqlite_connector(path: str) -> Callable[[], Any]:
    return lambda: sqlite3.connect(path, timeout=30)


def postgres_connector(conninfo: str) -> Callable[[], Any]:
    import psycopg

    return lambda: psycopg.connect(conninfo)
