"""A remembered response to a POST sent with an ``Idempotency-Key``: a retry gets it back
instead of acting twice."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import InvalidInputError
from govflow.domain.ids import NAMESPACE


class ResponseRemembered(DomainEvent):
    TOPIC = "govflow.idempotency.response_remembered"
    request_sha256: str
    status: int
    body: str


def request_id(caller_sha256: str, key: str) -> UUID:
    """One id per caller and key: the same key from another caller is another request."""
    return uuid5(NAMESPACE, f"idempotency:{caller_sha256}:{key}")


class RememberedResponse(Aggregate):
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
            raise InvalidInputError("this Idempotency-Key was used for a different request")
        return self.status, self.body
