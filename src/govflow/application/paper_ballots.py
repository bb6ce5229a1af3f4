"""Use cases: paper ballots (纸质选票) entered in batches and confirmed by a scrutineer (监票人).

Whether a vote stage takes paper ballots, and which ballot counts when a voter has both an
online and a paper one, is the procedure's (the caller passes the stage's
:class:`~govflow.domain.procedure.Paper`). A batch is refused, recording nothing, when the
procedure does not allow paper ballots, when the vote is not open, when a voter is off the frozen
roll or already in another batch of the round. Confirming a batch writes its paper ballots and the
confirmation in one save: if any voter of the batch already has a paper ballot, the store refuses
the whole save and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.persistence import IntegrityError

from govflow.application.voting import VotingCases
from govflow.domain.ballot import Ballot, Choice, double_channel
from govflow.domain.errors import (
    AlreadyExistsError,
    DoubleVoteError,
    NotFoundError,
    RuleViolationError,
    VotingNotOpenError,
)
from govflow.domain.ids import issue_id
from govflow.domain.issue import OpenVoting
from govflow.domain.paper import PaperBatch, PaperEntry, paper_batch_id
from govflow.domain.procedure import Paper


@dataclass(frozen=True)
class BatchView:
    """A batch of paper ballots: pending until ``confirmed_by`` (the scrutineer) is set."""

    number: int
    ballot_key: str
    entered_by: str
    confirmed_by: str | None
    entries: tuple[PaperEntry, ...]


@dataclass(frozen=True)
class RefusedBallot:
    """A voter with both an online and a paper ballot: the ``refused`` one (``online`` or
    ``paper``) is not counted ("refused: double channel")."""

    voter: str
    refused: str


class PaperBallotCases(VotingCases):
    def enter_paper_ballots(
        self,
        code: str,
        number: int,
        stage: str,
        entries: Sequence[PaperEntry],
        *,
        paper: Paper,
        actor: str,
    ) -> int:
        """Record a batch of paper ballots for the item's open vote ``stage``, pending until a
        scrutineer confirms it; returns the batch's number in the round."""
        if not paper.allowed:
            raise RuleViolationError(
                "the procedure does not take paper ballots for this vote", stage=stage
            )
        voting = self._paper_voting(code, number, stage)
        batches = self.paper_batches(code, number)
        taken = {e.voter: b.number for b in batches for e in b.entries}
        for entry in entries:
            if entry.voter in taken:
                raise AlreadyExistsError(
                    f"{entry.voter} already has a paper ballot in batch {taken[entry.voter]}",
                    voter=entry.voter,
                )
        batch = PaperBatch.enter(
            voting,
            len(batches) + 1,
            tuple(entries),
            council=code,
            wins=paper.wins,
            at=self.now(),
            actor=actor,
        )
        self._save_new(batch, what=f"paper batch {len(batches) + 1}")
        return batch.number

    def confirm_paper_ballots(self, code: str, number: int, batch: int, *, actor: str) -> int:
        """The scrutineer ``actor`` confirms the batch: its paper ballots are recorded with the
        confirmation (one save); returns how many."""
        voting = self._current_voting(issue_id(code, number))
        try:
            found = self._get(
                PaperBatch, paper_batch_id(voting.issue_id, voting.ballot_key, batch), "batch"
            )
        except NotFoundError:
            raise NotFoundError(f"no paper batch {batch} in the open vote") from None
        found.confirm(actor, at=self.now())
        ballots = [
            Ballot.cast_on_paper(
                voting,
                entry.voter,
                Choice(entry.choice),
                scan_sha256=entry.scan_sha256,
                batch=found.number,
                entered_by=found.entered_by,
                scrutineer=actor,
                wins=found.wins,
                at=self.now(),
            )
            for entry in found.entries
        ]
        try:
            self.save(found, *ballots)
        except IntegrityError:
            raise DoubleVoteError(
                f"a voter of batch {batch} already has a paper ballot (or the batch was confirmed "
                "meanwhile): nothing was recorded",
                batch=batch,
            ) from None
        return len(ballots)

    def _paper_voting(self, code: str, number: int, stage: str) -> OpenVoting:
        voting = self._current_voting(issue_id(code, number))
        if voting.ballot_key.rsplit("#", 1)[0] != stage or not voting.is_open:
            raise VotingNotOpenError(f"the vote {stage} is not open", stage=stage)
        return voting

    def paper_batches(
        self, code: str, number: int, ballot_key: str | None = None
    ) -> list[BatchView]:
        """The batches of the round ``ballot_key`` (by default the item's latest), in order."""
        issue_uuid = issue_id(code, number)
        if ballot_key is None:
            voting = self.issue(code, number).voting
            if voting is None:
                return []
            ballot_key = voting.ballot_key
        found: list[BatchView] = []
        while True:
            try:
                batch = self._get(
                    PaperBatch, paper_batch_id(issue_uuid, ballot_key, len(found) + 1), "batch"
                )
            except NotFoundError:
                return found
            found.append(
                BatchView(
                    number=batch.number,
                    ballot_key=ballot_key,
                    entered_by=batch.entered_by,
                    confirmed_by=batch.confirmed_by,
                    entries=batch.entries,
                )
            )

    def refused_ballots(
        self, code: str, number: int, ballot_key: str | None = None
    ) -> list[RefusedBallot]:
        """For the scrutineers: the voters of the round with both an online and a paper
        ballot, and which one is not counted ("refused: double channel")."""
        issue_uuid = issue_id(code, number)
        if ballot_key is None:
            voting = self.issue(code, number).voting
            if voting is None:
                return []
            ballot_key = voting.ballot_key
        opened, closed = self._round_positions(issue_uuid, ballot_key)
        ballots = list(self._round_ballots(issue_uuid, ballot_key, opened, closed or None))
        refused = double_channel(
            (b.voter for b in ballots if b.channel == "online" and b.voter),
            (b.voter for b in ballots if b.channel == "paper" and b.voter),
            paper_wins=any(b.wins == "paper" for b in ballots),
        )
        return [RefusedBallot(voter, channel) for voter, channel in refused]
