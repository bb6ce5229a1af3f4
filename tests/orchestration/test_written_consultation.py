"""Written consultation (书面征求意见) through the real dev server: the owners decide by forms
delivered to each of them and signed replies, within a period the chair may extend up to the
procedure's cap; a matter that failed is barred from coming back for its period."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest

from govflow.application import commands as c
from govflow.application.consultation import ConsultationDeliveries, consultation_deliveries
from govflow.application.notification_channels import Message
from govflow.application.notification_sending import NotifierConfig
from govflow.domain.ballot import Choice
from govflow.domain.consultation import (
    ExtensionOverCapError,
    MatterBarredError,
    SignatureRequiredError,
)
from govflow.domain.errors import ForbiddenError, NotFoundError
from govflow.domain.issue import ConsultationExtended
from govflow.orchestration.door import CommandDoor
from tests.orchestration.conftest import CHAIR, COUNCIL, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

NAME = "owners-written-consultation"
OWNERS = ["o1", "o2", "o3", "o4", "o5"]


class Outbox:
    """An email channel that delivers everything, keeping what it sent."""

    name = "email"

    def __init__(self) -> None:
        self.sent: list[tuple[str, Message]] = []

    def send(self, address: str, message: Message) -> None:
        self.sent.append((address, message))


async def test_an_extended_consultation_fails_and_bars_its_matter(stack: Stack) -> None:
    """The form reaches o1 by email and is posted on the board (公告) for the owners without a
    contact; the chair extends the consultation by 30 of its 90 days (61 more are refused);
    signed replies after the first deadline still count (an unsigned ballot does not); the
    owners reject the matter, and proposing it again within the year is refused."""
    procedure = stack.procedures.get(NAME)
    door = CommandDoor(stack.app, stack.issues, stack.procedures)
    stack.app.set_contact(
        COUNCIL, "o1", email="o1@example.org", gateway="", follows=False, actor="o1"
    )
    stack.app.propose_issue(COUNCIL, 970, "加装电梯", procedure, actor=CHAIR)
    handle = await stack.issues.start(COUNCIL, 970, procedure)
    first = (await stack.until(970, lambda s: s.ballot_key == "resolve#1")).deadline
    assert first is not None

    forms = await _until_addressed(stack, 970)
    assert forms.pending == OWNERS and forms.delivered == forms.posted_on_board == []
    outbox = Outbox()
    stack.app.tell_people(
        [outbox], NotifierConfig(public_url="https://yst.example"), reminders=False
    )
    forms = consultation_deliveries(stack.app, COUNCIL, 970)
    assert forms.delivered == ["o1"] and forms.posted_on_board == ["o2", "o3", "o4", "o5"]
    assert forms.pending == forms.not_addressed == []
    [(address, message)] = outbox.sent
    assert address == "o1@example.org" and "书面征求意见" in message.subject
    assert "加装电梯" in message.text and "签字" in message.text
    assert "https://yst.example/app/items/970" in message.text

    def extend(days: int) -> c.ExtendConsultation:
        return c.ExtendConsultation(council=COUNCIL, number=970, days=days)

    with pytest.raises(ForbiddenError):  # an owner is not the chair of the acting body
        await door.handle(extend(10), stack.app.principal(COUNCIL, "o2"))
    moved = await door.handle(extend(30), stack.app.principal(COUNCIL, CHAIR))
    assert moved == (first + timedelta(days=30)).isoformat()
    with pytest.raises(ExtensionOverCapError) as over:  # 30 + 61 > 90
        await door.handle(extend(61), stack.app.principal(COUNCIL, CHAIR))
    assert over.value.code == "consultation.extension_over_cap"
    recorded = [
        e for e in stack.app.domain_events(stack.app.issue(COUNCIL, 970).id)
        if isinstance(e, ConsultationExtended)
    ]  # fmt: skip
    assert [(e.days, e.extended_days, e.cap_days) for e in recorded] == [(30, 30, 90)]
    status = await stack.issues.status(COUNCIL, 970)
    assert status.deadline == first + timedelta(days=30)

    await stack.skip(970, 31)  # past the first deadline: the consultation is still open
    assert (await stack.issues.status(COUNCIL, 970)).stage == "resolve"
    unsigned = c.CastBallot(council=COUNCIL, number=970, choice=Choice.YES)
    with pytest.raises(SignatureRequiredError):
        await door.handle(unsigned, stack.app.principal(COUNCIL, "o1"))
    for voter in OWNERS:  # signed replies, counted as ballots; the last one ends the vote
        signed = hashlib.sha256(f"form of {voter}".encode()).hexdigest()
        reply = c.ReplyToConsultation(
            council=COUNCIL, number=970, choice=Choice.NO, signature_sha256=signed
        )
        await door.handle(reply, stack.app.principal(COUNCIL, voter))
    assert (await stack.result(handle)).outcome == "rejected"
    tally = stack.app.get_tally(COUNCIL, 970, "resolve#1")
    assert tally.quorum_met and not tally.passed
    await stack.keep_history(handle, NAME)

    again = c.ProposeIssue(council=COUNCIL, number=971, title="加装 电梯", procedure=NAME)
    with pytest.raises(MatterBarredError) as refused:
        await door.handle(again, stack.app.principal(COUNCIL, "o2"))
    assert refused.value.code == "issue.barred" and refused.value.details["failed_item"] == 970
    with pytest.raises(NotFoundError):
        stack.app.issue(COUNCIL, 971)


async def test_only_a_written_consultation_is_extended(stack: Stack) -> None:
    """A vote by ballots that is not a written consultation has no extension to record."""
    procedure = stack.procedures.get("owners-assembly-art278")
    stack.app.propose_issue(COUNCIL, 972, "外墙维修", procedure, actor=CHAIR)
    await stack.issues.start(COUNCIL, 972, procedure)
    await stack.until(972, lambda s: s.stage == "announce" and s.notice_id is not None)
    await stack.skip_past_deadline(972)
    await stack.until(972, lambda s: s.ballot_key == "resolve#1")
    door = CommandDoor(stack.app, stack.issues, stack.procedures)
    with pytest.raises(Exception, match="only a written consultation"):
        await door.handle(
            c.ExtendConsultation(council=COUNCIL, number=972, days=5),
            stack.app.principal(COUNCIL, CHAIR),
        )


async def _until_addressed(stack: Stack, number: int) -> ConsultationDeliveries:
    """The forms once the workflow has addressed them to the whole roll."""
    for _ in range(100):
        forms = consultation_deliveries(stack.app, COUNCIL, number)
        if not forms.not_addressed:
            return forms
        await asyncio.sleep(0.1)
    raise AssertionError(f"the forms were not addressed: {forms}")
