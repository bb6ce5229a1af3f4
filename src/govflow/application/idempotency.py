"""Use cases: reserving a request sent with an Idempotency-Key before it acts, keeping its
answer for retries, releasing the key when the request was refused (nothing happened), and
holding it as ``outcome unknown`` when it failed after it may have acted.

Answers are kept beside the events (:mod:`govflow.application.idempotency_store`), encrypted
like the events when the store has a cipher: an answer may carry a secret shown once (a token).
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from govflow.application.core import GovernanceCore
from govflow.application.idempotency_store import (
    IdempotencyStore,
    InMemoryIdempotencyStore,
    KeptRequest,
    postgres_idempotency_store,
    sqlite_idempotency_store,
)
from govflow.domain.errors import GovflowError
from govflow.domain.idempotency import (
    IdempotencyInProgressError,
    IdempotencyKeyReusedError,
    check_key,
)

# A reservation never answered for this long was left by a process that died, or its request
# failed with an unknown outcome: a retry may act. Far longer than any request runs (one waits
# on a workflow for 30 s, ``IssueClient.answer_within``, but may also wait on the database,
# a slow client, a long upload), so that a retry never acts beside a request still running.
STALE_AFTER = 15 * 60.0
# An answer is replayed for a day after its request; older rows are deleted, PURGE_BATCH at a
# time by later reservations (so the table stays bounded without a sweeper).
KEEP_ANSWERS = 24 * 3600.0
PURGE_BATCH = 8


class IdempotencyOutcomeUnknownError(GovflowError):
    """The first request with this key failed after it may have acted (a 5xx, a timeout): a
    retry must not act again blindly."""

    code = "idempotency.outcome_unknown"
    status = 409


class IdempotencyNotReplayableError(GovflowError):
    """The first request succeeded, but its answer carried a secret shown once: it was not
    kept, so it cannot be replayed (what the guard keeps in its place)."""

    code = "idempotency.not_replayable"
    status = 409


_SEALED = "sealed:"


@dataclass(frozen=True)
class Reservation:
    """The key held by one request until it answers or fails."""

    caller: str
    key: str
    reservation: str


@dataclass(frozen=True)
class Replay:
    """The first answer to the same request, to send back instead of acting again."""

    status: int
    body: str


class IdempotencyCases(GovernanceCore):
    _idempotency_store: IdempotencyStore | None = None
    _idempotency_lock = threading.Lock()

    @property
    def idempotency_store(self) -> IdempotencyStore:
        with self._idempotency_lock:
            if self._idempotency_store is None:
                in_memory: Callable[[], IdempotencyStore] = InMemoryIdempotencyStore
                self._idempotency_store = self.side_store(
                    sqlite_idempotency_store, postgres_idempotency_store, in_memory
                )
            return self._idempotency_store

    def reserve_request(
        self, caller: str, key: str, request_sha256: str, *, now: float | None = None
    ) -> Reservation | Replay:
        """Hold ``key`` for this caller's request before it acts, or get the first answer to
        the same request. Raises ``idempotency.in_progress`` while another copy holds it,
        ``idempotency.outcome_unknown`` while a failed one does, and ``input.invalid`` when
        the key was used for another request. Answers older than ``KEEP_ANSWERS`` are not
        replayed (the key is free again); a few such rows are deleted on the way."""
        check_key(key)
        at = time.time() if now is None else now
        mine = KeptRequest(request_sha256, secrets.token_hex(16), at)
        found = self.idempotency_store.reserve(
            caller,
            key,
            mine,
            stale_before=at - STALE_AFTER,
            expired_before=at - KEEP_ANSWERS,
            purge=PURGE_BATCH,
        )
        if found is None:
            return Reservation(caller, key, mine.reservation)
        if found.request_sha256 != request_sha256:
            raise IdempotencyKeyReusedError("this Idempotency-Key was used for a different request")
        if found.outcome_unknown:
            raise IdempotencyOutcomeUnknownError(
                "the first request with this Idempotency-Key failed and its outcome is unknown "
                "(it may have taken effect): check the item's status before retrying with a "
                "new key"
            )
        if found.status is None or found.body is None:
            raise IdempotencyInProgressError(
                "a request with this Idempotency-Key is still being handled: retry later"
            )
        return Replay(found.status, self._unseal(found.body))

    def keep_answer(self, held: Reservation, status: int, body: str) -> None:
        """Keep the answer to the request holding ``held``: retries get it back."""
        self.idempotency_store.answer(
            held.caller, held.key, held.reservation, status, self._seal(body)
        )

    def release_request(self, held: Reservation) -> None:
        """Let a retry act: the request holding ``held`` was refused before anything
        happened."""
        self.idempotency_store.release(held.caller, held.key, held.reservation)

    def outcome_unknown(self, held: Reservation) -> None:
        """Keep ``held`` until it goes stale: its request failed after it may have acted, so
        a copy must not act again (it is told ``idempotency.outcome_unknown``)."""
        self.idempotency_store.mark_unknown(held.caller, held.key, held.reservation)

    def _seal(self, body: str) -> str:
        cipher = self.mapper.cipher
        if cipher is None:
            return body
        return _SEALED + base64.b64encode(cipher.encrypt(body.encode())).decode()

    def _unseal(self, body: str) -> str:
        if not body.startswith(_SEALED) or self.mapper.cipher is None:
            return body
        return self.mapper.cipher.decrypt(base64.b64decode(body[len(_SEALED) :])).decode()
