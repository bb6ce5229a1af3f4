"""Meetings in the app: the clerk (or the body's chair) schedules a meeting, gives notice,
excuses a member, takes attendance by tapping names, records a motion and the minutes and
uploads the sign-in sheet; members read the record; the door refuses everyone else."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.entrypoints.api import create_api
from govflow.entrypoints.routes.meetings import MAX_EVIDENCE
from tests.app.conftest import COUNCIL, Person, SignIn, _people
from tests.orchestration.conftest import WORKFLOWS, enroll_council

pytestmark = pytest.mark.asyncio(loop_scope="session")

RULE = "party-members-assembly:party_members_assembly"
SHEET = b"%PDF-1.4 scanned sign-in sheet \xe7\xad\xbe\xe5\x88\xb0"


@pytest_asyncio.fixture(loop_scope="session")
async def meeting_people(tmp_path: Path) -> AsyncIterator[tuple[Governance, SignIn, Path]]:
    """The app over a SQLite store with the procedures (meetings need their voting rules)
    and an evidence store, without workflows; the test council plus its clerk ``k1``."""
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    )
    enroll_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    evidence = tmp_path / "evidence"
    api = create_api(app, None, ProcedureLibrary(WORKFLOWS), evidence_dir=evidence)
    async for sign_in in _people(api, app):
        yield app, sign_in, evidence
    app.close()


async def schedule(person: Person, number: int = 1, **extra: str) -> httpx.Response:
    fields = {
        "number": str(number),
        "body": "party_members_assembly",
        "kind": "党员大会",
        "title": "审议小区路灯维修",
        "date": "2031-05-20",
        "time": "19:30",
        "notice_days": "7",
        "rule": RULE,
        **extra,
    }
    return await person.submit("/app/meetings", **fields)


async def test_a_meeting_from_schedule_to_sign_in_sheet(
    meeting_people: tuple[Governance, SignIn, Path],
) -> None:
    """Scheduled (in the council's time zone), noticed, a member excused, attendance tapped,
    a motion with counts, minutes, the sign-in sheet uploaded and its sha256 shown."""
    app, sign_in, evidence = meeting_people
    clerk = await sign_in("k1")
    form = await clerk.get("/app/meetings")
    assert form.status_code == 200 and 'name="rule"' in form.text and "党员大会" in form.text
    scheduled = await schedule(clerk)
    assert scheduled.status_code == 303
    assert scheduled.headers["location"] == "/app/meetings/1?done=scheduled"
    meeting = app.meeting(COUNCIL, 1)
    assert meeting.scheduled_for.isoformat() == "2031-05-20T19:30:00+08:00"
    page = await clerk.get("/app/meetings/1")
    assert "2031-05-20 19:30" in page.text and "会议已安排" not in page.text

    assert (await clerk.submit("/app/meetings/1/notice")).status_code == 303
    assert app.meeting(COUNCIL, 1).notice_period_met is True
    excused = await clerk.submit("/app/meetings/1/excuse", member_id="m6", reason="出差")
    assert excused.status_code == 303

    page = await clerk.get("/app/meetings/1")
    boxes = re.findall(r'<input type="checkbox" id="present-\d+" name="present" value="([^"]+)"',
                       page.text)  # fmt: skip
    assert boxes == ["c1", "m1", "m2", "m3", "m4", "m5"]  # m6 is excused
    taken = await clerk.client.post(
        "/app/meetings/1/attendance",
        data={"csrf": clerk.csrf, "present": ["c1", "m1", "m2", "m3"]},
    )
    assert taken.status_code == 303
    attendance = app.meeting(COUNCIL, 1).attendance
    assert attendance is not None and attendance.present == ("c1", "m1", "m2", "m3")
    assert attendance.quorum_met and attendance.expected == 6

    motion = await clerk.submit(
        "/app/meetings/1/motions", text="同意维修路灯", yes="4", no="0", abstain="0"
    )
    assert motion.status_code == 303 and app.meeting(COUNCIL, 1).motion_results == {1: True}
    minutes = await clerk.submit("/app/meetings/1/minutes", minutes="会议由主任主持，全体同意。")
    assert minutes.status_code == 303

    uploaded = await clerk.submit(
        "/app/meetings/1/evidence",
        files={"sheet": ("C:\\scans\\签到表.pdf", SHEET, "application/pdf")},
    )
    assert uploaded.status_code == 303
    digest = hashlib.sha256(SHEET).hexdigest()
    assert (evidence / digest).read_bytes() == SHEET

    member = await sign_in("m2")
    record = await member.get("/app/meetings/1")
    assert record.status_code == 200
    assert digest in record.text and "签到表.pdf" in record.text
    assert "同意维修路灯" in record.text and "赞成 4" in record.text and "通过" in record.text
    assert "会议由主任主持" in record.text and "出差" in record.text
    assert 'id="present-count">4<' in record.text
    assert "<form" not in record.text  # m2 neither chairs the body nor keeps the roll
    download = await member.get(f"/app/meetings/1/evidence/{digest}")
    assert download.status_code == 200 and download.content == SHEET


async def test_a_member_cannot_run_a_meeting_by_a_forged_post(
    meeting_people: tuple[Governance, SignIn, Path],
) -> None:
    """m1 (no chair, not the clerk) posting the forms is refused in words; nothing recorded."""
    app, sign_in, _ = meeting_people
    clerk = await sign_in("k1")
    await schedule(clerk, 2)
    member = await sign_in("m1")
    assert (await schedule(member, 3)).status_code == 403
    refused = await member.submit("/app/meetings/2/notice")
    assert refused.status_code == 403 and "您没有权限进行此操作" in refused.text
    sheet = await member.submit("/app/meetings/2/evidence", files={"sheet": ("s.pdf", SHEET)})
    assert sheet.status_code == 403
    meeting = app.meeting(COUNCIL, 2)
    assert meeting.notice_period_met is None and not meeting.evidence
    assert [r.number for r in app.list_meetings(COUNCIL)] == [2]


async def test_the_chair_runs_the_meeting_but_only_the_clerk_excuses(
    meeting_people: tuple[Governance, SignIn, Path],
) -> None:
    """c1 chairs the body: the chair schedules and gives notice; excusing is the clerk's."""
    app, sign_in, _ = meeting_people
    chair = await sign_in("c1")
    assert (await schedule(chair, 4)).status_code == 303
    assert (await chair.submit("/app/meetings/4/notice")).status_code == 303
    refused = await chair.submit("/app/meetings/4/excuse", member_id="m1", reason="病假")
    assert refused.status_code == 403 and not app.meeting(COUNCIL, 4).excused


async def test_refusals_are_told_in_plain_words(
    meeting_people: tuple[Governance, SignIn, Path],
) -> None:
    """A bad date, a motion before attendance, counts over those present: 4xx in words."""
    app, sign_in, _ = meeting_people
    clerk = await sign_in("k1")
    bad = await schedule(clerk, 5, date="2031-13-40")
    assert bad.status_code == 422 and "会议时间：日期时间格式不正确" in bad.text
    await schedule(clerk, 6)
    early = await clerk.submit("/app/meetings/6/motions", text="x", yes="1", no="0")
    assert early.status_code == 409 and "会议当前状态不允许此操作" in early.text
    await clerk.client.post(
        "/app/meetings/6/attendance", data={"csrf": clerk.csrf, "present": ["c1", "m1", "m2", "m3"]}
    )
    over = await clerk.submit("/app/meetings/6/motions", text="x", yes="9", no="0")
    assert over.status_code == 422 and "<form" in over.text
    word = await clerk.submit("/app/meetings/6/motions", text="x", yes="四", no="0")
    assert word.status_code == 422 and "赞成票数：须为整数" in word.text
    assert app.meeting(COUNCIL, 6).motions == 0
    english = await clerk.client.post(
        "/app/meetings/6/motions?lang=en", data={"csrf": clerk.csrf, "text": "x", "yes": "-1"}
    )
    assert english.status_code == 422 and "Yes votes: must be at least 0" in english.text


async def test_a_meeting_form_without_csrf_is_refused(
    meeting_people: tuple[Governance, SignIn, Path],
) -> None:
    """The clerk's session without the CSRF token: 403, no meeting scheduled."""
    app, sign_in, _ = meeting_people
    clerk = await sign_in("k1")
    answer = await clerk.client.post(
        "/app/meetings",
        data={"number": "7", "body": "party_members_assembly", "title": "x", "rule": RULE},
    )
    assert answer.status_code == 403 and not app.list_meetings(COUNCIL)


async def test_a_phone_photo_of_the_sign_in_sheet_fits_and_an_oversized_file_does_not(
    meeting_people: tuple[Governance, SignIn, Path],
) -> None:
    """The app's upload takes the evidence limit (a 3 MB photo), not the 1 MiB of forms; a
    file over the evidence limit is refused (413) and nothing is attached."""
    app, sign_in, evidence = meeting_people
    clerk = await sign_in("k1")
    assert (await schedule(clerk)).status_code == 303
    photo = b"\xff\xd8\xff\xe0" + bytes(3 * 1024 * 1024)
    uploaded = await clerk.submit(
        "/app/meetings/1/evidence", files={"sheet": ("签到表.jpg", photo, "image/jpeg")}
    )
    assert uploaded.status_code == 303
    assert (evidence / hashlib.sha256(photo).hexdigest()).stat().st_size == len(photo)
    huge = bytes(MAX_EVIDENCE + 1)
    refused = await clerk.submit(
        "/app/meetings/1/evidence", files={"sheet": ("huge.jpg", huge, "image/jpeg")}
    )
    assert refused.status_code == 413
    assert len(app.meeting(COUNCIL, 1).evidence) == 1
