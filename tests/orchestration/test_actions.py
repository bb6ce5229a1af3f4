"""Who may do what, when: updates are validated and refused with a clear reason."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from temporalio.api.enums.v1 import EventType

from govflow.domain.council import Body
from govflow.domain.errors import (
    ActionRefusedError,
    ForbiddenError,
    UnknownMemberError,
    WithdrawalTooLateError,
)
from tests.orchestration.conftest import CHAIR, COUNCIL, EVERYONE, Stack, hold_meeting

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def start(stack: Stack, number: int, name: str = "residents-assembly") -> None:
    procedure = stack.procedures.get(name)
    stack.app.propose_issue(COUNCIL, number, "测试议题", procedure, actor=CHAIR)
    await stack.issues.start(COUNCIL, number, procedure)


async def pass_review(stack: Stack, number: int) -> None:
    """The whole party members' assembly meets and passes the item under review."""
    meeting, motion = hold_meeting(
        stack.app,
        number,
        Body.PARTY_MEMBERS_ASSEMBLY,
        present=EVERYONE,
        yes=7,
        rule_name="party_members_assembly",
        procedure_name="party-members-assembly",
        procedures=stack.procedures,
        issue=number,
    )
    await stack.issues.record_resolution(
        COUNCIL, number, CHAIR, meeting_number=meeting, motion_no=motion
    )


async def test_status_names_the_stage_deadline_and_who_may_act(stack: Stack) -> None:
    """The status query lists the open actions and the members who may take them."""
    await start(stack, 20)
    status = await stack.at_stage(20, "public_deliberation")
    assert status.kind == "public_deliberation" and status.deadline is not None
    actions = {a.action: a.who for a in status.actions}
    assert actions["close_stage"] == [CHAIR] and actions["withdraw"] == [CHAIR]


async def test_only_a_chair_closes_a_stage(stack: Stack) -> None:
    """A member who does not chair the acting body is refused, and the stage stays open."""
    await start(stack, 21)
    await stack.at_stage(21, "public_deliberation")
    with pytest.raises(ForbiddenError, match="only a chair"):
        await stack.issues.close_stage(COUNCIL, 21, "m1")
    assert (await stack.issues.status(COUNCIL, 21)).stage == "public_deliberation"


async def test_actions_of_another_stage_are_refused(stack: Stack) -> None:
    """An objection while nothing is published, progress before implementation: refused."""
    await start(stack, 22)
    await stack.at_stage(22, "public_deliberation")
    with pytest.raises(ActionRefusedError, match="not open in the current stage"):
        await stack.issues.file_objection(COUNCIL, 22, "m1", "反对")
    with pytest.raises(ActionRefusedError, match="not open in the current stage"):
        await stack.issues.report_progress(COUNCIL, 22, CHAIR, "进展")


async def test_objection_from_a_stranger_is_refused_by_the_domain(stack: Stack) -> None:
    """Only council members may object: the refusal carries the domain's error code."""
    await start(stack, 23, "party-members-assembly")
    await stack.at_stage(23, "review")
    await pass_review(stack, 23)
    await stack.until(23, lambda s: s.notice_id is not None)
    with pytest.raises(UnknownMemberError):
        await stack.issues.file_objection(COUNCIL, 23, "stranger", "我反对")
    with pytest.raises(WithdrawalTooLateError, match="withdrawn once it is resolved"):
        await stack.issues.withdraw(COUNCIL, 23, CHAIR, "改变主意")
    await stack.skip_past_display(23)  # the objection window closes with the display period
    await stack.until(23, lambda s: s.outcome == "adopted" or s.stage is None)


async def test_withdrawal_before_a_resolution_ends_the_item(stack: Stack) -> None:
    """A chair withdraws an item under discussion; the workflow ends as withdrawn."""
    await start(stack, 24)
    await stack.at_stage(24, "public_deliberation")
    await stack.issues.withdraw(COUNCIL, 24, CHAIR, "与另一议题合并")
    result = await stack.result(stack.issues.handle(COUNCIL, 24))
    assert result.outcome == "withdrawn"
    assert stack.app.get_issue(COUNCIL, 24).outcome == "withdrawn"


async def test_long_lives_continue_as_new_without_losing_their_place(stack: Stack) -> None:
    """Past its history limit the workflow continues as new at a stage boundary and goes on."""
    procedure = stack.procedures.get("party-members-assembly")
    stack.app.propose_issue(COUNCIL, 25, "长周期议题", procedure, actor=CHAIR)
    handle = await stack.issues.start(COUNCIL, 25, procedure, history_limit=10)
    await stack.at_stage(25, "review")
    await pass_review(stack, 25)
    await stack.until(25, lambda s: s.stage == "publish_resolution" and s.notice_id is not None)
    await stack.skip_past_display(25)
    assert (await stack.result(handle)).outcome == "adopted"
    first_run = stack.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    events = [e.event_type for e in (await first_run.fetch_history()).events]
    assert events[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    stages = [
        h.data["stage"]
        for h in stack.app.get_history(stack.app.issue(COUNCIL, 25).id)
        if h.topic == "govflow.issue.stage_opened"
    ]
    assert stages == ["propose", "review", "publish_resolution"]


async def test_unanswered_objection_escalates_and_a_correction_restarts_display(
    stack: Stack,
) -> None:
    """An objection left unanswered past its reply deadline is escalated; a corrected notice is
    displayed for a full period again; an objection answered but not upheld lets it finish."""
    name = "party-members-assembly"
    procedure = stack.procedures.get(name)
    stack.app.propose_issue(COUNCIL, 26, "公示异议", procedure, actor=CHAIR)
    handle = await stack.issues.start(COUNCIL, 26, procedure)
    await stack.at_stage(26, "review")
    await pass_review(stack, 26)
    posted = await stack.until(26, lambda s: s.notice_id is not None)
    objection = await stack.issues.file_objection(COUNCIL, 26, "m3", "会议记录有误")
    # The 3-day reply deadline passes unanswered (a deadline on a weekend moves to Monday, so
    # skip to the recorded one, whatever the day the test runs on).
    due = stack.app.notice(UUID(posted.notice_id)).open_objections[objection]
    await stack.skip(26, (due - datetime.now(UTC)).total_seconds() / 86_400 + 0.25)
    await stack.until(
        26,
        lambda s: any(
            h.topic == "govflow.issue.escalated"
            for h in stack.app.get_history(stack.app.issue(COUNCIL, 26).id)
        ),
    )
    before = stack.app.get_notice(UUID(posted.notice_id))
    await stack.issues.correct_notice(COUNCIL, 26, CHAIR, "更正：会议记录已补正")
    after = stack.app.get_notice(before.id)
    assert after.display_until > before.display_until
    await stack.issues.answer_objection(COUNCIL, 26, CHAIR, objection, "已更正", upheld=False)
    await stack.skip_past_display(26)
    assert (await stack.result(handle)).outcome == "adopted"
    escalated = [
        h.data
        for h in stack.app.get_history(stack.app.issue(COUNCIL, 26).id)
        if h.topic == "govflow.issue.escalated"
    ]
    assert [(e["reason"], e["to_body"]) for e in escalated] == [
        ("objection 1 unanswered by its reply deadline", "party_members_assembly")
    ]
