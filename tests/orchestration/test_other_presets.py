"""Full cycles of the remaining presets through the real dev server."""

from __future__ import annotations

import pytest

from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from govflow.domain.rating import Satisfaction
from tests.orchestration.conftest import CHAIR, COUNCIL, EVERYONE, Stack, hold_meeting

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_five_step_consultation_returns_to_discussion_and_is_evaluated(stack: Stack) -> None:
    """A failed quorum sends the item back to 群议; residents then rate the result (评议)."""
    procedure = stack.procedures.get("five-step-consultation")
    stack.app.propose_issue(COUNCIL, 10, "口袋公园改造", procedure, actor=CHAIR)
    handle = await stack.issues.start(COUNCIL, 10, procedure)
    await stack.at_stage(10, "deliberate")
    await stack.issues.close_stage(COUNCIL, 10, CHAIR)
    await stack.at_stage(10, "public_deliberation")
    await stack.issues.close_stage(COUNCIL, 10, CHAIR)
    await stack.until(10, lambda s: s.ballot_key == "resolve#1")
    await stack.skip_past_deadline(10)  # nobody votes: quorum fails, back to 群议
    await stack.at_stage(10, "public_deliberation")
    await stack.issues.close_stage(COUNCIL, 10, CHAIR)
    await stack.until(10, lambda s: s.ballot_key == "resolve#2")
    for voter in EVERYONE:
        await stack.issues.cast_ballot(COUNCIL, 10, voter, Choice.YES)
    await stack.until(10, lambda s: s.stage == "publish_resolution" and s.notice_id is not None)
    await stack.skip_past_display(10)
    await stack.at_stage(10, "implement")
    await stack.issues.complete(COUNCIL, 10, CHAIR)
    await stack.at_stage(10, "evaluate")
    await stack.until(10, lambda s: stack.app.issue(COUNCIL, 10).evaluation is not None)
    for rater, rating in [
        ("o1", Satisfaction.SATISFIED),
        ("o2", Satisfaction.SATISFIED),
        ("o3", Satisfaction.BASICALLY_SATISFIED),
        ("o4", Satisfaction.DISSATISFIED),
    ]:
        stack.app.rate_issue(COUNCIL, 10, rater, rating)
    await stack.skip_past_deadline(10)
    assert (await stack.result(handle)).outcome == "adopted"
    await stack.keep_history(handle, "five-step-consultation")
    history = stack.app.get_history(stack.app.issue(COUNCIL, 10).id)
    evaluation = next(h.data for h in history if h.topic == "govflow.issue.evaluation_recorded")
    assert (
        evaluation["satisfied"],
        evaluation["basically_satisfied"],
        evaluation["dissatisfied"],
        evaluation["result"],
    ) == (2, 1, 1, "satisfied")
    reopened = [h.data["at_stage"] for h in history if h.topic == "govflow.issue.reopened"]
    assert reopened == ["public_deliberation"]


async def test_villagers_representatives_meeting_without_quorum_is_held_again(stack: Stack) -> None:
    """A meeting without 2/3 attending carries no motion; the stage times out and is re-run."""
    name = "villagers-representatives"
    procedure = stack.procedures.get(name)
    stack.app.propose_issue(COUNCIL, 11, "村道硬化", procedure, actor=CHAIR)
    handle = await stack.issues.start(COUNCIL, 11, procedure)
    await stack.at_stage(11, "deliberate")
    await stack.issues.close_stage(COUNCIL, 11, CHAIR)
    deadline = (await stack.at_stage(11, "resolve")).deadline
    assert deadline is not None
    with pytest.raises(Exception, match="quorum"):
        hold_meeting(
            stack.app,
            11,
            Body.VILLAGERS_REPRESENTATIVES,
            present=EVERYONE[:4],
            yes=4,
            rule_name="villagers_representatives",
            procedure_name=name,
            procedures=stack.procedures,
            issue=11,
        )
    await stack.skip_past_deadline(11)  # escalated, extended once
    await stack.until(11, lambda s: s.deadline is not None and s.deadline > deadline)
    await stack.skip_past_deadline(11)  # times out: quorum failure policy re-runs the stage
    await stack.until(
        11,
        lambda s: (
            s.stage == "resolve"
            and stack.app.issue(COUNCIL, 11).voting_rounds == {}
            and len(stack.app.get_history(stack.app.issue(COUNCIL, 11).id)) > 8
        ),
    )
    meeting, motion = hold_meeting(
        stack.app,
        12,
        Body.VILLAGERS_REPRESENTATIVES,
        present=EVERYONE[:5],
        yes=5,
        rule_name="villagers_representatives",
        procedure_name=name,
        procedures=stack.procedures,
        issue=11,
    )
    assert await stack.issues.record_resolution(
        COUNCIL, 11, CHAIR, meeting_number=meeting, motion_no=motion
    )
    await stack.until(11, lambda s: s.stage == "publish_resolution" and s.notice_id is not None)
    await stack.skip_past_deadline(11)
    assert (await stack.result(handle)).outcome == "adopted"
    await stack.keep_history(handle, "villagers-representatives")
    history = stack.app.get_history(stack.app.issue(COUNCIL, 11).id)
    assert [h.data["at_stage"] for h in history if h.topic == "govflow.issue.reopened"] == [
        "resolve"
    ]


async def test_party_members_assembly_rejects_when_the_motion_fails(stack: Stack) -> None:
    """Yes votes of exactly half the expected members are not enough: the item is rejected."""
    name = "party-members-assembly"
    procedure = stack.procedures.get(name)
    stack.app.propose_issue(COUNCIL, 12, "党员活动室改造", procedure, actor=CHAIR)
    handle = await stack.issues.start(COUNCIL, 12, procedure)
    await stack.at_stage(12, "review")
    meeting, motion = hold_meeting(
        stack.app,
        13,
        Body.PARTY_MEMBERS_ASSEMBLY,
        present=EVERYONE[:6],
        yes=3,
        rule_name="party_members_assembly",
        procedure_name=name,
        procedures=stack.procedures,
        issue=12,
    )
    assert not await stack.issues.record_resolution(
        COUNCIL, 12, CHAIR, meeting_number=meeting, motion_no=motion
    )
    assert (await stack.result(handle)).outcome == "rejected"
    await stack.keep_history(handle, "party-members-assembly")
    assert stack.app.get_issue(COUNCIL, 12).outcome == "rejected"


async def test_owners_raise_the_maintenance_fund_with_three_quarters(stack: Stack) -> None:
    """Raising the maintenance fund needs 3/4 of participating area and owners (Art. 278)."""
    name = "owners-assembly-art278"
    procedure = stack.procedures.get(name)
    stack.app.propose_issue(
        COUNCIL, 13, "续筹维修资金", procedure, actor=CHAIR, category="raise_maintenance_fund"
    )
    handle = await stack.issues.start(COUNCIL, 13, procedure, category="raise_maintenance_fund")
    await stack.until(13, lambda s: s.stage == "announce" and s.notice_id is not None)
    await stack.skip_past_deadline(13)
    await stack.until(13, lambda s: s.ballot_key == "resolve#1")
    # Five owners of six 90 m² units; o1 owns two. Four owners take part (450 of 540 m²);
    # three say yes: 3/4 of the participating owners, but only 270 of 450 m² (3/5): it fails.
    for voter, choice in [
        ("o1", Choice.NO),
        ("o2", Choice.YES),
        ("o3", Choice.YES),
        ("o4", Choice.YES),
    ]:
        await stack.issues.cast_ballot(COUNCIL, 13, voter, choice)
    await stack.skip_past_deadline(13)
    assert (await stack.result(handle)).outcome == "rejected"
    await stack.keep_history(handle, "owners-assembly-art278")
    tally = stack.app.get_tally(COUNCIL, 13, "resolve#1")
    assert tally.quorum_met and not tally.passed and "3/4" in tally.rule
