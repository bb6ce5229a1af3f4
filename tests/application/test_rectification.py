"""Rectification orders (限期整改) in the application and at the door, without Temporal: the
source is taken from the record, and every refusal leaves no event."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.council import Body
from govflow.domain.errors import ForbiddenError, GovflowError
from govflow.domain.issue import StageOutcome
from govflow.domain.notice import NoticeKind, NoticePeriod
from govflow.domain.rating import Satisfaction
from govflow.orchestration.door import CommandDoor
from tests.orchestration.conftest import CHAIR, COUNCIL, enroll_council

LIBRARY = ProcedureLibrary(Path(__file__).parents[2] / "workflows")
FIVE_STEP = LIBRARY.get("five-step-consultation")
EVIDENCE = hashlib.sha256(b"photo of the repaired drain").hexdigest()
SUPERVISOR = "sv1"  # chairs the supervisory committee (监委会)
RESIDENTS_CHAIR = "rc1"  # chairs the residents' committee
WORKER = "w1"  # the member ordered to act


def enroll_order_people(app: Governance) -> None:
    """The chairs and the member an order concerns, on top of the orchestration council."""
    app.enroll_member(
        COUNCIL, SUPERVISOR, "监委会主任", actor="clerk", chairs=(Body.SUPERVISORY_COMMITTEE,)
    )
    app.enroll_member(
        COUNCIL, RESIDENTS_CHAIR, "居委会主任", actor="clerk", chairs=(Body.RESIDENTS_COMMITTEE,)
    )
    app.enroll_member(COUNCIL, WORKER, "物业经理", actor="clerk")


def evaluated(app: Governance, number: int, *ratings: Satisfaction) -> None:
    """Item ``number`` walked to its evaluation, rated by o1, o2 … in turn, and closed."""
    app.propose_issue(COUNCIL, number, f"议题{number}", FIVE_STEP, actor=CHAIR)
    previous = None
    stages = ("propose", "deliberate", "public_deliberation", "resolve", "publish_resolution")
    for stage in (*stages, "implement", "evaluate"):
        if previous is not None:
            app.close_stage(COUNCIL, number, previous, StageOutcome.COMPLETED, actor="system")
        app.open_stage(
            COUNCIL, number, stage, deadline=app.now() + timedelta(days=7), actor="system"
        )
        previous = stage
    app.open_evaluation(
        COUNCIL, number, "evaluate", body=Body.AFFECTED_HOUSEHOLDS,
        closes_at=app.now() + timedelta(days=7), actor="system",
    )  # fmt: skip
    for i, rating in enumerate(ratings, start=1):
        app.rate_issue(COUNCIL, number, f"o{i}", rating)
    app.close_evaluation(COUNCIL, number, actor="system")


DISSATISFIED = (Satisfaction.DISSATISFIED, Satisfaction.DISSATISFIED, Satisfaction.SATISFIED)
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED, Satisfaction.DISSATISFIED)


def order_command(number: int, **changes: object) -> c.OrderRectification:
    fields: dict[str, object] = {
        "council": COUNCIL,
        "number": number,
        "what": "疏通3号楼化粪管",
        "why": "居民评议不满意：施工后仍然堵塞",
        "assignee_kind": "member",
        "assignee": WORKER,
        "body": "supervisory_committee",
        "due": date.today() + timedelta(days=10),
        "source": "evaluation",
        "issue_number": 2300,
    }
    fields.update(changes)
    return c.OrderRectification.model_validate(fields)


@pytest.fixture
def app() -> Governance:
    governance = Governance({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    enroll_council(governance)
    enroll_order_people(governance)
    return governance


def issue_order(app: Governance, number: int = 1, **changes: object) -> None:
    cmd = order_command(number, **changes)
    app.order_rectification(
        COUNCIL, number, what=cmd.what, why=cmd.why, assignee_kind=cmd.assignee_kind,
        assignee=cmd.assignee, ordered_by=cmd.body, due=cmd.due, source_kind=cmd.source,
        source={"issue_number": cmd.issue_number, "notice_id": cmd.notice_id,
                "objection_no": cmd.objection_no, "inspection_number": cmd.inspection_number},
        actor=SUPERVISOR,
    )  # fmt: skip


def refused(app: Governance, act: object) -> GovflowError:
    """Run ``act`` (a callable), which must be refused without recording anything."""
    before = app.recorder.max_notification_id()
    with pytest.raises(GovflowError) as caught:
        result = act()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            asyncio.run(result)
    assert app.recorder.max_notification_id() == before
    return caught.value


def test_an_order_from_a_dissatisfied_evaluation_keeps_the_evaluations_counts(
    app: Governance,
) -> None:
    """The order records the evaluation as the record has it (counts and stage), the body it
    escalates to by the policy, and a deadline at 24:00 local of the due day."""
    evaluated(app, 2300, *DISSATISFIED)
    issue_order(app)
    view = app.get_order(COUNCIL, 1)
    assert view.status == "open" and view.round == 1
    assert view.source_ref == "issue:2300"
    assert "不满意 2" in view.source_detail
    assert view.escalate_to == "two_committees"
    assert view.deadline.hour == 16  # 24:00 in Beijing is 16:00 UTC


def test_an_order_linked_to_a_satisfied_evaluation_is_refused_and_records_nothing(
    app: Governance,
) -> None:
    """满意 overall (more than half at least basically satisfied): nothing to rectify."""
    evaluated(app, 2300, *SATISFIED)
    error = refused(app, lambda: issue_order(app))
    assert error.code == "rectification.source_not_eligible"


def test_an_order_from_an_item_never_evaluated_is_refused(app: Governance) -> None:
    app.propose_issue(COUNCIL, 2300, "未评议", FIVE_STEP, actor=CHAIR)
    assert refused(app, lambda: issue_order(app)).code == "rectification.source_not_eligible"


def test_an_order_from_an_objection_needs_it_upheld(app: Governance) -> None:
    """An objection answered as not upheld is no source; once upheld, it is."""
    app.propose_issue(COUNCIL, 2301, "决议公示", FIVE_STEP, actor=CHAIR)
    app.open_stage(COUNCIL, 2301, "propose", deadline=None, actor="system")
    period = NoticePeriod(display_days=7, objection_days=5, reply_days=3)
    notice = app.post_issue_notice(
        COUNCIL, 2301, "propose", NoticeKind.RESOLUTION, "决议公示", "同意", period, actor="system"
    )
    app.file_objection(notice, "金额有误", actor="m4")
    app.file_objection(notice, "施工单位未公开", actor="m5")
    app.answer_objection(notice, 1, "金额无误", upheld=False, actor=CHAIR)
    app.answer_objection(notice, 2, "将补充公开", upheld=True, actor=CHAIR)
    source = {"source": "objection", "issue_number": None, "notice_id": notice}
    error = refused(app, lambda: issue_order(app, 1, objection_no=1, **source))
    assert error.code == "rectification.source_not_eligible"
    issue_order(app, 1, objection_no=2, **source)
    assert app.get_order(COUNCIL, 1).source_ref == f"notice:{notice}#2"


def test_an_objection_to_another_councils_notice_is_no_source(app: Governance) -> None:
    """The same notice id named in another council's order is refused."""
    app.register_council("other", "别处", actor="clerk")
    app.enroll_member("other", "x", "外人", actor="clerk")
    app.propose_issue("other", 1, "别处公示", FIVE_STEP, actor="x")
    app.open_stage("other", 1, "propose", deadline=None, actor="system")
    period = NoticePeriod(display_days=7, objection_days=5, reply_days=3)
    notice = app.post_issue_notice(
        "other", 1, "propose", NoticeKind.RESOLUTION, "公示", "同意", period, actor="system"
    )
    app.file_objection(notice, "异议", actor="x")
    app.answer_objection(notice, 1, "采纳", upheld=True, actor="x")
    error = refused(
        app,
        lambda: issue_order(
            app, 1, source="objection", issue_number=None, notice_id=notice, objection_no=1
        ),
    )
    assert error.code == "rectification.source_not_eligible"


def test_an_order_from_an_inspection_and_its_finding(app: Governance) -> None:
    app.record_inspection(COUNCIL, 1, "消防通道堆放杂物", EVIDENCE, actor=SUPERVISOR)
    issue_order(app, 1, source="inspection", issue_number=None, inspection_number=1)
    assert app.get_order(COUNCIL, 1).source_detail == "检查发现：消防通道堆放杂物"
    missing = refused(app, lambda: issue_order(app, 2, source="inspection", inspection_number=9))
    assert missing.code == "not_found"


def test_an_order_to_a_body_needs_a_chair_on_the_record(app: Governance) -> None:
    evaluated(app, 2300, *DISSATISFIED)
    chairs = tuple(b for b in Body if b is not Body.VILLAGERS_ASSEMBLY)
    app.change_member(COUNCIL, CHAIR, actor="clerk", bodies=tuple(Body), chairs=chairs)
    error = refused(
        app, lambda: issue_order(app, 1, assignee_kind="body", assignee="villagers_assembly")
    )
    assert error.code == "rectification.nobody_to_act"
    unknown = refused(app, lambda: issue_order(app, 1, assignee="nobody"))
    assert unknown.code == "council.unknown_member"


# -- at the door: the policy over the record ---------------------------------------------------


@pytest.fixture
def door(app: Governance) -> CommandDoor:
    evaluated(app, 2300, *DISSATISFIED)
    issue_order(app)
    return CommandDoor(app, None, None)


def complete(number: int = 1) -> c.CompleteRectification:
    return c.CompleteRectification(
        council=COUNCIL, number=number, text="已疏通并更换管道", evidence=(EVIDENCE,)
    )


def test_only_the_member_ordered_reports_the_order_done(app: Governance, door: CommandDoor) -> None:
    """Another member, the ordering chair, the clerk: refused, nothing recorded."""
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    for other in ("m1", SUPERVISOR, CHAIR, "k1"):
        who = app.principal(COUNCIL, other)
        error = refused(app, lambda who=who: door.handle(complete(), who))
        assert isinstance(error, ForbiddenError), other
    asyncio.run(door.handle(complete(), app.principal(COUNCIL, WORKER)))
    assert app.get_order(COUNCIL, 1).status == "completed"


def test_a_later_enrolment_under_the_same_id_cannot_complete(
    app: Governance, door: CommandDoor
) -> None:
    """The member ordered left; someone enrolled later under the same id is another person."""
    app.remove_member(COUNCIL, WORKER, actor="clerk")
    app.enroll_member(COUNCIL, WORKER, "新人", actor="clerk")
    error = refused(app, lambda: door.handle(complete(), app.principal(COUNCIL, WORKER)))
    assert isinstance(error, ForbiddenError)


def test_only_the_ordering_bodys_chair_verifies(app: Governance, door: CommandDoor) -> None:
    """A chair of another body, a member, the one who did it: refused, nothing recorded."""
    asyncio.run(door.handle(complete(), app.principal(COUNCIL, WORKER)))
    accept = c.VerifyRectification(council=COUNCIL, number=1, accepted=True, text="已核实")
    for other in (RESIDENTS_CHAIR, "m1", WORKER):
        who = app.principal(COUNCIL, other)
        error = refused(app, lambda who=who: door.handle(accept, who))
        assert isinstance(error, ForbiddenError), other
    asyncio.run(door.handle(accept, app.principal(COUNCIL, SUPERVISOR)))
    assert app.get_order(COUNCIL, 1).status == "verified"


def test_the_chair_who_did_the_work_does_not_verify_it(app: Governance) -> None:
    """Ordered to a body the verifier also chairs: whoever reported it done may not accept it."""
    evaluated(app, 2300, *DISSATISFIED)
    issue_order(app, 2, assignee_kind="body", assignee="supervisory_committee")
    door = CommandDoor(app, None, None)
    asyncio.run(door.handle(complete(2), app.principal(COUNCIL, SUPERVISOR)))
    accept = c.VerifyRectification(council=COUNCIL, number=2, accepted=True)
    error = refused(app, lambda: door.handle(accept, app.principal(COUNCIL, SUPERVISOR)))
    assert error.code == "rectification.self_verification"
    asyncio.run(door.handle(accept, app.principal(COUNCIL, CHAIR)))  # c1 chairs it too


def test_sending_back_reopens_with_a_new_deadline_and_needs_reasons(
    app: Governance, door: CommandDoor
) -> None:
    asyncio.run(door.handle(complete(), app.principal(COUNCIL, WORKER)))
    chair = app.principal(COUNCIL, SUPERVISOR)
    no_reason = c.VerifyRectification(
        council=COUNCIL, number=1, accepted=False, due=date.today() + timedelta(days=5)
    )
    assert refused(app, lambda: door.handle(no_reason, chair)).code == "input.invalid"
    no_due = c.VerifyRectification(council=COUNCIL, number=1, accepted=False, text="仍有异味")
    assert refused(app, lambda: door.handle(no_due, chair)).code == "input.invalid"
    back = no_due.model_copy(update={"due": date.today() + timedelta(days=5)})
    view = asyncio.run(door.handle(back, chair))
    assert (view.status, view.round) == ("open", 2)
    assert [s.kind for s in view.steps] == ["issued", "completed", "sent_back"]
    twice = refused(app, lambda: door.handle(back, chair))
    assert twice.code == "rectification.invalid_state"


def test_only_the_supervisory_committee_records_inspections(app: Governance) -> None:
    door = CommandDoor(app, None, None)
    cmd = c.RecordInspection(
        council=COUNCIL, number=1, finding="楼道堆物", evidence_sha256=EVIDENCE
    )
    error = refused(app, lambda: door.handle(cmd, app.principal(COUNCIL, RESIDENTS_CHAIR)))
    assert isinstance(error, ForbiddenError)
    view = asyncio.run(door.handle(cmd, app.principal(COUNCIL, SUPERVISOR)))
    assert view.recorded_by == SUPERVISOR


def test_an_assembly_does_not_order(app: Governance) -> None:
    """Only committees order (the policy's ESCALATES_TO): a chair of an assembly is refused."""
    evaluated(app, 2300, *DISSATISFIED)
    door = CommandDoor(app, None, None)
    cmd = order_command(3, body="party_members_assembly")
    error = refused(app, lambda: door.handle(cmd, app.principal(COUNCIL, CHAIR)))
    assert isinstance(error, ForbiddenError)


def test_the_council_lists_its_orders_and_inspections(app: Governance) -> None:
    """The directory's section: each order with its status, and only this council's."""
    evaluated(app, 2300, *DISSATISFIED)
    app.record_inspection(COUNCIL, 1, "路灯不亮", EVIDENCE, actor=SUPERVISOR)
    issue_order(app, 1)
    issue_order(app, 2, source="inspection", issue_number=None, inspection_number=1)
    app.complete_order(COUNCIL, 2, "已修复", (EVIDENCE,), actor=WORKER)
    app.register_council("other", "别处", actor="clerk")
    assert [(r.number, r.status) for r in app.list_orders(COUNCIL)] == [
        (2, "completed"),
        (1, "open"),
    ]
    app.verify_order(COUNCIL, 2, accepted=True, text="", due=None, actor=SUPERVISOR)
    assert [r.number for r in app.list_orders(COUNCIL, open_only=True)] == [1]
    assert [r.finding for r in app.list_inspections(COUNCIL)] == ["路灯不亮"]
    assert app.list_orders("other") == []


# -- hostile review: races and bounds ----------------------------------------------------------


def test_a_completion_racing_the_escalation_is_a_retryable_conflict(app: Governance) -> None:
    """The escalation reads the order open, the member reports it done before the escalation
    is saved: the escalation fails as a concurrent change (retried by Temporal, which then finds
    the order done), never as ``already_exists``, which would fail the order's workflow."""
    from govflow.domain.errors import ConcurrentChangeError

    evaluated(app, 2300, *DISSATISFIED)
    issue_order(app)
    deadline = app.order(COUNCIL, 1).deadline
    read = app.order

    def racing(code: str, number: int) -> object:
        loaded = read(code, number)
        app.order = read  # type: ignore[method-assign]
        app.complete_order(code, number, "已疏通", (EVIDENCE,), actor=WORKER)
        return loaded

    app.order = racing  # type: ignore[method-assign]
    with app.acting_at(deadline + timedelta(minutes=1)):
        with pytest.raises(ConcurrentChangeError):
            app.escalate_order(COUNCIL, 1, step="order-x-1:3")
        assert app.escalate_order(COUNCIL, 1, step="order-x-1:3") is False  # the retry
    view = app.get_order(COUNCIL, 1)
    assert (view.status, view.escalated) == ("completed", False)


def test_a_deadline_beyond_ten_years_is_refused_and_records_nothing(app: Governance) -> None:
    """A due date far ahead (the last date there is, too) is invalid input, not a crash and
    not a timer Temporal cannot hold; so is a send-back's new due date."""
    evaluated(app, 2300, *DISSATISFIED)
    for due in (date.max, date.today() + timedelta(days=3700)):
        error = refused(app, lambda due=due: issue_order(app, 1, due=due))
        assert error.code == "input.invalid", due
    issue_order(app, 1, due=date.today() + timedelta(days=3600))
    app.complete_order(COUNCIL, 1, "已疏通", (EVIDENCE,), actor=WORKER)
    for due in (date.max, date.today() + timedelta(days=3700)):
        error = refused(
            app,
            lambda due=due: app.verify_order(
                COUNCIL, 1, accepted=False, text="仍堵", due=due, actor=SUPERVISOR
            ),
        )
        assert error.code == "input.invalid", due


def test_an_order_reported_done_is_not_reminded(app: Governance) -> None:
    """The workflow wakes at the reminder time without having heard of the completion (its
    signal lost): the member who reported it done is not told the deadline is near."""
    evaluated(app, 2300, *DISSATISFIED)
    issue_order(app)
    app.complete_order(COUNCIL, 1, "已疏通", (EVIDENCE,), actor=WORKER)
    assert app.remind_order(COUNCIL, 1, 1) == 0
    assert [d for d in app.list_deliveries(COUNCIL) if d.kind == "order_reminder"] == []


def test_my_tasks_list_the_orders_to_report_done_and_to_verify(app: Governance) -> None:
    """The member ordered has the order to put right, with its deadline; once reported done,
    the ordering body's chairs have it to verify and the member no longer; nobody else has it,
    and someone enrolled later under the member's id does not."""
    from govflow.application.tasks import ORDER_ACT, ORDER_VERIFY, get_tasks

    evaluated(app, 2300, *DISSATISFIED)
    issue_order(app)
    issue_order(app, 2, assignee_kind="body", assignee="residents_committee")

    def tasks(member: str) -> list[tuple[str, int]]:
        found = get_tasks(app, app.principal(COUNCIL, member)).tasks
        return [(t.kind, t.number) for t in found if t.order]

    (worker_task,) = [t for t in get_tasks(app, app.principal(COUNCIL, WORKER)).tasks if t.order]
    assert (worker_task.kind, worker_task.number, worker_task.title) == (
        ORDER_ACT,
        1,
        "疏通3号楼化粪管",
    )
    assert worker_task.deadline == app.order(COUNCIL, 1).deadline
    assert tasks(RESIDENTS_CHAIR) == [(ORDER_ACT, 2)]
    assert tasks(SUPERVISOR) == [] and tasks("m1") == []
    app.complete_order(COUNCIL, 1, "已疏通", (EVIDENCE,), actor=WORKER)
    assert tasks(WORKER) == []
    assert tasks(SUPERVISOR) == [(ORDER_VERIFY, 1)]
    assert (ORDER_VERIFY, 1) in tasks(CHAIR)  # c1 chairs the supervisory committee too
    app.complete_order(COUNCIL, 2, "已整改", (EVIDENCE,), actor=CHAIR)  # c1 chairs both
    assert (ORDER_VERIFY, 2) not in tasks(CHAIR) and (ORDER_VERIFY, 2) in tasks(SUPERVISOR)
    app.verify_order(COUNCIL, 1, accepted=True, text="", due=None, actor=SUPERVISOR)
    assert tasks(SUPERVISOR) == [(ORDER_VERIFY, 2)]

    issue_order(app, 3)
    app.remove_member(COUNCIL, WORKER, actor="clerk")
    app.enroll_member(COUNCIL, WORKER, "新人", actor="clerk")
    assert tasks(WORKER) == []


def test_an_order_to_someone_who_may_not_act_is_refused() -> None:
    """An auditor writes nothing, so could never report it done: an order to an auditor, or
    to a body whose only chair is an auditor, is refused and records nothing."""
    from govflow.domain.rectification import AssigneeKind, SourceKind

    app = Governance({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.register_council("au", "审计社区", actor="clerk")
    app.enroll_member("au", "sv", "监委会主任", actor="clerk", chairs=(Body.SUPERVISORY_COMMITTEE,))
    app.enroll_member("au", "c", "两委委员", actor="clerk", bodies=(Body.TWO_COMMITTEES,))
    app.enroll_member(
        "au", "a1", "审计员", actor="clerk", roles=("auditor",), chairs=(Body.OWNERS_COMMITTEE,)
    )
    app.record_inspection("au", 1, "路灯不亮", EVIDENCE, actor="sv")

    def order(kind: AssigneeKind, assignee: str) -> None:
        app.order_rectification(
            "au", 2770, what="修复路灯", why="检查发现", assignee_kind=kind, assignee=assignee,
            ordered_by=Body.SUPERVISORY_COMMITTEE, due=date.today() + timedelta(days=5),
            source_kind=SourceKind.INSPECTION, source={"inspection_number": 1}, actor="sv",
        )  # fmt: skip

    to_auditor = refused(app, lambda: order(AssigneeKind.MEMBER, "a1"))
    assert to_auditor.code == "rectification.nobody_to_act"
    to_body = refused(app, lambda: order(AssigneeKind.BODY, "owners_committee"))
    assert to_body.code == "rectification.nobody_to_act"
    order(AssigneeKind.MEMBER, "c")  # someone who may act
