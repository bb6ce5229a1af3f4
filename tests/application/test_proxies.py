"""Proxies (委托) through the command door: appointment, voting for the principal, override,
cap, revocation, and the tally's count of ballots that came by proxy."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.ballot import Choice, proxy_ballot_id
from govflow.domain.council import Body
from govflow.domain.errors import (
    DoubleVoteError,
    ForbiddenError,
    GovflowError,
    NotOnRollError,
    RuleViolationError,
)
from govflow.domain.ids import issue_id
from govflow.domain.issue import StageOutcome, VotingTallied
from govflow.domain.proxy import ProxyAppointed, proxy_id
from govflow.orchestration.door import CommandDoor
from tests.application.scenario import COUNCIL, set_up_council

WORKFLOWS = Path(__file__).parents[2] / "workflows"
FORM = hashlib.sha256(b"scanned proxy form").hexdigest()


def owners_vote(app: Governance, number: int = 1, *, open_vote: bool = True) -> CommandDoor:
    """An owners' assembly item (proxies allowed, cap 1) at its vote by ballots."""
    set_up_council(app)
    library = ProcedureLibrary(WORKFLOWS)
    procedure = library.get("owners-assembly-art278", 2)
    app.propose_issue(COUNCIL, number, "更换电梯", procedure, actor="o1")
    for stage in ("propose", "announce"):
        app.open_stage(COUNCIL, number, stage, deadline=None, actor="o1")
        app.close_stage(COUNCIL, number, stage, StageOutcome.COMPLETED, actor="o1")
    app.open_stage(COUNCIL, number, "resolve", deadline=None, actor="system")
    if open_vote:
        open_voting(app, number)
    return CommandDoor(app, None, library)


def open_voting(app: Governance, number: int = 1) -> str:
    procedure = ProcedureLibrary(WORKFLOWS).get("owners-assembly-art278", 2)
    return app.open_voting(
        COUNCIL,
        number,
        "resolve",
        body=Body.OWNERS_ASSEMBLY,
        rule=procedure.rules["ordinary"],
        closes_at=app.now() + timedelta(days=7),
        actor="system",
        secret=procedure.stage("resolve").ballot == "secret",  # named, as the preset says
    )


def run(door: CommandDoor, app: Governance, who: str, command: c.Command) -> Any:
    return asyncio.run(door.handle(command, app.principal(COUNCIL, who)))


def appoint(proxy: str, principal: str | None = None) -> c.AppointProxy:
    """The caller's appointment of ``proxy`` (or, for the clerk, ``principal``'s)."""
    return c.AppointProxy(
        council=COUNCIL, number=1, proxy=proxy, proxy_form_sha256=FORM, principal=principal
    )


def vote(choice: Choice, for_member: str | None = None) -> c.CastBallot:
    return c.CastBallot(council=COUNCIL, number=1, choice=choice, for_member=for_member)


def tallied(app: Governance) -> VotingTallied:
    app.close_voting(COUNCIL, 1, "deadline", actor="system")
    return [e for e in app.domain_events(issue_id(COUNCIL, 1)) if isinstance(e, VotingTallied)][-1]


def test_own_and_proxy_ballots_count_and_by_proxy_is_recorded(app: Governance) -> None:
    door = owners_vote(app)
    run(door, app, "o3", appoint("o2"))
    run(door, app, "o1", vote(Choice.YES))
    run(door, app, "o2", vote(Choice.YES))
    receipt = run(door, app, "o2", vote(Choice.YES, for_member="o3"))
    assert receipt.ballot_id == proxy_ballot_id(issue_id(COUNCIL, 1), "resolve#1", "o3")
    assert not receipt.all_voted  # o3 may still vote themself until the vote closes
    result = tallied(app)
    assert (result.yes, result.participating, result.by_proxy) == (3, 3, 1)
    check = app.check_receipt(COUNCIL, 1, receipt.ballot_id, receipt.notification_id)
    assert check.in_log and check.counted


def test_the_principals_own_ballot_overrides_the_proxys(app: Governance) -> None:
    door = owners_vote(app)
    run(door, app, "o3", appoint("o2"))
    run(door, app, "o2", vote(Choice.YES, for_member="o3"))
    run(door, app, "o3", vote(Choice.NO))  # the principal votes after all
    run(door, app, "o1", vote(Choice.YES))
    result = tallied(app)
    assert (result.yes, result.no, result.participating, result.by_proxy) == (1, 1, 2, 0)


def test_a_proxy_votes_once_per_principal(app: Governance) -> None:
    door = owners_vote(app)
    run(door, app, "o3", appoint("o2"))
    run(door, app, "o2", vote(Choice.YES, for_member="o3"))
    with pytest.raises((DoubleVoteError, RuleViolationError)):
        run(door, app, "o2", vote(Choice.NO, for_member="o3"))


def test_without_an_appointment_nobody_votes_for_another(app: Governance) -> None:
    door = owners_vote(app)
    with pytest.raises(RuleViolationError):
        run(door, app, "o2", vote(Choice.YES, for_member="o3"))


def test_a_proxy_over_its_cap_is_refused_and_records_nothing(app: Governance) -> None:
    door = owners_vote(app)
    run(door, app, "o3", appoint("o2"))
    before = app.recorder.max_notification_id()
    with pytest.raises(RuleViolationError) as refused:
        run(door, app, "o1", appoint("o2"))  # the preset's cap is one voter per proxy
    assert refused.value.details["cap"] == 1
    assert app.recorder.max_notification_id() == before


def test_refusals_record_nothing(app: Governance) -> None:
    door = owners_vote(app)
    before = app.recorder.max_notification_id()
    with pytest.raises(RuleViolationError):
        run(door, app, "o1", appoint("o1"))  # oneself
    with pytest.raises(NotOnRollError):
        run(door, app, "p2", appoint("o1"))  # not on the owners' roll
    with pytest.raises(ForbiddenError):
        run(door, app, "o2", appoint("o2", principal="o1"))  # for someone else
    assert app.recorder.max_notification_id() == before


def test_the_clerk_records_a_paper_proxy_form(app: Governance) -> None:
    door = owners_vote(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    run(door, app, "k1", appoint("o1", principal="o3"))
    (created, *_) = app.domain_events(proxy_id(issue_id(COUNCIL, 1), "resolve", "o3"))
    assert isinstance(created, ProxyAppointed)
    assert (created.principal, created.proxy, created.actor) == ("o3", "o1", "k1")
    assert created.proxy_form_sha256 == FORM


def test_revocation_before_use_and_refused_after(app: Governance) -> None:
    door = owners_vote(app)
    run(door, app, "o3", appoint("o2"))
    run(door, app, "o3", c.RevokeProxy(council=COUNCIL, number=1))
    with pytest.raises(RuleViolationError):  # revoked: the proxy no longer votes for o3
        run(door, app, "o2", vote(Choice.YES, for_member="o3"))
    run(door, app, "o1", appoint("o2"))  # the proxy's one place is free again
    run(door, app, "o2", vote(Choice.YES, for_member="o1"))
    before = app.recorder.max_notification_id()
    with pytest.raises(RuleViolationError):
        run(door, app, "o1", c.RevokeProxy(council=COUNCIL, number=1))
    assert app.recorder.max_notification_id() == before
    assert app.appointments(COUNCIL, 1, "resolve")["o1"].used


def test_an_appointment_before_the_vote_opens(app: Governance) -> None:
    door = owners_vote(app, open_vote=False)
    run(door, app, "o3", appoint("o2"))
    open_voting(app)
    run(door, app, "o2", vote(Choice.NO, for_member="o3"))
    assert tallied(app).by_proxy == 1


def test_proxies_not_allowed_by_the_procedure_are_refused(app: Governance) -> None:
    set_up_council(app)
    library = ProcedureLibrary(WORKFLOWS)
    app.propose_issue(COUNCIL, 1, "加装电梯", library.get("residents-assembly"), actor="p1")
    door = CommandDoor(app, None, library)
    before = app.recorder.max_notification_id()
    with pytest.raises(GovflowError) as refused:
        run(door, app, "o3", appoint("o2"))
    assert "does not allow proxies" in refused.value.message
    assert app.recorder.max_notification_id() == before


def test_a_proxys_ballot_shows_its_choice_only_once_the_named_vote_closed(
    app: Governance,
) -> None:
    """The owners' vote is named (记名表决): the proxy's ballot shows who took part and for
    whom, and its choice only once the vote has closed."""
    door = owners_vote(app)
    run(door, app, "o3", appoint("o2"))
    receipt = run(door, app, "o2", vote(Choice.YES, for_member="o3"))
    (entry,) = app.get_history(receipt.ballot_id)
    assert entry.data["choice"] is None and entry.data["choice_withheld"] == "voting_open"
    assert entry.data["voter"] == "o3" and entry.data["proxy"] == "o2"
    tallied(app)
    (entry,) = app.get_history(receipt.ballot_id)
    assert entry.data["choice"] == "yes"


def test_a_secret_vote_takes_no_proxys_ballot(app: Governance) -> None:
    """A proxy's ballot is overridden by the voter's own, which needs a choice linked to its
    voter: a round opened secret (a running item whose procedure was recorded before secret
    votes refused proxies) refuses it (ballot.secret_vote), recording nothing."""
    door = owners_vote(app, open_vote=False)
    run(door, app, "o3", appoint("o2"))
    app.open_voting(
        COUNCIL, 1, "resolve", body=Body.OWNERS_ASSEMBLY,
        rule=ProcedureLibrary(WORKFLOWS).get("owners-assembly-art278", 2).rules["ordinary"],
        closes_at=app.now() + timedelta(days=7), actor="system", secret=True,
    )  # fmt: skip
    before = app.recorder.max_notification_id()
    with pytest.raises(GovflowError) as refused:
        run(door, app, "o2", vote(Choice.YES, for_member="o3"))
    assert refused.value.code == "ballot.secret_vote"
    assert app.recorder.max_notification_id() == before
