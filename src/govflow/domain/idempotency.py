"""What an ``Idempotency-Key`` may be, the refusals of a request that carries one, and the
remembered responses older stores recorded as events.

Responses are now remembered beside the events (``application.idempotency_store``), not in the
log; :class:`RememberedResponse` stays so that stores written before still load.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import GovflowError, InvalidInputError
from govflow.domain.ids import NAMESPACE

MAX_KEY_LENGTH = 255


class IdempotencyKeyInvalidError(GovflowError):
    """The Idempotency-Key header is not 1 to 255 visible ASCII characters."""

    code = "idempotency.key_invalid"
    status = 400


class IdempotencyInProgressError(GovflowError):
    """Another request with the same key is still being handled: retry later to get its
    answer."""

    code = "idempotency.in_progress"
    status = 409


class IdempotencyKeyReusedError(InvalidInputError):
    """The key was used by this caller for a different request (code ``input.invalid``)."""


def check_key(key: str) -> None:
    """Refuse a key that is not 1 to 255 visible ASCII characters (``!`` to ``~``)."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("!" <= ch <= "~" for ch in key):
        raise IdempotencyKeyInvalidError(
            f"an Idempotency-Key has 1 to {MAX_KEY_LENGTH} visible ASCII characters"
        )


class ResponseRemembered(DomainEvent):
    TOPIC = "govflow.idempotency.response_remembered"
    request_sha256: str
    status: int
    body: str


def request_id(caller_sha256: str, key: str) -> UUID:
    """One id per caller and key: the same key from another caller is another request."""
    return uuid5(NAMESPACE, f"idempotency:{caller_sha256}:{key}")


class RememberedResponse(Aggregate):
    """Kept so that stores written before responses moved out of the log still load."""

    created_by = (ResponseRemembered,)

    @classmethod
    def remember(
        cls,
        caller_sha256: str,
        key: str,
        *,
        request_sha256: str,
        status: int,
        body: str,
        at: datetime,
        actor: str,
    ) -> RememberedResponse:
        if not 1 <= len(key) <= 255:
            raise InvalidInputError("an Idempotency-Key has 1 to 255 characters")
        return cls._create(
            ResponseRemembered,
            request_id(caller_sha256, key),
            at=at,
            actor=actor,
            request_sha256=request_sha256,
            status=status,
            body=body,
        )

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, ResponseRemembered):
            self.request_sha256 = event.request_sha256
            self.status = event.status
            self.body = event.body

    def replay_for(self, request_sha256: str) -> tuple[int, str]:
        if request_sha256 != self.request_sha256:
            raise IdempotencyKeyReusedError("this Idempotency-Key was used for a different request")
        return self.status, self.body
