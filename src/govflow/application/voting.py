"""Use cases: voting windows and ballots, written straight to the event store.

A tally counts the ballots of a round recorded, in notification-log order, after its
``VotingOpened`` and before its ``VotingClosed``: a ballot that lands after the close never
counts, whatever its timestamp says.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID, uuid4

import orjson
from eventsourcing.persistence import IntegrityError

from govflow.application.core import GovernanceCore
from govflow.application.log_reader import scan
from govflow.application.views import BallotReceipt, ReceiptCheck, TallyView
from govflow.domain.ballot import (
    Ballot,
    BallotCast,
    Choice,
    PaperBallotCast,
    ProxyBallotCast,
    SecretChoice,
    SecretChoiceCast,
    TookPart,
    tally,
)
from govflow.domain.base import Aggregate
from govflow.domain.council import Body
from govflow.domain.errors import (
    DoubleVoteError,
    GovflowError,
    NotFoundError,
    RuleViolationError,
    VotingNotOpenError,
)
from govflow.domain.ids import issue_id
from govflow.domain.issue import (
    Issue,
    OpenVoting,
    Tally,
    VotingClosed,
    VotingOpened,
    VotingTallied,
)
from govflow.domain.proxy import Proxy, proxy_id
from govflow.domain.voting import VotingRule

_BALLOT_TOPICS = (BallotCast.TOPIC, ProxyBallotCast.TOPIC, PaperBallotCast.TOPIC)
# a receipt points at a ballot, or at a secret vote's choice (never at who took part)
_RECEIPT_TOPICS = (*_BALLOT_TOPICS, SecretChoiceCast.TOPIC)
_ROUND_TOPICS = (*_RECEIPT_TOPICS, TookPart.TOPIC)
_CHANNELS = {
    ProxyBallotCast.TOPIC: "proxy",
    PaperBallotCast.TOPIC: "paper",
    TookPart.TOPIC: "took_part",
    SecretChoiceCast.TOPIC: "secret",
}
_shuffle = random.SystemRandom().shuffle


class RoundBallot(NamedTuple):
    """One ballot of a round as the log holds it: ``channel`` is ``online`` (the voter's
    own), ``paper`` (纸质选票, from a confirmed batch; ``wins`` is then the procedure's word on
    which of a voter's two ballots counts) or ``proxy`` (委托); in a secret vote,
    ``took_part`` (a voter, no choice) or ``secret`` (a choice and its weight, no voter)."""

    voter: str | None
    choice: str | None
    channel: str
    wins: str | None = None
    weight: Decimal | None = None


class Cast(NamedTuple):
    """One voter's ballot to record: the item, the voter (as the policy found them) and,
    when the caller is a person, their enrolment; ``for_member``: the principal whose proxy
    (委托) the voter is, voting for them."""

    council: str
    number: int
    voter: str
    choice: Choice
    enrolment: int | None = None
    for_member: str | None = None


def _double_vote(cast: Cast, voting: OpenVoting) -> DoubleVoteError:
    whose = f" for {cast.for_member}" if cast.for_member else ""
    return DoubleVoteError(
        f"{cast.voter} has already voted{whose} in {voting.ballot_key}",
        voter=cast.voter,
        ballot_key=voting.ballot_key,
    )


class VotingCases(GovernanceCore):
    def open_voting(
        self,
        code: str,
        number: int,
        stage: str,
        *,
        body: Body,
        rule: VotingRule,
        closes_at: datetime,
        actor: str,
        step: str | None = None,
        secret: bool = True,
    ) -> str:
        """Freeze the body's roll now and open a voting round; returns its ballot key. In a
        ``secret`` vote no choice is ever shown with its voter."""
        council = self.council_to_read(code)
        roll = council.roll_of(body)
        issue = self.issue(code, number)
        key = issue.open_voting(
            stage,
            roll=roll.weights,
            members_of_record=roll.size,
            expected=roll.size,
            rule=rule,
            closes_at=closes_at,
            at=self.now(),
            actor=actor,
            step=step,
            council_version=council.version,
            secret=secret,
        )
        self._save(issue)
        return key

    def cast_ballot(
        self, code: str, number: int, voter: str, choice: Choice, *, enrolment: int | None = None
    ) -> BallotReceipt:
        """Record ``voter``'s ballot straight in the event store.

        The receipt says whether every voter on the roll has now voted, so the caller can tell
        the workflow once (votes themselves never pass through Temporal).
        """
        (outcome,) = self.cast_ballots([Cast(code, number, voter, choice, enrolment)])
        if isinstance(outcome, GovflowError):
            raise outcome
        return outcome

    def cast_ballots(self, casts: Sequence[Cast]) -> list[BallotReceipt | GovflowError]:
        """Record several voters' ballots in one transaction (ballots arrive together by the
        hundred; one commit each would cost more than everything else): each cast's receipt,
        or why it was refused. Refused casts record nothing; if the store refuses the batch
        (someone in it had voted already), each ballot is saved on its own."""
        outcomes: list[BallotReceipt | GovflowError | None] = [None] * len(casts)
        ready: list[tuple[int, Ballot, OpenVoting]] = []
        # the appointments proxies' ballots used, and a secret vote's choices
        uses: list[Aggregate] = []
        receipts: dict[UUID, UUID] = {}  # ballot -> the record its receipt points at
        seen: set[UUID] = set()
        for i, cast in enumerate(casts):
            try:
                voting = self._current_voting(issue_id(cast.council, cast.number))
                ballot, used = self._ballot(cast, voting)
            except GovflowError as refused:
                outcomes[i] = refused
                continue
            if ballot.id in seen or (used is not None and used.id in seen):
                outcomes[i] = _double_vote(cast, voting)
                continue
            seen.add(ballot.id)
            if used is not None:
                seen.add(used.id)
                uses.append(used)
                if isinstance(used, SecretChoice):
                    receipts[ballot.id] = used.id
            ready.append((i, ballot, voting))
        positions: dict[UUID, int] = {}
        # Who took part first, then the choices in no order of theirs: within a batch the
        # log's order does not pair a voter with a secret choice.
        _shuffle(uses)
        try:
            saving = (*(ballot for _, ballot, _ in ready), *uses)
            for recording in self.save(*saving) if ready else ():
                positions[recording.domain_event.originator_id] = recording.notification.id
        except IntegrityError:
            for i, _, voting in ready:  # the failed save took the ballots' events: cast again
                try:
                    ballot, used = self._ballot(casts[i], voting)
                    recorded = self.save(ballot, *([used] if used is not None else []))
                    for recording in recorded:
                        event = recording.domain_event
                        positions[event.originator_id] = recording.notification.id
                    if isinstance(used, SecretChoice):
                        receipts[ballot.id] = used.id
                except IntegrityError:
                    outcomes[i] = _double_vote(casts[i], voting)
                except GovflowError as refused:
                    outcomes[i] = refused
        for i, ballot, voting in ready:
            if outcomes[i] is None:
                kept = receipts.get(ballot.id, ballot.id)
                outcomes[i] = BallotReceipt(
                    ballot_id=kept,
                    ballot_key=voting.ballot_key,
                    notification_id=positions[kept],
                    all_voted=self._count_ballot(voting),
                )
        done = [outcome for outcome in outcomes if outcome is not None]
        assert len(done) == len(casts)
        return done

    def _ballot(self, cast: Cast, voting: OpenVoting) -> tuple[Ballot, Proxy | SecretChoice | None]:
        """The ballot to save and, for a proxy's, the appointment it used, or for a secret
        vote, the choice apart from who took part (save both)."""
        if cast.for_member is None and voting.secret:
            return Ballot.cast_secretly(
                voting,
                cast.voter,
                cast.choice,
                choice_id=uuid4(),
                at=self.now(),
                enrolment=cast.enrolment,
            )
        if cast.for_member is None:
            ballot = Ballot.cast(
                voting, cast.voter, cast.choice, at=self.now(), enrolment=cast.enrolment
            )
            return ballot, None
        stage = voting.ballot_key.rsplit("#", 1)[0]
        try:
            appointment = self._get(
                Proxy, proxy_id(voting.issue_id, stage, cast.for_member), "appointment"
            )
        except NotFoundError:
            raise RuleViolationError(
                f"{cast.voter} holds no appointment from {cast.for_member}",
                voter=cast.voter,
            ) from None
        ballot = Ballot.cast_by_proxy(voting, appointment, cast.voter, cast.choice, at=self.now())
        return ballot, appointment

    def _count_ballot(self, voting: OpenVoting) -> bool:
        """Count one more ballot of the round; True once the whole roll has voted.

        The count is kept per process and confirmed by one scan of the log before it is
        reported, so several processes casting ballots never report a round complete early.
        """
        key = (voting.issue_id, voting.ballot_key)
        with self._votings_lock:
            count = self._ballot_counts.get(key)
            if count is not None:
                self._ballot_counts[key] = count = count + 1
        if count is None or count >= len(voting.roll):
            count = self._count_round(voting.issue_id, voting.ballot_key)
            with self._votings_lock:
                self._ballot_counts[key] = count
        return count >= len(voting.roll)

    def whole_roll_voted(self, code: str, number: int) -> str | None:
        """The open round's key if every voter on its roll has now cast their own ballot
        (online, on paper or secretly), else None: for callers that record several voters'
        ballots at once (a confirmed paper batch) to tell the workflow."""
        voting = self._read_voting(issue_id(code, number))
        if not voting.is_open:
            return None
        count = self._count_round(voting.issue_id, voting.ballot_key)
        with self._votings_lock:
            self._ballot_counts[(voting.issue_id, voting.ballot_key)] = count
        return voting.ballot_key if count >= len(voting.roll) else None

    def _count_round(self, issue_uuid: UUID, ballot_key: str) -> int:
        """How many voters have cast their own ballot: a proxy's ballot (委托) does not end
        the vote early, so its principal may still override it until the vote closes."""
        opened, _ = self._round_positions(issue_uuid, ballot_key)
        return len(set(self._voters(issue_uuid, ballot_key, opened, None)))

    def close_voting(
        self, code: str, number: int, reason: str, *, actor: str, step: str | None = None
    ) -> TallyView:
        """Close the open round and record its tally; safe to repeat with the same ``step``."""
        issue = self.issue(code, number)
        close_step = f"{step}:close" if step else None
        tally_step = f"{step}:tally" if step else None
        if not issue.has_applied(close_step):
            issue.close_voting(reason, at=self.now(), actor=actor, step=close_step)
            self._save(issue)
        voting = issue.voting
        if voting is None:
            raise VotingNotOpenError("no voting was opened on this issue")
        if not issue.has_applied(tally_step):
            opened, closed = self._round_positions(issue.id, voting.ballot_key)
            ballots = list(self._round_ballots(issue.id, voting.ballot_key, opened, closed))
            result = count_round(voting, ballots, counted_up_to=closed)
            issue.record_tally(result, at=self.now(), actor=actor, step=tally_step)
            self._save(issue)
        return self.get_tally(code, number, voting.ballot_key)

    def get_tally(self, code: str, number: int, ballot_key: str) -> TallyView:
        for event in self.events.get(issue_id(code, number)):
            if isinstance(event, VotingTallied) and event.ballot_key == ballot_key:
                return TallyView(
                    ballot_key=ballot_key,
                    yes=event.yes,
                    no=event.no,
                    abstain=event.abstain,
                    participating=event.participating,
                    quorum_met=event.quorum_met,
                    passed=event.passed,
                    rule=event.rule,
                )
        raise VotingNotOpenError(f"round {ballot_key} has no tally yet")

    def _current_voting(self, issue_uuid: UUID) -> OpenVoting:
        return self._once(("voting", issue_uuid), lambda: self._read_voting(issue_uuid))

    def _read_voting(self, issue_uuid: UUID) -> OpenVoting:
        with self._votings_lock:
            cached = self._open_votings.get(issue_uuid)
        if cached is not None and not self.recorder.select_events(
            issue_uuid, gt=cached[0], limit=1
        ):
            voting = cached[1]
        else:
            issue = self._get(Issue, issue_uuid, "issue")
            if issue.voting is None:
                raise VotingNotOpenError("voting is not open")
            voting = issue.voting
            with self._votings_lock:
                self._open_votings[issue_uuid] = (issue.version, voting)
        return voting

    def _round_positions(self, issue_uuid: UUID, ballot_key: str) -> tuple[int, int]:
        """Notification ids of the round's VotingOpened and VotingClosed."""
        opened = closed = 0
        wanted = issue_uuid.hex
        for record in scan(self.log_reader, topics=(VotingOpened.TOPIC, VotingClosed.TOPIC)):
            if record.originator != wanted:
                continue
            state = orjson.loads(self.payload(record.state))
            if state["ballot_key"] == ballot_key:
                if record.topic == VotingOpened.TOPIC:
                    opened = record.id
                else:
                    closed = record.id
        return opened, closed

    def _voters(
        self, issue_uuid: UUID, ballot_key: str, after: int, before: int | None
    ) -> Iterator[str]:
        """The voters who cast their own ballot (online, on paper, or in a secret vote) in
        the range."""
        for found in self._round_ballots(issue_uuid, ballot_key, after, before):
            if found.channel != "proxy" and found.voter is not None:
                yield found.voter

    def _round_ballots(
        self, issue_uuid: UUID, ballot_key: str, after: int, before: int | None
    ) -> Iterator[RoundBallot]:
        """The round's ballots in the range, in log order (a proxy's ballot names the voter it
        was cast for)."""
        wanted_issue = str(issue_uuid)
        stop = None if before is None else before - 1
        for record in scan(self.log_reader, after, stop=stop, topics=_ROUND_TOPICS):
            state = orjson.loads(self.payload(record.state))
            if state["issue_id"] == wanted_issue and state["ballot_key"] == ballot_key:
                channel = _CHANNELS.get(record.topic, "online")
                yield RoundBallot(
                    state.get("voter"),
                    None if channel == "took_part" else state["choice"],
                    channel,
                    state.get("wins"),
                    Decimal(state["weight"]) if channel == "secret" else None,
                )

    def check_receipt(
        self, code: str, number: int, ballot_id: UUID, notification_id: int
    ) -> ReceiptCheck:
        """Check a voter's receipt: the ballot is in the log where the receipt says, and (once
        tallied) inside the range its tally counted."""
        issue_uuid = issue_id(code, number)
        valid = 0 < notification_id < 2**63
        records = self.log_reader.records(notification_id - 1, 1) if valid else []
        found = (
            bool(records)
            and records[0].id == notification_id
            and records[0].originator == ballot_id.hex
            and records[0].topic in _RECEIPT_TOPICS
        )
        if not found:
            return ReceiptCheck(in_log=False, ballot_key=None, tallied=False, counted=False)
        state = orjson.loads(self.payload(records[0].state))
        if state["issue_id"] != str(issue_uuid):
            return ReceiptCheck(in_log=False, ballot_key=None, tallied=False, counted=False)
        key = state["ballot_key"]
        tallies = [
            e
            for e in self.events.get(issue_uuid)
            if isinstance(e, VotingTallied) and e.ballot_key == key
        ]
        counted = bool(tallies) and notification_id <= tallies[-1].counted_up_to
        return ReceiptCheck(in_log=True, ballot_key=key, tallied=bool(tallies), counted=counted)


def count_round(voting: OpenVoting, ballots: Sequence[RoundBallot], *, counted_up_to: int) -> Tally:
    """The tally of a round's ballots as the log holds them (see :func:`tally`)."""

    def pairs(channel: str) -> Iterator[tuple[str, str]]:
        for b in ballots:
            if b.channel == channel and b.voter is not None and b.choice is not None:
                yield b.voter, b.choice

    return tally(
        voting,
        pairs("online"),
        by_proxy=pairs("proxy"),
        on_paper=pairs("paper"),
        paper_wins=any(b.wins == "paper" for b in ballots),
        took_part=(b.voter for b in ballots if b.channel == "took_part" and b.voter),
        secret=(
            (b.choice, b.weight)
            for b in ballots
            if b.channel == "secret" and b.choice is not None and b.weight is not None
        ),
        counted_up_to=counted_up_to,
    )
