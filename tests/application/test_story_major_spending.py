"""Story 1: every expense over ¥10,000 goes to the party members' assembly for review, and the
resolution, the implementation process and its result are each made public."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govflow.application import Governance
from govflow.domain.council import Body
from govflow.domain.errors import DisclosureMissingError, ReviewRequiredError
from govflow.domain.notice import NoticeKind, NoticePeriod
from tests.application.scenario import CLERK, COUNCIL, PARTY_MEMBERS, PARTY_RULE, set_up_council

PERIOD = NoticePeriod(display_days=7, objection_days=7, reply_days=3)


def hold_review(app: Governance, *, present: list[str], yes: int) -> int:
    app.schedule_meeting(
        COUNCIL,
        1,
        Body.PARTY_MEMBERS_ASSEMBLY,
        "党员大会",
        "审议支出",
        scheduled_for=app.now() + timedelta(days=5),
        notice_days_required=3,
        rule=PARTY_RULE,
        actor="p1",
    )
    app.issue_meeting_notice(COUNCIL, 1, actor="p1")
    app.record_attendance(COUNCIL, 1, present, actor="p1")
    return app.record_motion(
        COUNCIL, 1, "同意支出 ¥12,000.00", yes=yes, no=len(present) - yes, abstain=0, actor="p1"
    )


def test_12000_spending_is_refused_without_review_and_disclosures(app: Governance) -> None:
    """¥12,000 cannot be approved without the review, nor paid or settled without disclosures."""
    set_up_council(app)
    app.request_spending(
        COUNCIL,
        1,
        "12000.00",
        purpose="更换化粪管",
        payee="市政工程队",
        budget_line="公益事业专项",
        actor="p1",
    )
    with pytest.raises(ReviewRequiredError):
        app.approve_spending(COUNCIL, 1, actor="p1")

    motion = hold_review(app, present=PARTY_MEMBERS[:4], yes=4)  # 4 of 7: passes (> 3.5)
    assert app.review_spending(COUNCIL, 1, meeting_number=1, motion_no=motion, actor="p1")
    app.approve_spending(COUNCIL, 1, actor="p1")
    with pytest.raises(DisclosureMissingError) as caught:
        app.request_disbursement(COUNCIL, 1, "6000.00", reference="付-1", actor="p1")
    assert caught.value.details == {"disclosure": "resolution"}


def test_12000_spending_goes_through_review_and_three_disclosures(app: Governance) -> None:
    """The whole path: review, approval, three notices, two-officer disbursement, settlement."""
    set_up_council(app)
    app.request_spending(
        COUNCIL,
        1,
        "12000.00",
        purpose="更换化粪管",
        payee="市政工程队",
        budget_line="公益事业专项",
        actor="p1",
    )
    motion = hold_review(app, present=PARTY_MEMBERS[:5], yes=4)
    app.review_spending(COUNCIL, 1, meeting_number=1, motion_no=motion, actor="p1")
    app.approve_spending(COUNCIL, 1, actor="p1")
    app.disclose_spending(
        COUNCIL, 1, NoticeKind.RESOLUTION, "支出决议公开", "同意 ¥12,000.00", PERIOD, actor="p1"
    )
    first = app.request_disbursement(COUNCIL, 1, "6000.00", reference="付-1", actor="p1")
    app.approve_disbursement(COUNCIL, 1, first, actor="p2")
    app.disclose_spending(
        COUNCIL, 1, NoticeKind.PROGRESS, "实施过程公开", "已完成一半", PERIOD, actor="p1"
    )
    second = app.request_disbursement(COUNCIL, 1, "6000.00", reference="付-2", actor="p3")
    app.approve_disbursement(COUNCIL, 1, second, actor="p1")
    assert app.complete_spending(COUNCIL, 1, "12000.00", actor="p1") is False
    app.disclose_spending(
        COUNCIL, 1, NoticeKind.RESULT, "实施结果公开", "实际 ¥12,000.00", PERIOD, actor="p1"
    )
    app.settle_spending(COUNCIL, 1, actor="p1")

    view = app.get_spending(COUNCIL, 1)
    assert view.status == "settled"
    assert set(view.disclosures) == {"resolution", "progress", "result"}
    for notice_id in view.disclosures.values():
        assert app.get_notice(notice_id).subject_id == view.id
    history = app.get_history(view.id)
    assert [h.topic.rsplit(".", 1)[1] for h in history] == [
        "requested",
        "review_recorded",
        "approved",
        "disclosure_recorded",
        "disbursement_requested",
        "disbursed",
        "disclosure_recorded",
        "disbursement_requested",
        "disbursed",
        "completed",
        "disclosure_recorded",
        "settled",
    ]
    assert [h.actor for h in history if "disburse" in h.topic] == ["p1", "p2", "p3", "p1"]
    assert all(h.actor == "p1" for h in history if "disburse" not in h.topic)


def test_review_without_quorum_does_not_allow_approval(app: Governance) -> None:
    """Three of seven party members attending is no quorum: the motion is refused outright."""
    set_up_council(app)
    app.request_spending(
        COUNCIL, 1, "12000.00", purpose="p", payee="x", budget_line="b", actor="p1"
    )
    with pytest.raises(Exception, match="quorum"):
        hold_review(app, present=PARTY_MEMBERS[:3], yes=3)
    with pytest.raises(ReviewRequiredError):
        app.approve_spending(COUNCIL, 1, actor="p1")


def test_the_disclosures_are_on_the_audit_record(app: Governance) -> None:
    """A disclosure is posted and recorded on the spending in one transaction."""
    set_up_council(app)
    spending_id = app.request_spending(
        COUNCIL, 1, "800.00", purpose="p", payee="x", budget_line="b", actor=CLERK
    )
    app.approve_spending(COUNCIL, 1, actor="p1")
    notice_id = app.disclose_spending(
        COUNCIL, 1, NoticeKind.RESOLUTION, "t", "x", PERIOD, actor="p1"
    )
    notice = app.get_notice(notice_id)
    assert notice.subject_id == spending_id
    assert notice.display_until > notice.posted_at + timedelta(days=7)
