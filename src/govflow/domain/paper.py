"""Paper ballots (纸质选票) entered from the ballot box, in batches a scrutineer confirms.

The clerk (or the chair of the voting body) enters a batch: one line per paper ballot, the voter
on the frozen roll, the choice, and the sha256 of the ballot's scan. The batch counts for nothing
until a scrutineer (监票人, another person than the one who entered it) confirms it; confirming
writes one paper ballot per voter (:meth:`govflow.domain.ballot.Ballot.cast_on_paper`, a separate
ballot aggregate per voter and round, so the store refuses a second paper ballot of a voter) in the
same save as the confirmation.

Which ballot counts when a voter has both an online and a paper ballot is the procedure's
(``wins``); the batch records it as the procedure said when it was entered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import (
    InvalidInputError,
    NotOnRollError,
    RuleViolationError,
    SecretVoteError,
    VotingNotOpenError,
)
from govflow.domain.ids import NAMESPACE
from govflow.domain.issue import OpenVoting

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Wins = Literal["online", "paper"]
MAX_BATCH = 2000  # a ballot box's worth; larger boxes are entered in several batches


class PaperEntry(BaseModel):
    """One paper ballot as read from the box."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    voter: str = Field(min_length=1, max_length=64)
    choice: Literal["yes", "no", "abstain"]
    scan_sha256: Sha256


def paper_batch_id(issue: UUID, ballot_key: str, number: int) -> UUID:
    """The ``number``-th batch of paper ballots entered for one voting round."""
    return uuid5(NAMESPACE, f"paper-batch:{issue}:{ballot_key}:{number}")


class PaperBatchEntered(DomainEvent):
    """A batch of paper ballots was entered; it counts only once a scrutineer confirms it."""

    TOPIC = "govflow.paper_batch.entered"
    council: str
    issue_id: UUID
    ballot_key: str
    number: int
    entries: tuple[PaperEntry, ...]
    wins: Wins  # the procedure's: which ballot counts when a voter has both


class PaperBatchConfirmed(DomainEvent):
    """A scrutineer (监票人) confirmed the batch: its paper ballots were recorded with it."""

    TOPIC = "govflow.paper_batch.confirmed"
    scrutineer: str


class PaperBatch(Aggregate):
    created_by = (PaperBatchEntered,)

    @classmethod
    def enter(
        cls,
        voting: OpenVoting,
        number: int,
        entries: tuple[PaperEntry, ...],
        *,
        council: str,
        wins: Wins,
        at: datetime,
        actor: str,
    ) -> PaperBatch:
        """Enter a batch for the open round; refused when voting is not open, when a voter is
        off the frozen roll, or when a voter appears twice in the batch; a secret vote takes
        no paper ballots (a line pairs a voter with a choice)."""
        if voting.secret:
            raise SecretVoteError("a secret vote takes no paper ballots")
        if not voting.is_open or at >= voting.closes_at:
            raise VotingNotOpenError("voting is not open", ballot_key=voting.ballot_key)
        if not 1 <= len(entries) <= MAX_BATCH:
            raise InvalidInputError(f"a batch holds 1 to {MAX_BATCH} paper ballots")
        seen: set[str] = set()
        for entry in entries:
            if entry.voter not in voting.roll:
                raise NotOnRollError(
                    f"{entry.voter} is not on the roll frozen when voting opened",
                    voter=entry.voter,
                )
            if entry.voter in seen:
                raise RuleViolationError(
                    f"{entry.voter} has two paper ballots in this batch", voter=entry.voter
                )
            seen.add(entry.voter)
        return cls._create(
            PaperBatchEntered,
            paper_batch_id(voting.issue_id, voting.ballot_key, number),
            at=at,
            actor=actor,
            council=council,
            issue_id=voting.issue_id,
            ballot_key=voting.ballot_key,
            number=number,
            entries=entries,
            wins=wins,
        )

    def confirm(self, scrutineer: str, *, at: datetime) -> None:
        """The scrutineer confirms the batch: never the person who entered it, and once."""
        if self.confirmed_by is not None:
            raise RuleViolationError(
                f"batch {self.number} was already confirmed by {self.confirmed_by}"
            )
        if scrutineer == self.entered_by:
            raise RuleViolationError(
                "the scrutineer (监票人) who confirms a batch cannot be the person who entered it",
                batch=self.number,
            )
        self._trigger(PaperBatchConfirmed, at=at, actor=scrutineer, scrutineer=scrutineer)

    @property
    def entries(self) -> tuple[PaperEntry, ...]:
        return self._entries

    def apply(self, event: DomainEvent) -> None:
        match event:
            case PaperBatchEntered():
                self.council = event.council
                self.issue_id = event.issue_id
                self.ballot_key = event.ballot_key
                self.number = event.number
                # the choices are kept out of the aggregate's public state (a state view shows
                # who is in the batch, never what they chose)
                self._entries = event.entries
                self.voters = tuple(entry.voter for entry in event.entries)
                self.wins = event.wins
                self.entered_by = event.actor
                self.entered_at = event.timestamp
                self.confirmed_by: str | None = None
            case PaperBatchConfirmed():
                self.confirmed_by = event.scrutineer
