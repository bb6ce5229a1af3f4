"""Where webhook delivery progress is kept: one cursor per subscription, recent failures, the
subscriptions' signing secrets, and which delivering process holds each subscription (a lease).

Beside the events, in the same database, but not as events: an attempt every few minutes for
an hour would otherwise fill the log with retries, and a secret in an event is a secret for
whoever reads the log (audit history, exports, backups of the log).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from govflow.application.sql_tables import SqlTables, postgres_connector, sqlite_connector

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
class Lease:
    """A delivering process's hold on subscriptions: ``holder`` names the process (unique per
    running instance), ``seconds`` how long a hold lasts unless renewed."""

    holder: str
    seconds: float


class LeaseLostError(Exception):
    """The subscription's lease is no longer this holder's (it expired and another process took
    the subscription): nothing was saved, and this holder must stop delivering it."""


@dataclass(frozen=True)
class Failure:
    subscription_id: str
    at: datetime
    notification_id: int
    error: str


class WebhookStore(Protocol):
    def state(self, subscription_id: str) -> DeliveryState: ...
    def kept_state(self, subscription_id: str) -> DeliveryState | None:
        """The subscription's cursor if one was kept (None: the subscription is not ready)."""
        ...

    def save(self, state: DeliveryState, lease: Lease | None = None) -> None:
        """Keep ``state``; with ``lease``, only while the lease is the holder's (renewing it, in
        the same transaction), else :class:`LeaseLostError` and nothing is kept."""
        ...

    def take_leases(
        self, subscription_ids: Collection[str], lease: Lease, limit: int | None = None
    ) -> set[str]:
        """Of ``subscription_ids``, those now leased to ``lease.holder`` for ``lease.seconds``
        (at most ``limit`` of them): the ones nobody held, whose lease expired, or already the
        holder's (renewed). Never one another holder holds unexpired."""
        ...

    def renew_lease(self, subscription_id: str, lease: Lease) -> bool:
        """Extend the holder's lease; False if the subscription is no longer its own."""
        ...

    def release_lease(self, subscription_id: str, holder: str) -> None:
        """Give the subscription up (if still the holder's): any process may take it now."""
        ...

    def add_failure(self, failure: Failure) -> None: ...
    def failures(self, subscription_id: str) -> list[Failure]: ...
    def keep_secret(self, subscription_id: str, sealed: str) -> None: ...
    def secret(self, subscription_id: str) -> str | None: ...
    # copying between stores (``govflow migrate``): secrets stay sealed as they are
    def all_secrets(self) -> dict[str, str]: ...
    def all_states(self) -> list[DeliveryState]: ...
    def all_failures(self) -> list[Failure]: ...
    def put_failures(self, subscription_id: str, failures: Sequence[Failure]) -> None:
        """Replace a subscription's kept failures with ``failures`` (so copying twice adds
        nothing)."""
        ...


class InMemoryWebhookStore:
    def __init__(self) -> None:
        self._states: dict[str, DeliveryState] = {}
        self._failures: dict[str, list[Failure]] = {}
        self._secrets: dict[str, str] = {}
        self._leases: dict[str, tuple[str, float]] = {}  # holder, expiry (monotonic)
        self._lock = threading.Lock()

    def state(self, subscription_id: str) -> DeliveryState:
        return self._states.get(subscription_id) or DeliveryState(subscription_id)

    def kept_state(self, subscription_id: str) -> DeliveryState | None:
        return self._states.get(subscription_id)

    def save(self, state: DeliveryState, lease: Lease | None = None) -> None:
        with self._lock:
            if lease is not None and not self._renew(state.subscription_id, lease):
                raise LeaseLostError(state.subscription_id)
            self._states[state.subscription_id] = state

    def _renew(self, subscription_id: str, lease: Lease, *, take: bool = False) -> bool:
        now = time.monotonic()
        holder, expires = self._leases.get(subscription_id, ("", 0.0))
        if holder != lease.holder and not (take and expires <= now):
            return False
        self._leases[subscription_id] = (lease.holder, now + lease.seconds)
        return True

    def take_leases(
        self, subscription_ids: Collection[str], lease: Lease, limit: int | None = None
    ) -> set[str]:
        taken: set[str] = set()
        with self._lock:
            for sid in sorted(subscription_ids):
                if limit is not None and len(taken) >= limit:
                    break
                if self._renew(sid, lease, take=True):
                    taken.add(sid)
        return taken

    def renew_lease(self, subscription_id: str, lease: Lease) -> bool:
        with self._lock:
            return self._renew(subscription_id, lease)

    def release_lease(self, subscription_id: str, holder: str) -> None:
        with self._lock:
            if self._leases.get(subscription_id, ("", 0.0))[0] == holder:
                del self._leases[subscription_id]

    def add_failure(self, failure: Failure) -> None:
        kept = self._failures.setdefault(failure.subscription_id, [])
        kept.append(failure)
        del kept[:-KEEP_FAILURES]

    def failures(self, subscription_id: str) -> list[Failure]:
        return list(reversed(self._failures.get(subscription_id, [])))

    def keep_secret(self, subscription_id: str, sealed: str) -> None:
        self._secrets[subscription_id] = sealed

    def secret(self, subscription_id: str) -> str | None:
        return self._secrets.get(subscription_id)

    def all_secrets(self) -> dict[str, str]:
        return dict(self._secrets)

    def all_states(self) -> list[DeliveryState]:
        return list(self._states.values())

    def all_failures(self) -> list[Failure]:
        return [f for kept in self._failures.values() for f in kept]

    def put_failures(self, subscription_id: str, failures: Sequence[Failure]) -> None:
        kept = sorted(failures, key=lambda f: f.at)[-KEEP_FAILURES:]
        if kept:
            self._failures[subscription_id] = kept
        else:
            self._failures.pop(subscription_id, None)


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS webhook_deliveries (subscription_id TEXT PRIMARY KEY, "
    "position BIGINT NOT NULL, delivered BIGINT NOT NULL, attempts INTEGER NOT NULL, "
    "next_attempt_at TEXT, last_error TEXT, last_attempt_at TEXT, last_delivered_at TEXT)",
    "CREATE TABLE IF NOT EXISTS webhook_failures (subscription_id TEXT NOT NULL, "
    "at TEXT NOT NULL, notification_id BIGINT NOT NULL, error TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS webhook_secrets (subscription_id TEXT PRIMARY KEY, "
    "sealed TEXT NOT NULL)",
    # expires_at: seconds since the epoch by the database's clock (one clock for every host)
    "CREATE TABLE IF NOT EXISTS webhook_leases (subscription_id TEXT PRIMARY KEY, "
    "holder TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)",
)
# The database's time in seconds since the epoch, and how to take leases in one statement.
_SQLITE_NOW = "((julianday('now') - 2440587.5) * 86400.0)"
_POSTGRES_NOW = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)"
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


def _state(subscription_id: str, row: Sequence[Any]) -> DeliveryState:
    """A delivery state from the ``_FIELDS`` columns of its row."""
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


class SqlWebhookStore(SqlTables):
    """The two tables through any DB-API connection factory (SQLite, PostgreSQL)."""

    def __init__(
        self, connect: Callable[[], Any], placeholder: str, now: str = _SQLITE_NOW
    ) -> None:
        super().__init__(connect, placeholder, _SCHEMA)
        self._now = now
        # PostgreSQL: rows another process is renewing or taking right now are skipped, not
        # waited for; SQLite takes the whole database's write lock for the UPDATE anyway.
        self._skip_locked = " FOR UPDATE SKIP LOCKED" if now == _POSTGRES_NOW else ""

    def state(self, subscription_id: str) -> DeliveryState:
        return self.kept_state(subscription_id) or DeliveryState(subscription_id)

    def kept_state(self, subscription_id: str) -> DeliveryState | None:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT {', '.join(_FIELDS)} FROM webhook_deliveries WHERE subscription_id = {p}",
                (subscription_id,),
            )
            row = cursor.fetchone()
        return None if row is None else _state(subscription_id, row)

    def save(self, state: DeliveryState, lease: Lease | None = None) -> None:
        p = self._p
        values = [
            v.isoformat() if isinstance(v, datetime) else v
            for v in (getattr(state, f) for f in _FIELDS)
        ]
        with self._transaction() as cursor:
            # the lease row is locked (renewed) before the cursor moves, in one transaction: a
            # holder whose lease another process took saves nothing
            if lease is not None and not self._renew(cursor, state.subscription_id, lease):
                raise LeaseLostError(state.subscription_id)
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

    def _renew(self, cursor: Any, subscription_id: str, lease: Lease) -> bool:
        p = self._p
        cursor.execute(
            f"UPDATE webhook_leases SET expires_at = {self._now} + {p} "
            f"WHERE subscription_id = {p} AND holder = {p}",
            (lease.seconds, subscription_id, lease.holder),
        )
        return bool(cursor.rowcount == 1)

    def take_leases(
        self, subscription_ids: Collection[str], lease: Lease, limit: int | None = None
    ) -> set[str]:
        p, ids = self._p, sorted(subscription_ids)
        if not ids or limit == 0:
            return set()
        listed = ", ".join(p for _ in ids)
        limited = "" if limit is None else f" ORDER BY subscription_id LIMIT {int(limit)}"
        with self._transaction() as cursor:
            cursor.executemany(
                "INSERT INTO webhook_leases (subscription_id, holder, expires_at) "
                f"VALUES ({p}, '', 0) ON CONFLICT (subscription_id) DO NOTHING",
                [(sid,) for sid in ids],
            )
            cursor.execute(
                f"UPDATE webhook_leases SET holder = {p}, expires_at = {self._now} + {p} "
                "WHERE subscription_id IN (SELECT subscription_id FROM webhook_leases "
                f"WHERE subscription_id IN ({listed}) "
                f"AND (holder = {p} OR expires_at <= {self._now}){limited}{self._skip_locked}) "
                "RETURNING subscription_id",
                (lease.holder, lease.seconds, *ids, lease.holder),
            )
            return {str(row[0]) for row in cursor.fetchall()}

    def renew_lease(self, subscription_id: str, lease: Lease) -> bool:
        with self._transaction() as cursor:
            return self._renew(cursor, subscription_id, lease)

    def release_lease(self, subscription_id: str, holder: str) -> None:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                "UPDATE webhook_leases SET holder = '', expires_at = 0 "
                f"WHERE subscription_id = {p} AND holder = {p}",
                (subscription_id, holder),
            )

    def add_failure(self, failure: Failure) -> None:
        p = self._p
        with self._transaction() as cursor:
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
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT at, notification_id, error FROM webhook_failures "
                f"WHERE subscription_id = {p} ORDER BY at DESC",
                (subscription_id,),
            )
            rows = cursor.fetchall()
        return [Failure(subscription_id, datetime.fromisoformat(r[0]), r[1], r[2]) for r in rows]

    def keep_secret(self, subscription_id: str, sealed: str) -> None:
        """Keep a subscription's (sealed) secret, before its event is saved."""
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                f"UPDATE webhook_secrets SET sealed = {p} WHERE subscription_id = {p}",
                (sealed, subscription_id),
            )
            if cursor.rowcount == 0:
                cursor.execute(
                    f"INSERT INTO webhook_secrets (subscription_id, sealed) VALUES ({p}, {p})",
                    (subscription_id, sealed),
                )

    def secret(self, subscription_id: str) -> str | None:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT sealed FROM webhook_secrets WHERE subscription_id = {p}",
                (subscription_id,),
            )
            row = cursor.fetchone()
        return None if row is None else str(row[0])

    def all_secrets(self) -> dict[str, str]:
        with self._transaction() as cursor:
            cursor.execute("SELECT subscription_id, sealed FROM webhook_secrets")
            rows = cursor.fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def all_states(self) -> list[DeliveryState]:
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT subscription_id, {', '.join(_FIELDS)} FROM webhook_deliveries "
                "ORDER BY subscription_id"
            )
            rows = cursor.fetchall()
        return [_state(str(r[0]), r[1:]) for r in rows]

    def all_failures(self) -> list[Failure]:
        with self._transaction() as cursor:
            cursor.execute(
                "SELECT subscription_id, at, notification_id, error FROM webhook_failures "
                "ORDER BY subscription_id, at"
            )
            rows = cursor.fetchall()
        return [Failure(str(r[0]), datetime.fromisoformat(r[1]), r[2], r[3]) for r in rows]

    def put_failures(self, subscription_id: str, failures: Sequence[Failure]) -> None:
        p = self._p
        kept = sorted(failures, key=lambda f: f.at)[-KEEP_FAILURES:]
        with self._transaction() as cursor:
            cursor.execute(
                f"DELETE FROM webhook_failures WHERE subscription_id = {p}", (subscription_id,)
            )
            if kept:
                cursor.executemany(
                    "INSERT INTO webhook_failures (subscription_id, at, notification_id, error) "
                    f"VALUES ({p}, {p}, {p}, {p})",
                    [(subscription_id, f.at.isoformat(), f.notification_id, f.error) for f in kept],
                )


def sqlite_webhook_store(path: str) -> SqlWebhookStore:
    return SqlWebhookStore(sqlite_connector(path), "?")


def postgres_webhook_store(conninfo: str) -> SqlWebhookStore:
    return SqlWebhookStore(postgres_connector(conninfo), "%s", _POSTGRES_NOW)
