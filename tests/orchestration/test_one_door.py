"""The command door against the real stack: each way a hostile member bent the rules (issue 9)
is refused, and every refusal leaves no event behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from govflow.application import Governance
from govflow.domain.council import Body
from govflow.domain.errors import ForbiddenError
from govflow.entrypoints.api import create_api
from govflow.orchestration.client import IssueClient
from tests.orchestration.conftest import CHAIR, COUNCIL, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")
V1 = f"/v1/councils/{COUNCIL}"
MEETING_RULE = ("party_members_assembly", "party-members-assembly", "party_members_assembly")


class Door:
    """An HTTP client of the API with each person's token."""

    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    async def post(self, who: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return await self.client.post(f"{V1}{path}", headers=headers, json=body)

    async def get(self, who: str, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return await self.client.get(f"{V1}{path}", headers=headers)


def people(app: Governance) -> dict[str, str]:
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    app.enroll_member(COUNCIL, "f1", "出纳", actor="clerk", roles=("officer",))
    app.enroll_member(COUNCIL, "f2", "会计", actor="clerk", roles=("officer",))
    return {
        who: app.issue_token(COUNCIL, who, actor="clerk") for who in ("k1", CHAIR, "m1", "f1", "f2")
    }


def serve(stack: Stack, issues: IssueClient | None = None) -> httpx.AsyncClient:
    api = create_api(stack.app, issues or stack.issues, stack.procedures)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://govflow")


@pytest_asyncio.fixture(loop_scope="session")
async def door(stack: Stack) -> AsyncIterator[Door]:
    tokens = people(stack.app)
    async with serve(stack) as client:
        yield Door(client, tokens)


async def spending_under_review(
    door: Door, stack: Stack, number: int, amount: str = "50000.00"
) -> None:
    """A spending over the threshold, its item ``number`` at the party members' assembly's
    review (item numbers differ per test: workflow ids outlive a test's worker)."""
    requested = await door.post(
        "m1",
        "/spending",
        {"number": 1, "amount": amount, "purpose": "外墙翻新", "payee": "某公司",
         "budget_line": "公益金"},
    )  # fmt: skip
    assert requested.status_code == 201, requested.text
    proposed = await door.post(
        CHAIR,
        "/issues",
        {"number": number, "title": "外墙翻新", "procedure": "major-spending",
         "spending_number": 1},
    )  # fmt: skip
    assert proposed.status_code == 201, proposed.text
    await stack.at_stage(number, "deliberate")
    assert (await door.post(CHAIR, f"/issues/{number}/close-stage")).status_code == 200
    await stack.at_stage(number, "review")


async def schedule(
    door: Door, number: int, body: str, rule_of: str, rule: str, *, issue: int | None
) -> None:
    """Schedule a meeting as the clerk, for item ``issue``."""
    scheduled = await door.post(
        "k1",
        "/meetings",
        {"number": number, "body": body, "title": "会议", "rule_of": rule_of, "rule": rule,
         "scheduled_for": "2030-01-10T09:00:00+08:00", "issue_number": issue},
    )  # fmt: skip
    assert scheduled.status_code == 201, scheduled.text


async def meeting(
    door: Door,
    number: int,
    body: str,
    rule_of: str,
    rule: str,
    *,
    present: list[str],
    yes: int,
    issue: int | None,
) -> httpx.Response:
    """Schedule a meeting as the clerk, take attendance, record one motion."""
    await schedule(door, number, body, rule_of, rule, issue=issue)
    attendance = await door.post("k1", f"/meetings/{number}/attendance", {"present": present})
    assert attendance.status_code == 200, attendance.text
    no = len(present) - yes
    return await door.post(
        "k1", f"/meetings/{number}/motions", {"text": "同意", "yes": yes, "no": no}
    )


def topics(app: Governance, aggregate: Any) -> list[str]:
    return [h.topic.rsplit(".", 1)[1] for h in app.get_history(aggregate.id)]


async def test_the_quorum_base_comes_from_the_roll_not_the_caller(door: Door, stack: Stack) -> None:
    """(1) One person cannot pass a ¥50,000 review: 'expected' is not the caller's to say, and
    one of seven party members present is no quorum, so no motion can be carried."""
    await spending_under_review(door, stack, 501)
    await schedule(door, 1, *MEETING_RULE, issue=501)
    typed = await door.post("k1", "/meetings/1/attendance", {"present": [CHAIR], "expected": 1})
    assert typed.status_code == 422
    alone = await door.post("k1", "/meetings/1/attendance", {"present": [CHAIR]})
    assert alone.json() == {"quorum_met": False}
    view = (await door.get("m1", "/meetings/1")).json()
    assert (view["members_of_record"], view["expected"], view["present"]) == (7, 7, 1)
    motion = await door.post("k1", "/meetings/1/motions", {"text": "同意", "yes": 1, "no": 0})
    assert motion.status_code == 409 and motion.json()["code"] == "meeting.quorum_not_met"
    assert stack.app.get_spending(COUNCIL, 1).review_passed is False


async def test_excused_members_lower_the_expected_count_on_record(door: Door, stack: Stack) -> None:
    """应到 = members of record less those the clerk excused, with a reason, before the meeting;
    strangers and the excused cannot be counted present."""
    await spending_under_review(door, stack, 502)
    await schedule(door, 1, *MEETING_RULE, issue=502)
    for who in ("m5", "m6"):
        excused = await door.post("k1", "/meetings/1/excused", {"member_id": who, "reason": "外出"})
        assert excused.status_code == 200, excused.text
    stranger = await door.post("k1", "/meetings/1/attendance", {"present": [CHAIR, "f1"]})
    assert stranger.status_code == 422 and "not on the roll" in stranger.json()["detail"]
    excused = await door.post("k1", "/meetings/1/attendance", {"present": [CHAIR, "m6"]})
    assert excused.status_code == 422
    quorum = await door.post("k1", "/meetings/1/attendance", {"present": [CHAIR, "m1", "m2"]})
    assert quorum.json() == {"quorum_met": True}  # 3 of 5 expected: at least half
    view = (await door.get("m1", "/meetings/1")).json()
    assert (view["members_of_record"], view["expected"]) == (7, 5)
    assert view["excused"] == {"m5": "外出", "m6": "外出"}


async def test_a_resolution_must_come_from_the_stage_s_body_rule_and_item(
    door: Door, stack: Stack
) -> None:
    """(2, 3) A residents' assembly motion, a party meeting under a laxer rule, a meeting held
    for another item, a motion that does not exist: each refused with a code, answered at once,
    and the item records nothing and can still be withdrawn."""
    await spending_under_review(door, stack, 503, "12000.00")
    party = ["c1", "m1", "m2", "m3"]
    # another body, another rule (2 yes, 1 no of 4 present passes there)
    await meeting(door, 1, "residents_assembly", "residents-assembly", "residents_assembly",
                  present=["c1", "m1", "m2", "m3"], yes=2, issue=503)  # fmt: skip
    # the party's body, but the residents' assembly's laxer rule
    await meeting(door, 2, "party_members_assembly", "residents-assembly", "residents_assembly",
                  present=party, yes=3, issue=503)  # fmt: skip
    # the right body and rule, held for another item
    await meeting(door, 3, "party_members_assembly", "party-members-assembly",
                  "party_members_assembly", present=party, yes=4, issue=None)  # fmt: skip
    issue = stack.app.issue(COUNCIL, 503)
    before = topics(stack.app, issue)
    for meeting_number in (1, 2, 3):
        refused = await door.post(
            CHAIR, "/issues/503/resolution", {"meeting_number": meeting_number, "motion_no": 1}
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "resolution.wrong_meeting"
    await meeting(door, 4, "party_members_assembly", "party-members-assembly",
                  "party_members_assembly", present=party, yes=4, issue=503)  # fmt: skip
    missing = await door.post(
        CHAIR, "/issues/503/resolution", {"meeting_number": 4, "motion_no": 99}
    )
    assert missing.status_code == 409 and missing.json()["code"] == "meeting.invalid_state"
    assert topics(stack.app, issue) == before  # nothing recorded
    assert stack.app.get_spending(COUNCIL, 1).review_passed is False
    withdrawn = await door.post(CHAIR, "/issues/503/withdraw", {"text": "重新提议"})
    assert withdrawn.status_code == 200, withdrawn.text


async def test_a_right_resolution_records_the_review_with_it(door: Door, stack: Stack) -> None:
    """The party members' assembly, under its own rule, for this item: the resolution and the
    spending's review are recorded together and the spending is approved."""
    await spending_under_review(door, stack, 504)
    party = ["c1", "m1", "m2", "m3", "m4"]
    motion = await meeting(door, 1, "party_members_assembly", "party-members-assembly",
                           "party_members_assembly", present=party, yes=5, issue=504)  # fmt: skip
    assert motion.json()["passed"] is True
    passed = await door.post(CHAIR, "/issues/504/resolution", {"meeting_number": 1, "motion_no": 1})
    assert passed.json() == {"passed": True}
    await stack.until(504, lambda s: s.stage == "publish_resolution")
    assert stack.app.get_spending(COUNCIL, 1).status == "approved"


async def test_households_form_the_residents_assembly_roll(door: Door, stack: Stack) -> None:
    """(4) Households registered with the residents' assembly are on its roll, once per owner."""
    app = stack.app
    for unit, area in (("9-01", "80.00"), ("9-02", "70.00")):
        residents = (Body.RESIDENTS_ASSEMBLY,)
        app.register_household(COUNCIL, unit, Decimal(area), "h1", actor="k1", bodies=residents)
    roll = app.council(COUNCIL).roll_of(Body.RESIDENTS_ASSEMBLY)
    assert "h1" in roll.weights and roll.weights["h1"] == 1
    assert set(roll.weights) == {"c1", "m1", "m2", "m3", "m4", "m5", "m6", "h1"}


async def test_a_vote_on_an_empty_roll_fails_the_stage_on_record(stack: Stack) -> None:
    """(4) Nobody on the voting body's roll: the vote is refused (voting.empty_roll) and the
    item fails with the stage closed as failed, instead of waiting for votes nobody can cast."""
    app = stack.app
    app.register_council("empty", "空社区", actor="clerk")
    app.enroll_member("empty", "e1", "主任", actor="clerk", chairs=tuple(Body))
    app.remove_member("empty", "e1", actor="clerk")
    app.enroll_member("empty", "e1", "主任", actor="clerk", chairs=(Body.RESIDENTS_COMMITTEE,))
    procedure = stack.procedures.get("residents-assembly")  # votes by the residents' assembly
    assert not app.council("empty").roll_of(Body.RESIDENTS_ASSEMBLY).weights
    app.propose_issue("empty", 1, "无人可投", procedure, actor="e1")
    handle: WorkflowHandle[Any, Any] = await stack.issues.start("empty", 1, procedure)
    for _ in range(100):
        if app.issue("empty", 1).open_stage not in (None, "propose"):
            break
        await asyncio.sleep(0.1)
    stage = app.issue("empty", 1).open_stage
    assert stage == "public_deliberation", stage
    await stack.env.fast_forward(handle, timedelta(days=30))  # type: ignore[attr-defined]
    assert (await handle.result()).outcome == "failed"
    history = app.get_history(app.issue("empty", 1).id)
    closed = [h.data for h in history if h.topic == "govflow.issue.stage_closed"]
    assert closed[-1] == {**closed[-1], "stage": "resolve", "outcome": "failed"}
    assert not any(h.topic == "govflow.issue.voting_opened" for h in history)


async def test_a_chair_removed_from_the_chair_stops_acting_at_once(
    door: Door, stack: Stack
) -> None:
    """(6) Who chairs is read from the record when the command comes in, not frozen when the
    stage opened: c2 loses the chair mid-stage and is refused; status names who chairs now."""
    app = stack.app
    app.enroll_member(COUNCIL, "c2", "副主任", actor="clerk", chairs=(Body.RESIDENTS_ASSEMBLY,))
    proposed = await door.post(
        CHAIR, "/issues", {"number": 506, "title": "楼道灯", "procedure": "residents-assembly"}
    )
    assert proposed.status_code == 201
    await stack.at_stage(506, "public_deliberation")
    status = await stack.issues.status(COUNCIL, 506)
    who = {a.action: a.who for a in status.actions}
    door.tokens["c2"] = app.issue_token(COUNCIL, "c2", actor="k1")
    unchaired = await door.client.put(
        f"{V1}/members/c2",
        headers={"Authorization": f"Bearer {door.tokens['k1']}"},
        json={"bodies": ["residents_assembly"]},  # still on the body, no longer its chair
    )
    assert unchaired.status_code == 200, unchaired.text
    refused = await door.post("c2", "/issues/506/close-stage")
    assert refused.status_code == 403 and refused.json()["code"] == "auth.forbidden"
    with pytest.raises(ForbiddenError):  # the workflow's validator asks the same policy
        await stack.issues.close_stage(COUNCIL, 506, "c2")
    assert (await stack.issues.status(COUNCIL, 506)).stage == "public_deliberation"
    now = {a.action: a.who for a in (await stack.issues.status(COUNCIL, 506)).actions}
    assert who["close_stage"] == ["c1", "c2"] and now["close_stage"] == ["c1"]
    closed = await door.post(CHAIR, "/issues/506/close-stage")
    assert closed.status_code == 200


async def test_a_reused_member_id_does_not_revive_old_tokens(door: Door, stack: Stack) -> None:
    """(7) m9 leaves; another person is enrolled as m9 with the clerk role: the first
    person's token is dead, the new person's own token works."""
    app = stack.app
    app.enroll_member(COUNCIL, "m9", "老王", actor="k1")
    old = app.issue_token(COUNCIL, "m9", actor="k1")
    door.tokens["old-m9"] = old
    assert (await door.get("old-m9", "")).status_code == 200
    gone = await door.client.delete(
        f"{V1}/members/m9", headers={"Authorization": f"Bearer {door.tokens['k1']}"}
    )
    assert gone.status_code == 200
    assert (await door.get("old-m9", "")).status_code == 401
    app.enroll_member(COUNCIL, "m9", "小李", actor="k1", roles=("clerk",))
    revived = await door.post("old-m9", "/members", {"member_id": "z1", "name": "冒名"})
    assert revived.status_code == 401
    assert "z1" not in app.council(COUNCIL).members
    door.tokens["new-m9"] = app.issue_token(COUNCIL, "m9", actor="k1")
    assert (
        await door.post("new-m9", "/members", {"member_id": "z2", "name": "新"})
    ).status_code == 201


async def test_a_disbursement_carries_no_one_else_s_credential(door: Door, stack: Stack) -> None:
    """(8) The second officer approves with their own token in their own request; a
    countersign header carrying someone's token is ignored, so one officer cannot pay alone."""
    app = stack.app
    app.request_spending(
        COUNCIL, 9, "800.00", purpose="灯", payee="店", budget_line="修", actor="m1"
    )
    app.approve_spending(COUNCIL, 9, actor=CHAIR)
    headers = {
        "Authorization": f"Bearer {door.tokens['f1']}",
        "Govflow-Countersign": door.tokens["f2"],
    }
    asked = await door.client.post(
        f"{V1}/spending/9/disbursements",
        headers=headers,
        json={"amount": "800.00", "reference": "单-1"},
    )
    assert asked.status_code == 201 and asked.json()["status"] == "requested"
    alone = await door.client.post(f"{V1}/spending/9/disbursements/1/approve", headers=headers)
    assert alone.status_code == 409 and alone.json()["code"] == "spending.same_officer"
    assert app.get_spending(COUNCIL, 9).disbursed == 0
    view = app.get_spending(COUNCIL, 9)
    assert view.pending_disbursements[1].requested_by == "f1"
    paid = await door.post("f2", "/spending/9/disbursements/1/approve")
    assert paid.status_code == 200 and paid.json()["disbursed"] == "800.00"


class FailingStart(IssueClient):
    """The workflow service refuses the first start (a network blip after the save)."""

    failures = 1

    async def start(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b"")
        return await super().start(*args, **kwargs)


async def test_proposing_again_completes_a_half_done_proposal(door: Door, stack: Stack) -> None:
    """(9) The issue is saved but its workflow fails to start: proposing the same again starts
    it; proposing other content under the number is refused."""
    flaky = FailingStart(stack.issues.client, stack.app, task_queue=stack.issues.task_queue)
    body = {"number": 507, "title": "健身角", "procedure": "residents-assembly"}
    headers = {"Authorization": f"Bearer {door.tokens[CHAIR]}"}
    async with serve(stack, flaky) as client:
        first = await client.post(f"{V1}/issues", headers=headers, json=body)
        assert first.status_code == 503 and first.json()["code"] == "workflow.unavailable"
        assert stack.app.get_issue(COUNCIL, 507).open_stage is None  # saved, not started
        again = await client.post(f"{V1}/issues", headers=headers, json=body)
        assert again.status_code == 201, again.text
        other = await client.post(f"{V1}/issues", headers=headers, json={**body, "title": "别的"})
        assert other.status_code == 409 and other.json()["code"] == "already_exists"
    await stack.at_stage(507, "public_deliberation")


async def test_two_resolutions_at_once_record_one(door: Door, stack: Stack) -> None:
    """A chair who sends a failing and a passing resolution at the same moment gets one
    recorded and the other refused; the item and its spending agree on the outcome."""
    await spending_under_review(door, stack, 508)
    party = ["c1", "m1", "m2", "m3", "m4"]
    await meeting(door, 1, *MEETING_RULE, present=party, yes=5, issue=508)
    await meeting(door, 2, *MEETING_RULE, present=party, yes=1, issue=508)
    answers = await asyncio.gather(
        *(
            door.post(CHAIR, "/issues/508/resolution", {"meeting_number": n, "motion_no": 1})
            for n in (1, 2)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    history = stack.app.get_history(stack.app.issue(COUNCIL, 508).id)
    resolutions = [h.data for h in history if h.topic == "govflow.issue.resolution_recorded"]
    assert len(resolutions) == 1
    spending = stack.app.get_spending(COUNCIL, 1)
    assert spending.review_passed is resolutions[0]["passed"]


async def test_a_late_objection_does_not_stall_the_item(door: Door, stack: Stack) -> None:
    """An objection filed at the end of the window falls due after the display ends: the item
    waits for its answer (or its deadline) instead of spinning, keeps answering its status,
    and finishes once it is answered."""
    proposed = await door.post(
        CHAIR, "/issues", {"number": 509, "title": "公示", "procedure": "party-members-assembly"}
    )
    assert proposed.status_code == 201
    await stack.at_stage(509, "review")
    party = ["c1", "m1", "m2", "m3", "m4"]
    await meeting(door, 1, *MEETING_RULE, present=party, yes=5, issue=509)
    resolved = await door.post(
        CHAIR, "/issues/509/resolution", {"meeting_number": 1, "motion_no": 1}
    )
    assert resolved.json() == {"passed": True}
    posted = await stack.until(509, lambda s: s.notice_id is not None)
    notice = stack.app.get_notice(UUID(posted.notice_id or ""))
    assert notice.objection_until is not None
    last_day = notice.objection_until - stack.app.issue(COUNCIL, 509).modified_on
    await stack.skip(509, last_day.total_seconds() / 86_400 - 0.1)
    objected = await door.post("m1", "/issues/509/objections", {"text": "最后一天的异议"})
    assert objected.status_code == 201, objected.text
    await stack.skip_past_display(509)
    status = await stack.issues.status(COUNCIL, 509)  # answers: the workflow is not spinning
    assert status.stage == "publish_resolution"
    answered = await door.post(
        CHAIR, "/issues/509/objections/1/answer", {"reply": "已核实", "upheld": False}
    )
    assert answered.status_code == 200, answered.text
    await stack.until(509, lambda s: s.outcome == "adopted" or s.stage is None)


async def test_only_the_clerk_excuses_and_only_before_the_meeting(door: Door, stack: Stack) -> None:
    """The chair, who would gain from a smaller quorum base, may not excuse anyone."""
    await meeting(door, 1, *MEETING_RULE, present=["c1", "m1", "m2", "m3"], yes=4, issue=None)
    await schedule(door, 2, *MEETING_RULE, issue=None)
    by_chair = await door.post(CHAIR, "/meetings/2/excused", {"member_id": "m5", "reason": "."})
    assert by_chair.status_code == 403 and by_chair.json()["code"] == "auth.forbidden"
    by_clerk = await door.post("k1", "/meetings/2/excused", {"member_id": "m5", "reason": "病"})
    assert by_clerk.status_code == 200


async def test_a_request_does_not_outlive_its_officer(door: Door, stack: Stack) -> None:
    """f1 asks for a payment and then leaves the council: f2 cannot pay it alone."""
    app = stack.app
    app.request_spending(
        COUNCIL, 9, "800.00", purpose="灯", payee="店", budget_line="修", actor="m1"
    )
    app.approve_spending(COUNCIL, 9, actor=CHAIR)
    asked = await door.post(
        "f1", "/spending/9/disbursements", {"amount": "800.00", "reference": "单"}
    )
    assert asked.status_code == 201
    app.remove_member(COUNCIL, "f1", actor="k1")
    alone = await door.post("f2", "/spending/9/disbursements/1/approve")
    assert alone.status_code == 409 and alone.json()["code"] == "spending.invalid_state"
    assert app.get_spending(COUNCIL, 9).disbursed == 0


async def test_a_spending_is_decided_by_one_item_of_a_spending_procedure(
    door: Door, stack: Stack
) -> None:
    """Proposing links the spending to the item in the same save: a second item cannot name
    it; a spending procedure needs a spending and another procedure refuses one."""
    requested = await door.post(
        "m1",
        "/spending",
        {"number": 1, "amount": "30000.00", "purpose": "外墙", "payee": "某公司",
         "budget_line": "公益金"},
    )  # fmt: skip
    assert requested.status_code == 201
    item = {"title": "外墙翻新", "procedure": "major-spending", "spending_number": 1}
    first = await door.post(CHAIR, "/issues", {"number": 510, **item})
    assert first.status_code == 201, first.text
    assert stack.app.spending(COUNCIL, 1).issue_id == stack.app.issue(COUNCIL, 510).id
    second = await door.post(CHAIR, "/issues", {"number": 511, **item})
    assert second.status_code == 409 and second.json()["code"] == "spending.invalid_state"
    with pytest.raises(Exception, match="not found"):
        stack.app.issue(COUNCIL, 511)  # the refusal recorded nothing
    unnamed = await door.post(CHAIR, "/issues", {"number": 512, **item, "spending_number": None})
    assert unnamed.status_code == 422 and "name the spending" in unnamed.json()["detail"]
    residents = {"number": 513, "title": "花坛", "procedure": "residents-assembly"}
    wrong = await door.post(CHAIR, "/issues", {**residents, "spending_number": 1})
    assert wrong.status_code == 422
