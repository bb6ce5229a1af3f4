"""Use cases: remembering and recalling responses to POSTs with an Idempotency-Key."""

from __future__ import annotations

import contextlib

from eventsourcing.persistence import IntegrityError

from govflow.application.core import GovernanceCore
from govflow.domain.errors import NotFoundError
from govflow.domain.idempotency import RememberedResponse, request_id


class IdempotencyCases(GovernanceCore):
    def recall_response(
        self, caller_sha256: str, key: str, request_sha256: str
    ) -> tuple[int, str] | None:
        """The response given to this caller's earlier request with ``key``, if any."""
        try:
            remembered = self._get(RememberedResponse, request_id(caller_sha256, key), "request")
        except NotFoundError:
            return None
        return remembered.replay_for(request_sha256)

    def remember_response(
        self,
        caller_sha256: str,
        key: str,
        request_sha256: str,
        *,
        status: int,
        body: str,
        actor: str,
    ) -> None:
        remembered = RememberedResponse.remember(
            caller_sha256,
            key,
            request_sha256=request_sha256,
            status=status,
            body=body,
            at=self.now(),
            actor=actor,
        )
        # A concurrent retry may have remembered it first: the first answer stands.
        with contextlib.suppress(IntegrityError):
            self.save(remembered)
