"""The roll as CSV: files read into commands row by row, problems named by line, and the roll
written so that Excel opens it and reading it back gives the same roll."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import pytest

from govflow.application import commands as c
from govflow.application import roll_csv as rc
from govflow.application.views import CouncilView, MemberView
from govflow.domain.council import Body

HEADER = "member_id,name,roles,bodies,chairs\n"


def council(*members: MemberView) -> CouncilView:
    return CouncilView(
        id=uuid.uuid4(),
        code="x",
        name="X",
        spending_threshold=Decimal("10000.00"),
        timezone="Asia/Shanghai",
        members=list(members),
        households=0,
    )


def test_a_members_file_becomes_one_enrolment_per_row() -> None:
    """Each row is an EnrollMember; lists take ; or ；, bodies and roles by code or in Chinese."""
    data = (HEADER + "m1,王芳,officer;clerk,党员大会；two_committees,two_committees\n").encode()
    plan = rc.plan_members(council(), rc.read_rows(data, "members"))
    assert not plan.problems
    (row,) = plan.send
    assert row.line == 2
    assert row.command == c.EnrollMember(
        council="x",
        member_id="m1",
        name="王芳",
        roles=("officer", "clerk"),
        bodies=(Body.PARTY_MEMBERS_ASSEMBLY, Body.TWO_COMMITTEES),
        chairs=(Body.TWO_COMMITTEES,),
    )


def test_every_bad_row_is_named_with_its_line_value_and_why() -> None:
    """Bad rows are all reported (not just the first); good rows still become commands."""
    data = (
        HEADER
        + "m1,好人,,,\n"
        + "bad id!,坏编号,,,\n"
        + "m2,,,,\n"
        + "m3,某人,,火星委员会,\n"
        + "m4,某人,boss,,\n"
        + "m1,又是好人,,,\n"
        + "m5,隐藏\u200b字,,,\n"
        + "m6,少列\n"
    ).encode()
    plan = rc.plan_members(council(), rc.read_rows(data, "members"))
    assert [r.line for r in plan.send] == [2]
    found = {p.line: (p.column, p.value, p.code) for p in plan.problems}
    assert found == {
        3: ("member_id", "bad id!", "input.string_pattern_mismatch"),
        4: ("name", "", "input.string_too_short"),
        5: ("bodies", "火星委员会", "csv.unknown_body"),
        6: ("roles", "boss", "csv.unknown_role"),
        7: (None, "m1", "csv.duplicate"),
        8: ("name", "隐藏\u200b字", "input.value_error"),
        9: (None, "m6", "csv.cells"),
    }


def test_a_bad_area_is_refused_with_its_own_code() -> None:
    """A household's area is read by the strict area parser: 89.505 and 1e2 are refused."""
    data = "unit,exclusive_area,owner_id,bodies\n1-01,89.505,o1,\n1-02,1e2,o1,\n1-03,89.5㎡,o1,\n"
    plan = rc.plan_households("x", [], rc.read_rows(data.encode(), "households"))
    assert [(p.line, p.column, p.value, p.code) for p in plan.problems] == [
        (2, "exclusive_area", "89.505", "area.invalid"),
        (3, "exclusive_area", "1e2", "area.invalid"),
    ]
    (row,) = plan.send
    assert isinstance(row.command, c.RegisterHousehold)
    assert row.command.exclusive_area == Decimal("89.50")
    assert row.command.bodies == (Body.OWNERS_ASSEMBLY,)


def test_a_written_roll_reads_back_the_same_and_opens_in_excel() -> None:
    """UTF-8 with a BOM; formula-like cells quoted when written and unquoted when read; a
    re-import of the written roll changes nothing."""
    members = [
        MemberView(member_id="m1", name="=HYPERLINK(1)", roles=["officer"], bodies=[], chairs=[]),
        MemberView(
            member_id="m2",
            name='张, "三"',
            roles=[],
            bodies=["party_members_assembly", "two_committees"],
            chairs=["two_committees"],
        ),
        MemberView(member_id="-m3", name="@李", roles=[], bodies=[], chairs=[]),
    ]
    data = rc.members_csv(members)
    assert data.startswith("\ufeff".encode())
    cells = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert cells[1][1] == "'=HYPERLINK(1)" and cells[3][0] == "'-m3" and cells[3][1] == "'@李"
    plan = rc.plan_members(council(*members), rc.read_rows(data, "members"))
    assert not plan.problems and not plan.send and plan.unchanged == [2, 3, 4]


def test_households_written_read_back_unchanged() -> None:
    """The households file round-trips (areas with two places, bodies by code)."""
    households = [
        rc.HouseholdView(
            "3-01", Decimal("90.00"), "o1", ("affected_households", "owners_assembly")
        ),
        rc.HouseholdView("+3-02", Decimal("0.50"), "o2", ("owners_assembly",)),
    ]
    data = rc.households_csv(households)
    plan = rc.plan_households("x", households, rc.read_rows(data, "households"))
    assert not plan.problems and not plan.send and plan.unchanged == [2, 3]


def test_a_member_on_the_roll_with_other_bodies_is_changed_not_enrolled() -> None:
    """Re-importing an edited file gives a member other bodies (ChangeMember); another name
    under the same id is a problem (no command renames a member)."""
    on_roll = MemberView(member_id="m1", name="王芳", roles=[], bodies=[], chairs=[])
    data = (HEADER + "m1,王芳,,党员大会,\n").encode()
    (change,) = rc.plan_members(council(on_roll), rc.read_rows(data, "members")).send
    assert isinstance(change.command, c.ChangeMember)
    renamed = (HEADER + "m1,王小芳,,,\n").encode()
    (problem,) = rc.plan_members(council(on_roll), rc.read_rows(renamed, "members")).problems
    assert problem.code == "csv.other_name" and problem.context == {"name": "王芳"}


def test_excel_s_chinese_encoding_is_read() -> None:
    """A file saved as GB18030 (Excel's Chinese default) reads like UTF-8."""
    data = (HEADER + "m1,王芳,,,\n").encode("gb18030")
    (row,) = rc.read_rows(data, "members")
    assert row.cells["name"] == "王芳"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"id,name\nm1,x\n", "columns"),
        (HEADER.encode() + b"m1,x,,,\n" * (rc.MAX_ROWS + 1), "rows"),
        (b"x" * (rc.MAX_BYTES + 1), "KiB"),
    ],
)
def test_a_file_that_is_not_a_roll_is_refused_whole(data: bytes, why: str) -> None:
    """Empty, wrong columns, too many rows or too large: csv.invalid, nothing read."""
    with pytest.raises(rc.CsvFileError, match=why):
        rc.read_rows(data, "members")
