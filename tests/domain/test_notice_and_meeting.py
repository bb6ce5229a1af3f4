from datetime import UTC, datetime, timedelta
from fractions import Fraction
from uuid import uuid4

import pytest

from govflow.domain.council import Body
from govflow.domain.errors import (
    InvalidInputError,
    MeetingStateError,
    ObjectionWindowClosedError,
    QuorumNotMetError,
)
from govflow.domain.meeting import Meeting
from govflow.domain.notice import Notice, NoticeKind, NoticePeriod
from govflow.domain.voting import Base, Comparison, Threshold, VotingRule

T0 = datetime(2026, 3, 2, tzinfo=UTC)
DAY = timedelta(days=1)


def posted() -> Notice:
    return Notice.post(
        uuid4(),
        NoticeKind.RESOLUTION,
        1,
        "t",
        "text",
        period=NoticePeriod(7, 7, 3),
        display_until=T0 + 7 * DAY,
        objection_until=T0 + 7 * DAY,
        at=T0,
        actor="m1",
    )


def test_objection_only_within_its_window() -> None:
    """An objection after the window closes is refused with a stable code."""
    notice = posted()
    assert notice.file_objection("no", reply_due=T0 + 3 * DAY, at=T0 + DAY, actor="r1") == 1
    with pytest.raises(ObjectionWindowClosedError) as caught:
        notice.file_objection("late", reply_due=T0 + 10 * DAY, at=T0 + 7 * DAY, actor="r1")
    assert caught.value.code == "notice.objection_window_closed"


def test_correction_restarts_the_display_period() -> None:
    """A corrected notice is displayed for a full period again from the correction."""
    notice = posted()
    notice.correct(
        "fixed",
        display_until=T0 + 12 * DAY,
        objection_until=T0 + 12 * DAY,
        at=T0 + 5 * DAY,
        actor="m1",
    )
    assert notice.display_until == T0 + 12 * DAY
    assert notice.is_displayed(T0 + 10 * DAY)


RULE = VotingRule(
    quorum=Threshold(
        fraction=Fraction(2, 3), comparison=Comparison.AT_LEAST, base=Base.MEMBERS_OF_RECORD
    ),
    passes=Threshold(fraction=Fraction(1, 2), comparison=Comparison.MORE_THAN, base=Base.PRESENT),
)


ROLL = frozenset("abcdefghi")  # nine representatives of record


def meeting(notice_days: int = 10) -> Meeting:
    return Meeting.schedule(
        "c",
        1,
        Body.VILLAGERS_REPRESENTATIVES,
        "事务协调",
        "t",
        scheduled_for=T0 + 10 * DAY,
        notice_days_required=notice_days,
        rule=RULE,
        at=T0,
        actor="m1",
    )


def test_motion_without_quorum_is_refused() -> None:
    """Fewer than 2/3 of representatives present: no motion can be carried."""
    m = meeting()
    assert m.record_attendance(("a", "b", "c", "d", "e"), roll=ROLL, at=T0, actor="m1") is False
    with pytest.raises(QuorumNotMetError):
        m.record_motion("x", yes=5, no=0, abstain=0, at=T0, actor="m1")


def test_exactly_two_thirds_attending_makes_quorum() -> None:
    """6 of 9 is exactly 2/3: quorum."""
    m = meeting()
    assert m.record_attendance(tuple("abcdef"), roll=ROLL, at=T0, actor="m1")
    assert m.record_motion("x", yes=4, no=2, abstain=0, at=T0, actor="m1").passed


def test_missed_notice_period_flags_the_resolution() -> None:
    """Notice given 9 days ahead of a 10-day requirement is recorded and flags the motion."""
    m = meeting()
    assert m.issue_notice(at=T0 + DAY, actor="m1") is False
    m.record_attendance(tuple("abcdef"), roll=ROLL, at=T0, actor="m1")
    motion = m.record_motion("x", yes=6, no=0, abstain=0, at=T0, actor="m1")
    assert motion.passed and motion.notice_period_met is False


def test_quorum_base_is_the_roll_less_the_excused() -> None:
    """应到 is the roll less those excused on record: 5 of 9 is short of 2/3, but with two
    excused (5 of 7 expected) the members of record still decide a 2/3 quorum of record."""
    m = meeting()
    m.excuse("h", "外出务工", roll=ROLL, at=T0, actor="m1")
    m.excuse("i", "住院", roll=ROLL, at=T0, actor="m1")
    m.record_attendance(tuple("abcde"), roll=ROLL, at=T0, actor="m1")
    assert m.attendance is not None
    assert (m.attendance.members_of_record, m.attendance.expected) == (9, 7)


def test_attendance_is_checked_against_the_roll() -> None:
    """Someone not on the body's roll cannot be counted present; an excused member neither;
    excuses need a reason and come before attendance; attendance is taken once."""
    m = meeting()
    with pytest.raises(InvalidInputError, match="not on the roll"):
        m.record_attendance(("a", "zz"), roll=ROLL, at=T0, actor="m1")
    with pytest.raises(InvalidInputError, match="not on the roll"):
        m.excuse("zz", "x", roll=ROLL, at=T0, actor="m1")
    with pytest.raises(InvalidInputError, match="reason"):
        m.excuse("a", " ", roll=ROLL, at=T0, actor="m1")
    m.excuse("a", "病假", roll=ROLL, at=T0, actor="m1")
    with pytest.raises(InvalidInputError, match="excused"):
        m.record_attendance(("a", "b"), roll=ROLL, at=T0, actor="m1")
    m.record_attendance(tuple("bcdefgh"), roll=ROLL, at=T0, actor="m1")
    with pytest.raises(MeetingStateError):
        m.excuse("i", "late", roll=ROLL, at=T0, actor="m1")
    with pytest.raises(MeetingStateError):
        m.record_attendance(tuple("bcdefgh"), roll=ROLL, at=T0, actor="m1")
    kinds = [type(e).__name__ for e in m.collect_events()]
    assert kinds == ["MeetingScheduled", "MemberExcused", "AttendanceRecorded"]
