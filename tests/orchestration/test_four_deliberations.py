"""四议两公开 end to end: a discussion that times out and escalates, a review at a meeting,
ballots, two disclosures with weekly progress in between."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from govflow.domain.errors import ForbiddenError
from tests.orchestration.conftest import CHAIR, COUNCIL, EVERYONE, Stack, hold_meeting

pytestmark = pytest.mark.asyncio(loop_scope="session")
NAME = "four-deliberations-two-disclosures"


async def test_full_cycle_with_escalated_discussion(stack: Stack) -> None:
    """A silent joint meeting is escalated once, then times out; the item still goes through."""
    procedure = stack.procedures.get(NAME)
    stack.app.propose_issue(COUNCIL, 2, "老旧小区雨污分流改造", procedure, actor=CHAIR)
    handle = await stack.issues.start(COUNCIL, 2, procedure)
    await stack.at_stage(2, "propose")
    await stack.issues.close_stage(COUNCIL, 2, CHAIR)

    first = await stack.at_stage(2, "deliberate")
    with capture_logs() as logs:
        # the joint meeting never closes its stage: escalate, extend once
        await stack.skip_past_deadline(2)
        extended = await stack.until(2, lambda s: s.deadline != first.deadline)
    reminders = [e for e in logs if e["event"] == "reminder"]
    assert reminders and reminders[0]["stage"] == "deliberate"
    assert reminders[0]["who"] == [CHAIR] and first.deadline is not None
    assert reminders[0]["deadline"] == first.deadline.isoformat()
    assert first.deadline is not None and extended.deadline is not None
    assert extended.deadline > first.deadline
    # the extension passes too: the stage times out and the item advances
    await stack.skip_past_deadline(2)

    await stack.at_stage(2, "review")
    with pytest.raises(ForbiddenError, match="only a chair"):
        await stack.issues.record_resolution(COUNCIL, 2, "m1", meeting_number=1, motion_no=1)
    meeting, motion = hold_meeting(
        stack.app,
        1,
        Body.PARTY_MEMBERS_ASSEMBLY,
        present=EVERYONE[:5],
        yes=5,
        rule_name="party_members_assembly",
        procedure_name=NAME,
        procedures=stack.procedures,
        issue=2,
    )
    assert await stack.issues.record_resolution(
        COUNCIL, 2, CHAIR, meeting_number=meeting, motion_no=motion
    )

    await stack.until(2, lambda s: s.stage == "resolve" and s.ballot_key is not None)
    for voter in EVERYONE:
        await stack.issues.cast_ballot(COUNCIL, 2, voter, Choice.YES)
    await stack.until(2, lambda s: s.stage == "publish_resolution" and s.notice_id is not None)
    await stack.skip_past_display(2)

    await stack.at_stage(2, "implement")
    await stack.issues.report_progress(COUNCIL, 2, CHAIR, "管网开挖完成 40%")
    await stack.skip(2, 15)  # two weekly progress notices
    await stack.issues.complete(COUNCIL, 2, CHAIR)
    await stack.until(2, lambda s: s.stage == "publish_result" and s.notice_id is not None)
    await stack.skip_past_display(2)
    assert (await stack.result(handle)).outcome == "adopted"
    await stack.keep_history(handle, NAME)

    history = stack.app.get_history(stack.app.issue(COUNCIL, 2).id)
    escalations = [h for h in history if h.topic == "govflow.issue.escalated"]
    assert [(e.data["stage"], e.actor) for e in escalations] == [("deliberate", "system")]
    outcomes = {
        h.data["stage"]: h.data["outcome"]
        for h in history
        if h.topic == "govflow.issue.stage_closed"
    }
    assert outcomes["deliberate"] == "timed_out" and outcomes["review"] == "completed"
    kinds = [stack.app.get_notice(n).kind for n in stack.app.issue(COUNCIL, 2).notices]
    assert kinds == ["resolution", "progress", "progress", "result"]
    progress = [h for h in history if h.topic == "govflow.issue.progress_reported"]
    assert progress[0].actor == CHAIR
