"""Witnesses' cosignatures of the verifiable log's checkpoints: accepted from the witnesses the
council's settings expect only (each verified against the checkpoint it names), kept beside the
checkpoints, and shown with them: a checkpoint's note with the witnesses' lines after the log's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from govflow.application.log_store import LogStore, StoredCheckpoint, StoredCosignature
from govflow.application.sealer import LogProofs, log_store_of
from govflow.domain.errors import GovflowError, InvalidInputError
from govflow.transparency import TransparencyError, UnknownWitnessError, Verifier
from govflow.transparency import accept_cosignatures as verified_cosignatures

if TYPE_CHECKING:
    from govflow.application.core import GovernanceCore


class UnexpectedWitnessError(GovflowError):
    """A cosignature by a key the council's settings do not name as a witness's."""

    code = "witness.unknown"
    status = 403


class InvalidCosignatureError(InvalidInputError):
    """A posted cosignature that is not one (malformed, or not over this checkpoint)."""

    code = "witness.invalid_cosignature"


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A signed checkpoint with the witnesses' cosignatures kept of it."""

    checkpoint: StoredCheckpoint
    cosignatures: tuple[StoredCosignature, ...] = ()

    @property
    def note(self) -> str:
        """The note as published: the log's signature, then each witness's line."""
        return self.checkpoint.note + "".join(c.line for c in self.cosignatures)

    @property
    def witnesses(self) -> list[str]:
        return [c.name for c in self.cosignatures]

    def cosigned_by(self, witness: Verifier) -> StoredCosignature | None:
        return next(
            (c for c in self.cosignatures if (c.name, c.key_id) == (witness.name, witness.key_id)),
            None,
        )


class LogWitnesses:
    """Cosignatures in and out.

    Args:
        store: the log's tables.
        witnesses: the witnesses' public keys the council expects (GOVFLOW_LOG_WITNESSES).
        clock: when a cosignature was received.
    """

    def __init__(
        self, store: LogStore, witnesses: Sequence[Verifier], clock: Callable[[], datetime]
    ) -> None:
        self.store, self.witnesses, self.clock = store, tuple(witnesses), clock

    @classmethod
    def of(cls, app: GovernanceCore, witnesses: Sequence[Verifier]) -> LogWitnesses:
        return cls(log_store_of(app), witnesses, app.now)

    def add_cosignatures(self, size: int, posted: str) -> CosignedCheckpoint:
        """Keep the cosignatures in ``posted`` (the checkpoint's note with the witness's line,
        or bare lines) of the checkpoint of ``size`` leaves, once each verifies by an expected
        witness's key; returns the checkpoint with all its cosignatures."""
        checkpoint = LogProofs(self.store).get_checkpoint(size)
        try:
            signatures = verified_cosignatures(checkpoint.note, posted, self.witnesses)
        except UnknownWitnessError as error:
            raise UnexpectedWitnessError(error.message, **error.details) from None
        except TransparencyError as error:
            raise InvalidCosignatureError(error.message, **error.details) from None
        if not signatures:
            raise InvalidCosignatureError("no cosignature in the body")
        now = self.clock()
        self.store.add_cosignatures(
            [StoredCosignature(size, s.name, s.key_id, s.line(), now) for s in signatures]
        )
        return self.cosigned([checkpoint])[0]

    def cosigned(self, checkpoints: Iterable[StoredCheckpoint]) -> list[CosignedCheckpoint]:
        """Each checkpoint with the cosignatures kept of it."""
        listed = list(checkpoints)
        found = self.store.cosignatures(c.size for c in listed)
        return [CosignedCheckpoint(c, tuple(found.get(c.size, ()))) for c in listed]
