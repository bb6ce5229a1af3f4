"""Where requests sent with an ``Idempotency-Key`` are reserved and their answers kept.

Beside the events, in the same database, but not as events: each new key would otherwise add a
record to the log that the feed and every webhook subscription read past. A key is reserved by
one atomic insert before the request acts, so of several copies arriving together only one
acts; the others find the reservation and its answer once there is one.

A reservation whose request failed after it may have acted stays held, marked ``outcome
unknown``, until it goes stale. Rows older than the answers are kept for are deleted a few at
a time by later reservations.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from govflow.application.sql_tables import SqlTables, postgres_connector, sqlite_connector


@dataclass(frozen=True)
class KeptRequest:
    """A caller's request under one key: in progress while ``status`` is None."""

    request_sha256: str
    reservation: str  # who holds it: only that holder answers or releases it
    reserved_at: float  # seconds since the epoch
    status: int | None = None
    body: str | None = None  # while in progress: None, or OUTCOME_UNKNOWN

    @property
    def outcome_unknown(self) -> bool:
        """Its request failed after it may have acted: the key stays held until stale."""
        return self.status is None and self.body == OUTCOME_UNKNOWN


OUTCOME_UNKNOWN = "?"  # the body of an unanswered reservation whose outcome is unknown


class IdempotencyStore(Protocol):
    def reserve(
        self,
        caller: str,
        key: str,
        kept: KeptRequest,
        *,
        stale_before: float,
        expired_before: float | None = None,
        purge: int = 0,
    ) -> KeptRequest | None:
        """Reserve ``key`` for ``kept``: None when reserved (new, taking over a reservation
        made before ``stale_before`` and never answered, or one made before
        ``expired_before`` whatever it holds), else what holds the key. First deletes up to
        ``purge`` rows reserved before ``expired_before``, the oldest first."""
        ...

    def mark_unknown(self, caller: str, key: str, reservation: str) -> None:
        """Keep the unanswered reservation held, its outcome unknown, until it goes stale."""
        ...

    def answer(self, caller: str, key: str, reservation: str, status: int, body: str) -> None:
        """Keep the answer of the request that holds the reservation."""
        ...

    def release(self, caller: str, key: str, reservation: str) -> None:
        """Free an unanswered reservation (the request failed: a retry may act)."""
        ...

    def answered(self) -> list[tuple[str, str, KeptRequest]]:
        """Every key with its answer kept, as (caller, key, kept): for ``govflow migrate``.
        Reservations still in progress are left out (their request never answered here)."""
        ...

    def put_answered(self, caller: str, key: str, kept: KeptRequest) -> bool:
        """Keep an answered request copied from another store, unless this store already
        holds an answer under that key (then nothing changes): True when kept."""
        ...


class InMemoryIdempotencyStore:
    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], KeptRequest] = {}
        self._lock = threading.Lock()

    def reserve(
        self,
        caller: str,
        key: str,
        kept: KeptRequest,
        *,
        stale_before: float,
        expired_before: float | None = None,
        purge: int = 0,
    ) -> KeptRequest | None:
        expired = float("-inf") if expired_before is None else expired_before
        with self._lock:
            old = sorted(
                (v.reserved_at, k) for k, v in self._kept.items() if v.reserved_at < expired
            )
            for _, gone in old[:purge]:
                del self._kept[gone]
            found = self._kept.get((caller, key))
            if (
                found is None
                or (found.status is None and found.reserved_at < stale_before)
                or found.reserved_at < expired
            ):
                self._kept[(caller, key)] = kept
                return None
            return found

    def mark_unknown(self, caller: str, key: str, reservation: str) -> None:
        with self._lock:
            found = self._kept.get((caller, key))
            if found is not None and found.reservation == reservation and found.status is None:
                self._kept[(caller, key)] = replace(found, body=OUTCOME_UNKNOWN)

    def answer(self, caller: str, key: str, reservation: str, status: int, body: str) -> None:
        with self._lock:
            found = self._kept.get((caller, key))
            if found is not None and found.reservation == reservation:
                self._kept[(caller, key)] = replace(found, status=status, body=body)

    def release(self, caller: str, key: str, reservation: str) -> None:
        with self._lock:
            found = self._kept.get((caller, key))
            if found is not None and found.reservation == reservation and found.status is None:
                del self._kept[(caller, key)]

    def answered(self) -> list[tuple[str, str, KeptRequest]]:
        with self._lock:
            return [(c, k, v) for (c, k), v in self._kept.items() if v.status is not None]

    def put_answered(self, caller: str, key: str, kept: KeptRequest) -> bool:
        with self._lock:
            found = self._kept.get((caller, key))
            if kept.status is None or (found is not None and found.status is not None):
                return False
            self._kept[(caller, key)] = kept
            return True


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS idempotency_keys (caller TEXT NOT NULL, key TEXT NOT NULL, "
    "request_sha256 TEXT NOT NULL, reservation TEXT NOT NULL, "
    "reserved_at DOUBLE PRECISION NOT NULL, status INTEGER, body TEXT, "
    "PRIMARY KEY (caller, key))",
    "CREATE INDEX IF NOT EXISTS idempotency_keys_reserved_at ON idempotency_keys (reserved_at)",
)
_FIELDS = "request_sha256, reservation, reserved_at, status, body"


class SqlIdempotencyStore(SqlTables):
    """One table, keyed by caller and key, through any DB-API connection factory."""

    def __init__(self, connect: Callable[[], Any], placeholder: str) -> None:
        super().__init__(connect, placeholder, _SCHEMA)

    def reserve(
        self,
        caller: str,
        key: str,
        kept: KeptRequest,
        *,
        stale_before: float,
        expired_before: float | None = None,
        purge: int = 0,
    ) -> KeptRequest | None:
        p = self._p
        expired = float("-inf") if expired_before is None else expired_before
        if purge > 0 and expired_before is not None:
            self._purge(expired_before, purge)
        while True:
            with self._transaction() as cursor:
                cursor.execute(
                    f"INSERT INTO idempotency_keys (caller, key, {_FIELDS}) "
                    f"VALUES ({p}, {p}, {p}, {p}, {p}, NULL, NULL) "
                    "ON CONFLICT (caller, key) DO NOTHING",
                    (caller, key, kept.request_sha256, kept.reservation, kept.reserved_at),
                )
                if cursor.rowcount == 1:
                    return None
                cursor.execute(
                    f"UPDATE idempotency_keys SET request_sha256 = {p}, reservation = {p}, "
                    f"reserved_at = {p}, status = NULL, body = NULL "
                    f"WHERE caller = {p} AND key = {p} "
                    f"AND ((status IS NULL AND reserved_at < {p}) OR reserved_at < {p})",
                    (
                        kept.request_sha256,
                        kept.reservation,
                        kept.reserved_at,
                        caller,
                        key,
                        stale_before,
                        expired,
                    ),
                )
                if cursor.rowcount == 1:
                    return None
                cursor.execute(
                    f"SELECT {_FIELDS} FROM idempotency_keys WHERE caller = {p} AND key = {p}",
                    (caller, key),
                )
                row = cursor.fetchone()
            if row is not None:
                return KeptRequest(*row)
            # released between the insert and the select: try again

    def _purge(self, before: float, limit: int) -> None:
        """Delete up to ``limit`` rows reserved before ``before``, the oldest first. Only
        housekeeping: a failure (two purges locking each other, say) is left to the next."""
        p = self._p
        with contextlib.suppress(Exception), self._transaction() as cursor:
            cursor.execute(
                "DELETE FROM idempotency_keys WHERE (caller, key) IN "
                f"(SELECT caller, key FROM idempotency_keys WHERE reserved_at < {p} "
                f"ORDER BY reserved_at LIMIT {p})",
                (before, limit),
            )

    def mark_unknown(self, caller: str, key: str, reservation: str) -> None:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                f"UPDATE idempotency_keys SET body = {p} WHERE caller = {p} AND key = {p} "
                f"AND reservation = {p} AND status IS NULL",
                (OUTCOME_UNKNOWN, caller, key, reservation),
            )

    def answer(self, caller: str, key: str, reservation: str, status: int, body: str) -> None:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                f"UPDATE idempotency_keys SET status = {p}, body = {p} "
                f"WHERE caller = {p} AND key = {p} AND reservation = {p}",
                (status, body, caller, key, reservation),
            )

    def release(self, caller: str, key: str, reservation: str) -> None:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                f"DELETE FROM idempotency_keys WHERE caller = {p} AND key = {p} "
                f"AND reservation = {p} AND status IS NULL",
                (caller, key, reservation),
            )

    def answered(self) -> list[tuple[str, str, KeptRequest]]:
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT caller, key, {_FIELDS} FROM idempotency_keys "
                "WHERE status IS NOT NULL ORDER BY caller, key"
            )
            rows = cursor.fetchall()
        return [(str(r[0]), str(r[1]), KeptRequest(*r[2:])) for r in rows]

    def put_answered(self, caller: str, key: str, kept: KeptRequest) -> bool:
        if kept.status is None:
            return False
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(  # an unanswered reservation here gives way to the answer
                f"INSERT INTO idempotency_keys (caller, key, {_FIELDS}) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) "
                "ON CONFLICT (caller, key) DO UPDATE SET "
                "request_sha256 = excluded.request_sha256, reservation = excluded.reservation, "
                "reserved_at = excluded.reserved_at, status = excluded.status, "
                "body = excluded.body WHERE idempotency_keys.status IS NULL",
                (
                    caller,
                    key,
                    kept.request_sha256,
                    kept.reservation,
                    kept.reserved_at,
                    kept.status,
                    kept.body,
                ),
            )
            return bool(cursor.rowcount == 1)


def sqlite_idempotency_store(path: str) -> SqlIdempotencyStore:
    return SqlIdempotencyStore(sqlite_connector(path), "?")


def postgres_idempotency_store(conninfo: str) -> SqlIdempotencyStore:
    return SqlIdempotencyStore(postgres_connector(conninfo), "%s")
