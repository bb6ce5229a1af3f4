"""Witnesses' cosignatures of the verifiable log's checkpoints: accepted from the witnesses the
council's settings expect only (each verified against the checkpoint it names), kept beside the
checkpoints, and shown with them: a checkpoint's note with the witnesses' lines after the log's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from govflow.application.log_store import LogStore, StoredCheckpoint, StoredCosignature
from govflow.application.sealer import log_store_of
from govflow.domain.errors import GovflowError, InvalidInputError, NotFoundError
from govflow.transparency import (
    FutureCosignatureError,
    TransparencyError,
    UnknownCheckpointError,
    UnknownWitnessError,
    Verifier,
)
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


class UnissuedCheckpointError(NotFoundError):
    """A cosignature of a checkpoint the log never issued: no checkpoint of that size, or a
    note that is not the one signed at that size."""

    code = "witness.unknown_checkpoint"


class FutureDatedCosignatureError(InvalidInputError):
    """A cosignature dated later than the server's clock allows (MAX_CLOCK_SKEW)."""

    code = "witness.future_timestamp"


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A signed checkpoint with the witnesses' cosignatures kept of it."""

    checkpoint: StoredCheckpoint
    cosignatures: tuple[StoredCosignature, ...] = ()
    named: int = 0  # of those, by a witness the council names now
    minimum: int = 0  # how many named witnesses make it witnessed (GOVFLOW_LOG_MIN_WITNESSES)

    @property
    def witnessed(self) -> bool:
        """Whether it reached the minimum number of named witnesses' cosignatures."""
        return self.named >= self.minimum

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
        minimum: how many of them must co-sign a checkpoint for it to be witnessed
            (GOVFLOW_LOG_MIN_WITNESSES).
        wall_clock: POSIX seconds now, as witnesses date their cosignatures: one dated more
            than ``MAX_CLOCK_SKEW`` seconds later is refused.
    """

    def __init__(
        self,
        store: LogStore,
        witnesses: Sequence[Verifier],
        clock: Callable[[], datetime],
        minimum: int = 0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.witnesses, self.clock = store, tuple(witnesses), clock
        self.minimum, self.wall_clock = minimum, wall_clock

    @classmethod
    def of(
        cls, app: GovernanceCore, witnesses: Sequence[Verifier], minimum: int = 0
    ) -> LogWitnesses:
        return cls(log_store_of(app), witnesses, app.now, minimum)

    def add_cosignatures(self, size: int, posted: str) -> CosignedCheckpoint:
        """Keep the cosignatures in ``posted`` (the checkpoint's note with the witness's line,
        or bare lines) of the checkpoint of ``size`` leaves, once each verifies by an expected
        witness's key; returns the checkpoint with all its cosignatures. Nothing is kept if
        any of them is refused: by a key no named witness holds, not verifying, of a
        checkpoint the log never issued, or dated in the future."""
        checkpoint = self.store.checkpoint(size)
        if checkpoint is None:
            raise UnissuedCheckpointError("the log issued no checkpoint of that size", size=size)
        try:
            signatures = verified_cosignatures(
                checkpoint.note, posted, self.witnesses, now=self.wall_clock()
            )
        except UnknownWitnessError as error:
            raise UnexpectedWitnessError(error.message, **error.details) from None
        except UnknownCheckpointError as error:
            raise UnissuedCheckpointError(error.message, size=size) from None
        except FutureCosignatureError as error:
            raise FutureDatedCosignatureError(error.message, **error.details) from None
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
        named = {(w.name, w.key_id) for w in self.witnesses}
        cosigned = []
        for c in listed:
            kept = tuple(found.get(c.size, ()))
            by_named = len({(k.name, k.key_id) for k in kept} & named)
            cosigned.append(CosignedCheckpoint(c, kept, by_named, self.minimum))
        return cosigned
