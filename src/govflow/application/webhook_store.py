"""Where webhook delivery progress is kept: one cursor per subscription, and recent failures.

Beside the events, in the same database, but not as events: an attempt every few minutes for
an hour would otherwise fill the log with retries.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

KEEP_FAILURES = 20


@dataclass(frozen=True)
class DeliveryState:
    """How far one subscription has been delivered."""

    subscription_id: str
    position: int = 0  # the last notification id handled (delivered, or not for this subscriber)
    delivered: int = 0
    attempts: int = 0  # consecutive failed attempts at the next event
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    last_delivered_at: datetime | None = None


@dataclass(frozen=True)
class Failure:
    subscription_id: str
    at: datetime
    notification_id: int
    error: str


class WebhookStore(Protocol):
    def state(self, subscription_id: str) -> DeliveryState: ...
    def save(self, state: DeliveryState) -> None: ...
    def add_failure(self, failure: Failure) -> None: ...
    def failures(self, subscription_id: str) -> list[Failure]: ...


class InMemoryWebhookStore:
    def __init__(self) -> None:
        self._states: dict[str, DeliveryState] = {}
        self._failures: dict[str, list[Failure]] = {}

    def state(self, subscription_id: str) -> DeliveryState:
        return self._states.get(subscription_id) or DeliveryState(subscription_id)

    def save(self, state: DeliveryState) -> None:
        self._states[state.subscription_id] = state

    def add_failure(self, failure: Failure) -> None:
        kept = self._failures.setdefault(failure.subscription_id, [])
        kept.append(failure)
        del kept[:-KEEP_FAILURES]

    def failures(self, subscription_id: str) -> list[Failure]:
        return list(reversed(self._failures.get(subscription_id, [])))


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS webhook_deliveries (subscription_id TEXT PRIMARY KEY, "
    "position BIGINT NOT NULL, delivered BIGINT NOT NULL, attempts INTEGER NOT NULL, "
    "next_attempt_at TEXT, last_error TEXT, last_attempt_at TEXT, last_delivered_at TEXT)",
    "CREATE TABLE IF NOT EXISTS webhook_failures (subscription_id TEXT NOT NULL, "
    "at TEXT NOT NULL, notification_id BIGINT NOT NULL, error TEXT NOT NULL)",
)
_FIELDS = (
    "position",
    "delivered",
    "attempts",
    "next_attempt_at",
    "last_error",
    "last_attempt_at",
    "last_delivered_at",
)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class SqlWebhookStore:
    """The two tables through any DB-API connection factory (SQLite, PostgreSQL)."""

    def __init__(self, connect: Callable[[], Any], placeholder: str) -> None:
        self._connect, self._p = connect, placeholder
        self._local = threading.local()
        with self._cursor() as cursor:
            for statement in _SCHEMA:
                cursor.execute(statement)

    def _discard(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to release
                connection.close()

    def _cursor(self) -> Any:
        connection: Any = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()

        store = self

        class _Tx:
            def __enter__(self) -> Any:
                self.cursor = connection.cursor()
                return self.cursor

            def __exit__(self, kind: object, *rest: object) -> None:
                try:
                    (connection.commit if kind is None else connection.rollback)()
                    self.cursor.close()
                except Exception:
                    store._discard()  # a dropped connection: reconnect on the next call
                    raise
                if kind is not None:
                    store._discard()  # the failure may have been the connection's

        return _Tx()

    def state(self, subscription_id: str) -> DeliveryState:
        p = self._p
        with self._cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(_FIELDS)} FROM webhook_deliveries WHERE subscription_id = {p}",
                (subscription_id,),
            )
            row = cursor.fetchone()
        if row is None:
            return DeliveryState(subscription_id)
        return DeliveryState(
            subscription_id,
            row[0],
            row[1],
            row[2],
            _time(row[3]),
            row[4],
            _time(row[5]),
            _time(row[6]),
        )

    def save(self, state: DeliveryState) -> None:
        p = self._p
        values = [
            v.isoformat() if isinstance(v, datetime) else v
            for v in (getattr(state, f) for f in _FIELDS)
        ]
        with self._cursor() as cursor:
            cursor.execute(
                f"UPDATE webhook_deliveries SET {', '.join(f'{f} = {p}' for f in _FIELDS)} "
                f"WHERE subscription_id = {p}",
                (*values, state.subscription_id),
            )
            if cursor.rowcount == 0:
                cursor.execute(
                    f"INSERT INTO webhook_deliveries (subscription_id, {', '.join(_FIELDS)}) "
                    f"VALUES ({', '.join(p for _ in range(len(_FIELDS) + 1))})",
                    (state.subscription_id, *values),
                )

    def add_failure(self, failure: Failure) -> None:
        p = self._p
        with self._cursor() as cursor:
            cursor.execute(
                "INSERT INTO webhook_failures (subscription_id, at, notification_id, error) "
                f"VALUES ({p}, {p}, {p}, {p})",
                (
                    failure.subscription_id,
                    failure.at.isoformat(),
                    failure.notification_id,
                    failure.error,
                ),
            )
            cursor.execute(
                f"DELETE FROM webhook_failures WHERE subscription_id = {p} AND at NOT IN "
                f"(SELECT at FROM webhook_failures WHERE subscription_id = {p} "
                f"ORDER BY at DESC LIMIT {KEEP_FAILURES})",
                (failure.subscription_id, failure.subscription_id),
            )

    def failures(self, subscription_id: str) -> list[Failure]:
        p = self._p
        with self._cursor() as cursor:
            cursor.execute(
                "SELECT at, notification_id, error FROM webhook_failures "
                f"WHERE subscription_id = {p} ORDER BY at DESC",
                (subscription_id,),
            )
            rows = cursor.fetchall()
        return [Failure(subscription_id, datetime.fromisoformat(r[0]), r[1], r[2]) for r in rows]


def sqlite_webhook_store(path: str) -> SqlWebhookStore:
    return SqlWebhookStore(lambda: sqlite3.connect(path, timeout=30), "?")


def postgres_webhook_store(conninfo: str) -> SqlWebhookStore:
    import psycopg

    return SqlWebhookStore(lambda: psycopg.connect(conninfo), "%s")
