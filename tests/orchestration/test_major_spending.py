"""Major spending end to end: review over the threshold, weekly progress notices for six weeks,
an actual cost above the approval re-approved, the result disclosed, the spending settled."""

from __future__ import annotations

from decimal import Decimal

import pytest

from govflow.domain.council import Body
from govflow.domain.errors import ActionRefusedError, ResolutionMismatchError
from tests.orchestration.conftest import CHAIR, COUNCIL, EVERYONE, Stack, hold_meeting

pytestmark = pytest.mark.asyncio(loop_scope="session")
NAME = "major-spending"


async def test_12000_with_six_weekly_notices_and_an_overrun(stack: Stack) -> None:
    """Over ¥10,000: reviewed, approved, paid, disclosed weekly, overrun re-approved, settled."""
    app = stack.app
    app.request_spending(
        COUNCIL,
        1,
        "12000.00",
        purpose="更换化粪管",
        payee="市政工程队",
        budget_line="公益事业专项",
        actor=CHAIR,
    )
    procedure = stack.procedures.get(NAME)
    app.propose_issue(
        COUNCIL,
        3,
        "更换化粪管 ¥12,000",
        procedure,
        actor=CHAIR,
        spending_id=app.get_spending(COUNCIL, 1).id,
    )
    handle = await stack.issues.start(COUNCIL, 3, procedure, spending_number=1)
    await stack.at_stage(3, "deliberate")
    await stack.issues.close_stage(COUNCIL, 3, CHAIR)

    await stack.at_stage(3, "review")
    meeting, motion = hold_meeting(
        app,
        1,
        Body.PARTY_MEMBERS_ASSEMBLY,
        present=EVERYONE[:5],
        yes=4,
        rule_name="party_members_assembly",
        procedure_name=NAME,
        procedures=stack.procedures,
        issue=3,
    )
    await stack.issues.record_resolution(
        COUNCIL, 3, CHAIR, meeting_number=meeting, motion_no=motion
    )
    await stack.until(3, lambda s: s.stage == "publish_resolution" and s.notice_id is not None)
    assert app.get_spending(COUNCIL, 1).status == "approved"
    for officer in ("f1", "f2"):
        app.enroll_member(COUNCIL, officer, "出纳", actor="clerk", roles=("officer",))
    payment = app.request_disbursement(COUNCIL, 1, "6000.00", reference="付-1", actor="f1")
    app.approve_disbursement(COUNCIL, 1, payment, actor="f2")
    await stack.skip_past_display(3)

    await stack.at_stage(3, "implement")
    await stack.issues.report_progress(COUNCIL, 3, CHAIR, "开挖完成")
    await stack.skip(3, 43)  # six weekly progress notices (一周一公示)
    payment = app.request_disbursement(COUNCIL, 1, "6000.00", reference="付-2", actor="f2")
    app.approve_disbursement(COUNCIL, 1, payment, actor="f1")
    assert await stack.issues.complete(COUNCIL, 3, CHAIR, Decimal("13500.00")) is True
    status = await stack.until(3, lambda s: any(a.action == "reapprove" for a in s.actions))
    assert status.stage == "implement"
    with pytest.raises(ActionRefusedError):
        await stack.issues.complete(COUNCIL, 3, CHAIR, Decimal("13500.00"))
    # the original review's motion, or a meeting under the residents' laxer rule: refused,
    # and nothing recorded on the spending
    before = len(app.get_history(app.spending(COUNCIL, 1).id))
    with pytest.raises(ResolutionMismatchError, match="new motion"):
        await stack.issues.reapprove(COUNCIL, 3, CHAIR, meeting_number=1, motion_no=1)
    lax, lax_motion = hold_meeting(
        app,
        3,
        Body.PARTY_MEMBERS_ASSEMBLY,
        present=EVERYONE[:5],
        yes=3,
        rule_name="residents_assembly",
        procedure_name="residents-assembly",
        procedures=stack.procedures,
        issue=3,
    )
    with pytest.raises(ResolutionMismatchError, match="another rule"):
        await stack.issues.reapprove(COUNCIL, 3, CHAIR, meeting_number=lax, motion_no=lax_motion)
    assert len(app.get_history(app.spending(COUNCIL, 1).id)) == before
    meeting, motion = hold_meeting(
        app,
        2,
        Body.PARTY_MEMBERS_ASSEMBLY,
        present=EVERYONE[:5],
        yes=5,
        rule_name="party_members_assembly",
        procedure_name=NAME,
        procedures=stack.procedures,
        issue=3,
    )
    await stack.issues.reapprove(COUNCIL, 3, CHAIR, meeting_number=meeting, motion_no=motion)

    await stack.until(3, lambda s: s.stage == "publish_result" and s.notice_id is not None)
    await stack.skip_past_display(3)
    assert (await stack.result(handle)).outcome == "adopted"
    await stack.keep_history(handle, NAME)

    spending = app.get_spending(COUNCIL, 1)
    assert spending.status == "settled"
    assert spending.approved_amount == Decimal("13500.00")
    assert spending.actual_cost == Decimal("13500.00")
    kinds = [app.get_notice(n).kind for n in app.issue(COUNCIL, 3).notices]
    assert kinds == ["resolution"] + ["progress"] * 6 + ["result"]
    topics = [h.topic.rsplit(".", 1)[1] for h in app.get_history(spending.id)]
    assert topics.count("review_recorded") == 2 and topics.count("approved") == 2
    assert topics[-1] == "settled"


async def test_under_the_threshold_skips_the_review(stack: Stack) -> None:
    """¥8,000 skips the party members' assembly review, with the reason recorded."""
    app = stack.app
    app.request_spending(
        COUNCIL, 2, "8000.00", purpose="楼道照明", payee="电工", budget_line="日常维护", actor=CHAIR
    )
    procedure = stack.procedures.get(NAME)
    app.propose_issue(COUNCIL, 4, "楼道照明 ¥8,000", procedure, actor=CHAIR)
    await stack.issues.start(COUNCIL, 4, procedure, spending_number=2)
    await stack.at_stage(4, "deliberate")
    await stack.issues.close_stage(COUNCIL, 4, CHAIR)
    await stack.until(4, lambda s: s.stage == "publish_resolution" and s.notice_id is not None)
    history = app.get_history(app.issue(COUNCIL, 4).id)
    skipped = [h.data for h in history if h.topic == "govflow.issue.stage_skipped"]
    assert skipped == [
        {
            "step": skipped[0]["step"],
            "stage": "review",
            "reason": "the amount is not over the threshold",
        }
    ]
    assert app.get_spending(COUNCIL, 2).status == "approved"
