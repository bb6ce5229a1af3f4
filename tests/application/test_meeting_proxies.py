"""Proxies for a meeting (委托出席): appointed before attendance under the procedure of the
meeting's item, counted towards quorum and the motions' counts when the proxy attends and the
member does not, and used once attendance is recorded."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.council import Body
from govflow.domain.errors import GovflowError, InvalidInputError, RuleViolationError
from govflow.domain.ids import issue_id
from govflow.domain.meeting import AttendanceRecorded
from govflow.orchestration.door import CommandDoor
from tests.application.scenario import COUNCIL, set_up_council

FORM = hashlib.sha256(b"meeting proxy form").hexdigest()
OWNERS_MEETING = """
name: owners-meeting
version: 1
title: 业主大会会议 (test)
sources: [{title: 物业管理条例, article: Art. 12}]
rules:
  ordinary:
    quorum: {fraction: "1/2", comparison: more_than, base: members_of_record}
    passes: {fraction: "1/2", comparison: more_than, base: present}
stages:
  - {id: propose, kind: propose, title: 提议, body: owners_committee, duration: {days: 0}}
  - id: resolve
    kind: vote
    title: 业主大会会议表决
    body: owners_assembly
    rule: ordinary
    vote_by: meeting
    ballot: named
    duration: {days: 14}
    proxies: {allowed: true, cap: 1}
"""


@pytest.fixture
def door(app: Governance, tmp_path: Path) -> CommandDoor:
    """Item 1 under an owners' meeting procedure allowing one voter per proxy, with meeting 1
    of the owners' assembly for it (o1, o2 and o3 own the units) and meeting 2 of no item."""
    (tmp_path / "owners-meeting.v1.yaml").write_text(OWNERS_MEETING, encoding="utf-8")
    library = ProcedureLibrary(tmp_path)
    set_up_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    procedure = library.get("owners-meeting")
    app.propose_issue(COUNCIL, 1, "更换电梯", procedure, actor="o1")
    for number, item in ((1, issue_id(COUNCIL, 1)), (2, None)):
        app.schedule_meeting(
            COUNCIL, number, Body.OWNERS_ASSEMBLY, "业主大会会议", f"会议{number}",
            scheduled_for=app.now() + timedelta(days=15), notice_days_required=0,
            rule=procedure.rules["ordinary"], actor="clerk", issue_id=item,
        )  # fmt: skip
    return CommandDoor(app, None, library)


def run(door: CommandDoor, who: str, command: c.Command) -> Any:
    return asyncio.run(door.handle(command, door.app.principal(COUNCIL, who)))


def appoint(proxy: str, meeting: int = 1, principal: str | None = None) -> c.AppointMeetingProxy:
    return c.AppointMeetingProxy(
        council=COUNCIL, number=meeting, proxy=proxy, proxy_form_sha256=FORM, principal=principal
    )


def refused(door: CommandDoor, who: str, command: c.Command) -> GovflowError:
    """``command`` is refused for ``who`` and records nothing."""
    before = door.app.recorder.max_notification_id()
    with pytest.raises(GovflowError) as caught:
        run(door, who, command)
    assert door.app.recorder.max_notification_id() == before
    return caught.value


def test_a_proxy_attends_for_a_member_and_counts_towards_quorum(door: CommandDoor) -> None:
    app = door.app
    run(door, "o3", appoint("o2"))
    over = refused(door, "o1", appoint("o2"))  # o2 already stands for o3: cap 1
    assert isinstance(over, RuleViolationError) and over.details["cap"] == 1
    assert list(app.meeting_appointments(COUNCIL, 1)) == ["o3"]
    # o2 attends, o3 does not: o3 attends through o2; 2 of 3 owners attend, a quorum
    assert app.record_attendance(COUNCIL, 1, ["o2"], actor="clerk")
    view = app.get_meeting(COUNCIL, 1)
    assert (view.present, view.by_proxy, view.quorum_met) == (1, {"o3": "o2"}, True)
    # the motion's counts are within those attending, in person or through a proxy
    assert app.record_motion(COUNCIL, 1, "更换电梯", yes=2, no=0, abstain=0, actor="clerk") == 1
    with pytest.raises(InvalidInputError):
        app.record_motion(COUNCIL, 1, "再议", yes=3, no=0, abstain=0, actor="clerk")
    # the appointment was used: revoking it, or a new one, is refused now
    refused(door, "o3", c.RevokeMeetingProxy(council=COUNCIL, number=1))
    refused(door, "o1", appoint("o3"))


def test_without_a_proxy_the_same_attendance_has_no_quorum(door: CommandDoor) -> None:
    assert not door.app.record_attendance(COUNCIL, 1, ["o2"], actor="clerk")
    (event,) = [
        e for e in door.app.domain_events(door.app.meeting(COUNCIL, 1).id)
        if isinstance(e, AttendanceRecorded)
    ]  # fmt: skip
    assert event.by_proxy == {}


def test_a_member_who_attends_in_person_is_not_represented(door: CommandDoor) -> None:
    run(door, "o3", appoint("o2"))
    door.app.record_attendance(COUNCIL, 1, ["o2", "o3"], actor="clerk")
    assert door.app.get_meeting(COUNCIL, 1).by_proxy == {}


def test_a_revoked_appointment_does_not_count(door: CommandDoor) -> None:
    run(door, "o3", appoint("o2"))
    run(door, "o3", c.RevokeMeetingProxy(council=COUNCIL, number=1))
    run(door, "o1", appoint("o2"))  # the proxy's seat is free again
    door.app.record_attendance(COUNCIL, 1, ["o2"], actor="clerk")
    assert door.app.get_meeting(COUNCIL, 1).by_proxy == {"o1": "o2"}


def test_proxies_need_a_procedure_that_allows_them_and_the_right_people(
    door: CommandDoor,
) -> None:
    no_item = refused(door, "o3", appoint("o2", meeting=2))
    assert "does not allow proxies" in no_item.message
    assert refused(door, "o3", appoint("o3")).code == "rule.violation"  # oneself
    assert refused(door, "o3", appoint("p1")).code == "meeting.not_on_roll"  # not an owner
    assert refused(door, "o2", appoint("o1", principal="o3")).code == "auth.forbidden"
    run(door, "k1", appoint("o1", principal="o3"))  # the clerk records a paper 委托书
    assert door.app.meeting_appointments(COUNCIL, 1)["o3"].proxy == "o1"
