"""Written consultation (书面征求意见) in the application: the bar on a failed matter coming
back within its procedure's period, refused at the command door with ``issue.barred``."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.consultation import (
    address_consultation_forms,
    bar_on,
    consultation_deliveries,
    extend_consultation,
    record_signed_reply,
)
from govflow.application.notification_channels import Message
from govflow.application.notification_sending import NotifierConfig
from govflow.application.procedures import ProcedureLibrary
from govflow.application.specimens import SteppingClock
from govflow.application.voting import Cast
from govflow.domain.ballot import Choice
from govflow.domain.consultation import (
    ExtensionOverCapError,
    MatterBarredError,
    ReplySigned,
    SignatureRequiredError,
    SignedReply,
    matter_key,
    signed_reply_id,
)
from govflow.domain.council import Body
from govflow.domain.delivery import Delivery, MessageKind, delivery_id
from govflow.domain.errors import DoubleVoteError, ForbiddenError, InvalidInputError, NotFoundError
from govflow.domain.ids import issue_id
from govflow.domain.issue import ConsultationExtended, IssueOutcome, StageOutcome
from govflow.orchestration.door import CommandDoor
from tests.application.scenario import COUNCIL, set_up_council

WORKFLOWS = Path(__file__).parents[2] / "workflows"
WRITTEN = "owners-written-consultation"


class _Workflows:
    """Stands in for the workflow client: proposing through the door starts nothing here, and
    a complete roll is only noted."""

    def __init__(self) -> None:
        self.told: list[str] = []

    async def start(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def all_voted(self, council: str, number: int, ballot_key: str) -> None:
        self.told.append(ballot_key)


def fail_item(app: Governance, number: int, title: str, procedure: str = WRITTEN) -> None:
    """An item proposed and ended rejected, as the workflow ends a failed vote."""
    library = ProcedureLibrary(WORKFLOWS)
    app.propose_issue(COUNCIL, number, title, library.get(procedure), actor="o1")
    app.open_stage(COUNCIL, number, "propose", deadline=None, actor="system")
    app.close_stage(COUNCIL, number, "propose", StageOutcome.COMPLETED, actor="system")
    app.close_issue(COUNCIL, number, IssueOutcome.REJECTED, actor="system")


def propose(app: Governance, number: int, title: str, procedure: str = WRITTEN) -> Any:
    door = CommandDoor(app, _Workflows(), ProcedureLibrary(WORKFLOWS))  # type: ignore[arg-type]
    command = c.ProposeIssue(council=COUNCIL, number=number, title=title, procedure=procedure)
    return asyncio.run(door.handle(command, app.principal(COUNCIL, "o2")))


def test_same_matter_is_the_same_title_but_for_width_case_and_spaces() -> None:
    assert matter_key(" 更换 电梯 ") == matter_key("更换　电梯") == matter_key("更换电梯")
    assert matter_key("Lift  REPLACEMENT") == matter_key("lift replacement")
    assert matter_key("ＬＩＦＴ") == matter_key("lift")
    assert matter_key("更换电梯") != matter_key("维修电梯")


def test_a_failed_matter_is_barred_for_the_period_and_accepted_after(
    app: Governance, clock: SteppingClock
) -> None:
    set_up_council(app)
    fail_item(app, 1, "更换电梯")
    closed = app.list_issues(COUNCIL)[0].updated_at
    assert closed is not None

    with pytest.raises(MatterBarredError) as refused:
        propose(app, 2, "更换 电梯")
    assert refused.value.code == "issue.barred"
    assert refused.value.details["failed_item"] == 1
    with pytest.raises(NotFoundError):  # the refusal recorded nothing
        app.issue(COUNCIL, 2)

    # another matter, or the same matter under a procedure without a bar, is not barred
    assert propose(app, 3, "维修电梯").number == 3
    bar = bar_on(app, ProcedureLibrary(WORKFLOWS), COUNCIL, "更换电梯")
    assert bar is not None and bar.number == 1
    # 365 natural days, ending at the end of the last day in the council's time zone
    assert closed + timedelta(days=365) <= bar.until < closed + timedelta(days=366)

    clock.current = bar.until - timedelta(hours=2)  # read: an hour before the end
    with pytest.raises(MatterBarredError):
        propose(app, 2, "更换电梯")
    clock.current = bar.until  # read: an hour after
    assert bar_on(app, ProcedureLibrary(WORKFLOWS), COUNCIL, "更换电梯") is None
    assert propose(app, 2, "更换电梯").number == 2


def test_a_failure_under_a_procedure_without_a_bar_bars_nothing(app: Governance) -> None:
    set_up_council(app)
    fail_item(app, 1, "更换电梯", procedure="owners-assembly-art278")
    assert propose(app, 2, "更换电梯").number == 2


def test_a_retry_of_a_recorded_proposal_is_not_barred(app: Governance) -> None:
    """An item recorded before its matter failed completes its proposal when proposed again."""
    set_up_council(app)
    assert propose(app, 2, "更换电梯").number == 2
    fail_item(app, 1, "更换电梯")
    assert propose(app, 2, "更换电梯").number == 2
    with pytest.raises(MatterBarredError):
        propose(app, 3, "更换电梯")


def test_an_extension_is_recorded_within_the_cap_and_refused_over_it(
    app: Governance, clock: SteppingClock
) -> None:
    """Extensions of a round total at most the cap; one over it records nothing; a reply after
    the first closing time counts once the consultation was extended past it."""
    set_up_council(app)
    library = ProcedureLibrary(WORKFLOWS)
    procedure = library.get(WRITTEN)
    app.propose_issue(COUNCIL, 1, "加装电梯", procedure, actor="o1")
    app.open_stage(COUNCIL, 1, "propose", deadline=None, actor="system")
    app.close_stage(COUNCIL, 1, "propose", StageOutcome.COMPLETED, actor="system")
    first = app.now() + timedelta(days=30)
    app.open_stage(COUNCIL, 1, "resolve", deadline=first, actor="system")
    app.open_voting(
        COUNCIL, 1, "resolve", body=Body.OWNERS_ASSEMBLY, rule=procedure.rules["ordinary"],
        closes_at=first, actor="system", secret=False,
    )  # fmt: skip
    cap = procedure.stage("resolve").written_consultation
    assert cap is not None and cap.extension_cap_days == 90

    assert extend_consultation(
        app, COUNCIL, 1, 30, cap_days=90, actor="clerk"
    ) == first + timedelta(days=30)
    version = app.issue(COUNCIL, 1).version
    with pytest.raises(ExtensionOverCapError) as over:
        extend_consultation(app, COUNCIL, 1, 61, cap_days=90, actor="clerk")
    assert over.value.details == {"cap_days": 90, "extended_days": 30, "days": 61}
    assert app.issue(COUNCIL, 1).version == version  # nothing recorded
    assert extend_consultation(
        app, COUNCIL, 1, 60, cap_days=90, actor="clerk"
    ) == first + timedelta(days=90)
    extended = [
        e for e in app.domain_events(issue_id(COUNCIL, 1)) if isinstance(e, ConsultationExtended)
    ]
    assert [(e.days, e.extended_days) for e in extended] == [(30, 30), (60, 90)]

    clock.current = first + timedelta(days=1)  # past the first closing time
    app.cast_ballots([Cast(COUNCIL, 1, "o2", Choice.YES)])
    issue = app.issue(COUNCIL, 1)
    assert issue.voting is not None and issue.deadline == issue.voting.closes_at


def test_the_form_reaches_every_voter_or_the_board(app: Governance) -> None:
    """Addressed once to each voter on the frozen roll; the notifier delivers it to o1 and
    posts it on the board (公告) for the owners it cannot reach."""
    set_up_council(app)
    procedure = ProcedureLibrary(WORKFLOWS).get(WRITTEN)
    app.set_contact(COUNCIL, "o1", email="o1@example.org", gateway="", follows=False, actor="o1")
    app.tell_people([], NotifierConfig())  # the notifier starts here
    app.propose_issue(COUNCIL, 1, "加装电梯", procedure, actor="o1")
    app.open_stage(COUNCIL, 1, "propose", deadline=None, actor="system")
    app.close_stage(COUNCIL, 1, "propose", StageOutcome.COMPLETED, actor="system")
    closes = app.now() + timedelta(days=30)
    app.open_stage(COUNCIL, 1, "resolve", deadline=closes, actor="system")
    app.open_voting(
        COUNCIL, 1, "resolve", body=Body.OWNERS_ASSEMBLY, rule=procedure.rules["ordinary"],
        closes_at=closes, actor="system", secret=False,
    )  # fmt: skip
    assert consultation_deliveries(app, COUNCIL, 1).not_addressed == ["o1", "o2", "o3"]
    assert address_consultation_forms(app, COUNCIL, 1) == 3
    assert address_consultation_forms(app, COUNCIL, 1) == 3  # a retry addresses nobody twice
    assert consultation_deliveries(app, COUNCIL, 1).pending == ["o1", "o2", "o3"]

    sent: list[str] = []

    class Email:
        name = "email"

        def send(self, address: str, message: Message) -> None:
            sent.append(address)

    app.tell_people([Email()], NotifierConfig(), reminders=False)
    forms = consultation_deliveries(app, COUNCIL, 1)
    assert (forms.delivered, forms.posted_on_board, forms.pending) == (["o1"], ["o2", "o3"], [])
    assert sent == ["o1@example.org"]


def open_consultation(app: Governance, procedure_name: str = WRITTEN) -> None:
    """Item 1 of ``procedure_name`` at its vote by ballots, open for 30 days."""
    procedure = ProcedureLibrary(WORKFLOWS).get(procedure_name)
    app.propose_issue(COUNCIL, 1, "加装电梯", procedure, actor="o1")
    ids = [s.id for s in procedure.stages]
    for stage in ids[: ids.index("resolve")]:
        app.open_stage(COUNCIL, 1, stage, deadline=None, actor="system")
        app.close_stage(COUNCIL, 1, stage, StageOutcome.COMPLETED, actor="system")
    closes = app.now() + timedelta(days=30)
    app.open_stage(COUNCIL, 1, "resolve", deadline=closes, actor="system")
    app.open_voting(
        COUNCIL, 1, "resolve", body=Body.OWNERS_ASSEMBLY, rule=procedure.rules["ordinary"],
        closes_at=closes, actor="system", secret=False,
    )  # fmt: skip


SIGNED = hashlib.sha256(b"signed form").hexdigest()


def test_an_extension_is_told_to_every_voter_who_has_not_replied(app: Governance) -> None:
    """Each extension addresses a message with the new deadline to the voters still to reply
    (o1 replied: not told); the notifier sends it like the form; a retried extension tells
    nobody twice."""
    set_up_council(app)
    app.set_contact(COUNCIL, "o2", email="o2@example.org", gateway="", follows=False, actor="o2")
    app.tell_people([], NotifierConfig())  # the notifier starts here
    open_consultation(app)
    record_signed_reply(app, COUNCIL, 1, "o1", Choice.YES, SIGNED, entered_by="voter", actor="o1")
    due = extend_consultation(app, COUNCIL, 1, 30, cap_days=90, actor="clerk", step="ext-1")
    assert extend_consultation(app, COUNCIL, 1, 30, cap_days=90, actor="clerk", step="ext-1") == due
    told = {
        (d.recipient, d.key, d.deadline)
        for d in (
            app._get(Delivery, delivery_id(COUNCIL, kind, key, voter), "delivery")
            for voter in ("o1", "o2", "o3")
            for kind, key in ((MessageKind.CONSULTATION_EXTENDED, "resolve#1+30d"),)
            if app.recorder.select_events(delivery_id(COUNCIL, kind, key, voter), limit=1)
        )
    }
    assert told == {("o2", "resolve#1+30d", due), ("o3", "resolve#1+30d", due)}
    sent: list[Message] = []

    class Email:
        name = "email"

        def send(self, address: str, message: Message) -> None:
            sent.append(message)

    app.tell_people([Email()], NotifierConfig(), reminders=False)
    (message,) = sent
    assert "延长" in message.text and "新的回复截止时间" in message.text
    # a second extension is a new message to those still waiting
    extend_consultation(app, COUNCIL, 1, 10, cap_days=90, actor="clerk", step="ext-2")
    again = delivery_id(COUNCIL, MessageKind.CONSULTATION_EXTENDED, "resolve#1+40d", "o3")
    assert app._get(Delivery, again, "delivery").recipient == "o3"


def test_replies_are_signed_once_each_by_the_voter_or_entered_by_the_clerk(
    app: Governance,
) -> None:
    set_up_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    open_consultation(app)
    workflows = _Workflows()
    door = CommandDoor(app, workflows, ProcedureLibrary(WORKFLOWS))  # type: ignore[arg-type]

    def run(who: str, command: c.Command) -> Any:
        return asyncio.run(door.handle(command, app.principal(COUNCIL, who)))

    def reply(choice: Choice, voter: str | None = None) -> c.ReplyToConsultation:
        return c.ReplyToConsultation(
            council=COUNCIL, number=1, choice=choice, signature_sha256=SIGNED, voter=voter
        )

    version = app.issue(COUNCIL, 1).version
    with pytest.raises(SignatureRequiredError):  # an unsigned ballot does not count here
        run("o1", c.CastBallot(council=COUNCIL, number=1, choice=Choice.YES))
    assert run("o1", reply(Choice.YES)).ballot_key == "resolve#1"
    with pytest.raises(DoubleVoteError):  # one reply per voter: the store refuses a second
        run("o1", reply(Choice.NO))
    with pytest.raises(ForbiddenError):  # only the clerk enters another voter's paper reply
        run("o2", reply(Choice.NO, voter="o3"))
    run("k1", reply(Choice.NO, voter="o3"))
    assert workflows.told == []
    run("o2", reply(Choice.ABSTAIN))
    assert workflows.told == ["resolve#1"]  # the whole roll has replied

    signed = {
        voter: app._get(SignedReply, signed_reply_id(issue_id(COUNCIL, 1), "resolve#1", voter), "r")
        for voter in ("o1", "o2", "o3")
    }
    assert {v: (r.signature_sha256, r.entered_by) for v, r in signed.items()} == {
        "o1": (SIGNED, "voter"), "o2": (SIGNED, "voter"), "o3": (SIGNED, "clerk"),
    }  # fmt: skip
    reply_id = signed_reply_id(issue_id(COUNCIL, 1), "resolve#1", "o3")
    [entered] = list(app.domain_events(reply_id))
    assert isinstance(entered, ReplySigned) and entered.actor == "k1"
    assert app.issue(COUNCIL, 1).version == version  # ballots are not the item's events
    tally = app.close_voting(COUNCIL, 1, "all_voted", actor="system")
    assert (tally.yes, tally.no, tally.abstain, tally.participating) == (1, 1, 1, 3)


def test_a_vote_that_is_not_a_written_consultation_takes_no_signed_reply(
    app: Governance,
) -> None:
    set_up_council(app)
    open_consultation(app, "owners-assembly-art278")
    door = CommandDoor(app, _Workflows(), ProcedureLibrary(WORKFLOWS))  # type: ignore[arg-type]
    command = c.ReplyToConsultation(
        council=COUNCIL, number=1, choice=Choice.YES, signature_sha256=SIGNED
    )
    with pytest.raises(InvalidInputError):
        asyncio.run(door.handle(command, app.principal(COUNCIL, "o1")))
    receipt = asyncio.run(
        door.handle(
            c.CastBallot(council=COUNCIL, number=1, choice=Choice.YES),
            app.principal(COUNCIL, "o1"),
        )
    )
    assert receipt.ballot_key == "resolve#1"
