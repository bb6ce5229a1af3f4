"""One vote of one voter in one voting round; the store refuses a second one by id."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal
from uuid import UUID, uuid5

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import (
    NotOnRollError,
    RuleViolationError,
    SecretVoteError,
    VotingNotOpenError,
)
from govflow.domain.ids import NAMESPACE, ballot_id
from govflow.domain.issue import OpenVoting, Tally
from govflow.domain.proxy import Proxy
from govflow.domain.voting import Counts, Electorate, decide


class Choice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class BallotCast(DomainEvent):
    TOPIC = "govflow.ballot.cast"
    issue_id: UUID
    ballot_key: str
    voter: str
    choice: Choice
    weight: Decimal


class ProxyBallotCast(DomainEvent):
    """A proxy (委托) voted for a voter on the roll; the voter's own ballot overrides it."""

    TOPIC = "govflow.ballot.cast_by_proxy"
    issue_id: UUID
    ballot_key: str
    voter: str  # the principal, on the frozen roll
    proxy: str
    choice: Choice
    weight: Decimal


class PaperBallotCast(DomainEvent):
    """A paper ballot (纸质选票) from the box, recorded when a scrutineer (监票人) confirmed its
    batch; ``wins`` (the procedure's) says whether it or the voter's online ballot counts when
    the voter has both."""

    TOPIC = "govflow.ballot.cast_on_paper"
    issue_id: UUID
    ballot_key: str
    voter: str
    choice: Choice
    weight: Decimal
    scan_sha256: str  # the ballot's scan
    batch: int
    entered_by: str
    scrutineer: str
    wins: Literal["online", "paper"]


class TookPart(DomainEvent):
    """A voter took part in a secret vote: who, never what. Their choice is a
    :class:`SecretChoice` of its own, saved in the same transaction, that names no voter."""

    TOPIC = "govflow.ballot.took_part"
    issue_id: UUID
    ballot_key: str
    voter: str
    weight: Decimal


class SecretChoiceCast(DomainEvent):
    """One choice in a secret vote, with no voter: a random id (the voter's receipt holds it),
    the choice and its weight on the frozen roll (for an area-weighted count)."""

    TOPIC = "govflow.ballot.secret_choice"
    issue_id: UUID
    ballot_key: str
    choice: Choice
    weight: Decimal


SECRET_ACTOR = "secret-ballot"  # a secret choice's actor: never the voter


def paper_ballot_id(issue: UUID, ballot_key: str, voter: str) -> UUID:
    """The voter's paper ballot: apart from their online one, one per round."""
    return uuid5(NAMESPACE, f"ballot:{issue}:{ballot_key}:{voter}:paper")


def proxy_ballot_id(issue: UUID, ballot_key: str, principal: str) -> UUID:
    """The proxy's ballot for ``principal``: apart from the principal's own, one per round."""
    return uuid5(NAMESPACE, f"ballot:{issue}:{ballot_key}:{principal}:proxy")


def _check_open(voting: OpenVoting, at: datetime) -> None:
    if not voting.is_open or at >= voting.closes_at:
        raise VotingNotOpenError("voting is not open", ballot_key=voting.ballot_key)


def _named_only(voting: OpenVoting, what: str) -> None:
    """Proxies and paper ballots need a choice linked to its voter (an override, a double
    channel): a secret vote takes neither (procedures refuse the combination too)."""
    if voting.secret:
        raise SecretVoteError(f"a secret vote takes no {what}", ballot_key=voting.ballot_key)


def _weight_on_roll(voting: OpenVoting, voter: str, enrolment: int | None = None) -> Decimal:
    """``voter``'s weight on the frozen roll, as the person enrolled when it was frozen."""
    weight = voting.roll.get(voter)
    if weight is None:
        raise NotOnRollError(f"{voter} is not on the roll frozen when voting opened", voter=voter)
    frozen = voting.council_version
    if enrolment is not None and frozen is not None and enrolment > frozen:
        raise NotOnRollError(
            f"{voter} was enrolled after the roll was frozen: the seat is another person's",
            voter=voter,
        )
    return weight


class SecretChoice(Aggregate):
    """A choice in a secret vote (see :class:`SecretChoiceCast`)."""

    created_by = (SecretChoiceCast,)

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, SecretChoiceCast):
            self.issue_id = event.issue_id
            self.ballot_key = event.ballot_key
            self.choice = event.choice


class Ballot(Aggregate):
    created_by = (BallotCast, ProxyBallotCast, PaperBallotCast, TookPart)

    @classmethod
    def cast(
        cls,
        voting: OpenVoting,
        voter: str,
        choice: Choice,
        *,
        at: datetime,
        enrolment: int | None = None,
    ) -> Ballot:
        """Cast ``voter``'s ballot; refused unless voting is open and they are on the roll, as
        the person enrolled when it was frozen (``enrolment``, when the caller is known). A
        named vote only: a secret vote's ballot is :meth:`cast_secretly`."""
        if voting.secret:
            raise SecretVoteError(
                "a secret vote records who took part apart from the choice",
                ballot_key=voting.ballot_key,
            )
        _check_open(voting, at)
        weight = _weight_on_roll(voting, voter, enrolment)
        return cls._create(
            BallotCast,
            ballot_id(voting.issue_id, voting.ballot_key, voter),
            at=at,
            actor=voter,
            issue_id=voting.issue_id,
            ballot_key=voting.ballot_key,
            voter=voter,
            choice=choice,
            weight=weight,
        )

    @classmethod
    def cast_secretly(
        cls,
        voting: OpenVoting,
        voter: str,
        choice: Choice,
        *,
        choice_id: UUID,
        at: datetime,
        enrolment: int | None = None,
    ) -> tuple[Ballot, SecretChoice]:
        """``voter``'s part in a secret vote and their choice, apart: the ballot (its id from
        the voter, so the store refuses a second) records who took part; the choice
        (``choice_id``: random, for the voter's receipt) records what, naming no one. Save
        both together."""
        if not voting.secret:
            raise RuleViolationError("a named vote records the voter with the choice")
        _check_open(voting, at)
        weight = _weight_on_roll(voting, voter, enrolment)
        ballot = cls._create(
            TookPart,
            ballot_id(voting.issue_id, voting.ballot_key, voter),
            at=at,
            actor=voter,
            issue_id=voting.issue_id,
            ballot_key=voting.ballot_key,
            voter=voter,
            weight=weight,
        )
        secret = SecretChoice._create(
            SecretChoiceCast,
            choice_id,
            at=at,
            actor=SECRET_ACTOR,
            issue_id=voting.issue_id,
            ballot_key=voting.ballot_key,
            choice=choice,
            weight=weight,
        )
        return ballot, secret

    @classmethod
    def cast_by_proxy(
        cls, voting: OpenVoting, appointment: Proxy, proxy: str, choice: Choice, *, at: datetime
    ) -> Ballot:
        """Cast the principal's ballot as their ``proxy``, recording its use on the live
        ``appointment`` (save both together)."""
        _named_only(voting, "proxies")
        _check_open(voting, at)
        principal = appointment.principal
        stage = voting.ballot_key.rsplit("#", 1)[0]
        if appointment.issue_id != voting.issue_id or appointment.stage != stage:
            raise RuleViolationError("the appointment is for another vote", principal=principal)
        weight = voting.roll.get(principal)
        if weight is None:
            raise NotOnRollError(
                f"{principal} is not on the roll frozen when voting opened", voter=principal
            )
        appointment.use(voting.ballot_key, proxy, at=at)
        return cls._create(
            ProxyBallotCast,
            proxy_ballot_id(voting.issue_id, voting.ballot_key, principal),
            at=at,
            actor=proxy,
            issue_id=voting.issue_id,
            ballot_key=voting.ballot_key,
            voter=principal,
            proxy=proxy,
            choice=choice,
            weight=weight,
        )

    @classmethod
    def cast_on_paper(
        cls,
        voting: OpenVoting,
        voter: str,
        choice: Choice,
        *,
        scan_sha256: str,
        batch: int,
        entered_by: str,
        scrutineer: str,
        wins: Literal["online", "paper"],
        at: datetime,
    ) -> Ballot:
        """Record ``voter``'s paper ballot as its batch is confirmed (save with the batch)."""
        _named_only(voting, "paper ballots")
        _check_open(voting, at)
        weight = voting.roll.get(voter)
        if weight is None:
            raise NotOnRollError(
                f"{voter} is not on the roll frozen when voting opened", voter=voter
            )
        return cls._create(
            PaperBallotCast,
            paper_ballot_id(voting.issue_id, voting.ballot_key, voter),
            at=at,
            actor=scrutineer,
            issue_id=voting.issue_id,
            ballot_key=voting.ballot_key,
            voter=voter,
            choice=choice,
            weight=weight,
            scan_sha256=scan_sha256,
            batch=batch,
            entered_by=entered_by,
            scrutineer=scrutineer,
            wins=wins,
        )

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, BallotCast | ProxyBallotCast | PaperBallotCast | TookPart):
            self.issue_id = event.issue_id
            self.ballot_key = event.ballot_key
            self.voter = event.voter
            self.choice = None if isinstance(event, TookPart) else event.choice
            self.proxy = event.proxy if isinstance(event, ProxyBallotCast) else None
            self.on_paper = isinstance(event, PaperBallotCast)


def tally(
    voting: OpenVoting,
    ballots: Iterable[tuple[str, str]],
    *,
    counted_up_to: int,
    by_proxy: Iterable[tuple[str, str]] = (),
    on_paper: Iterable[tuple[str, str]] = (),
    paper_wins: bool = False,
    took_part: Iterable[str] = (),
    secret: Iterable[tuple[str, Decimal]] = (),
) -> Tally:
    """Count ``(voter, choice)`` pairs against the frozen roll and the round's rule: each
    voter's own ballots first, online (``ballots``) and paper (``on_paper``), and of a voter
    with both only the one the procedure says wins (``paper_wins``); then, for each voter on
    the roll without a ballot of their own, their proxy's (``by_proxy``: ``(principal,
    choice)``): the voter's own ballot overrides the proxy's.

    A secret vote's ballots come apart: ``took_part`` (the voters) and ``secret`` (``(choice,
    weight)`` pairs naming no one), saved together one for one.

    Voters off the roll and second ballots of a voter are ignored: the store already refuses
    them, this keeps the count right even if it did not.
    """
    seen: set[str] = set()
    online = [(voter, choice, "online") for voter, choice in ballots]
    paper = [(voter, choice, "paper") for voter, choice in on_paper]
    proxied = [(voter, choice, "proxy") for voter, choice in by_proxy]
    own = (*paper, *online) if paper_wins else (*online, *paper)
    hidden = [(voter, None, "secret") for voter in took_part]
    yes = no = abstain = proxies = papers = 0
    yes_area = present_area = Decimal(0)

    def count(choice: str, weight: Decimal) -> None:
        nonlocal yes, no, abstain, yes_area
        if choice == Choice.YES:
            yes += 1
            yes_area += weight
        elif choice == Choice.NO:
            no += 1
        else:
            abstain += 1

    for voter, choice, channel in (*hidden, *own, *proxied):
        weight = voting.roll.get(voter)
        if weight is None or voter in seen:
            continue
        seen.add(voter)
        proxies += channel == "proxy"
        papers += channel == "paper"
        present_area += weight
        if choice is not None:
            count(choice, weight)
    for choice, weight in secret:
        count(choice, weight)
    electorate = Electorate(
        members_of_record=voting.members_of_record,
        expected=voting.expected,
        area_of_record=sum(voting.roll.values(), Decimal(0)),
    )
    counts = Counts(
        present=len(seen),
        yes=yes,
        no=no,
        abstain=abstain,
        present_area=present_area,
        yes_area=yes_area,
    )
    decision = decide(voting.rule, electorate, counts)
    return Tally(
        yes=yes,
        no=no,
        abstain=abstain,
        participating=len(seen),
        yes_area=yes_area,
        participating_area=present_area,
        quorum_met=decision.quorum_met,
        passed=decision.passed,
        rule=decision.rule,
        counted_up_to=counted_up_to,
        by_proxy=proxies,
        by_paper=papers,
    )


def double_channel(
    online: Iterable[str], on_paper: Iterable[str], *, paper_wins: bool
) -> list[tuple[str, str]]:
    """``(voter, refused channel)`` of the voters with both an online and a paper ballot:
    the procedure's winner counts, the other is refused ("double channel") and listed for the
    scrutineers."""
    both = sorted(set(online) & set(on_paper))
    refused = "online" if paper_wins else "paper"
    return [(voter, refused) for voter in both]
