"""The roll from the property register: joint owners (共有人) vote once per unit through their
representative; households read from and written to CSV and XLSX files, every refused row
named; an old HouseholdRegistered (version 1) still loads."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application import roll_csv as rc
from govflow.application import roll_xlsx as rx
from govflow.application.mapper import decode_event
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.council import Body, HouseholdRegistered, JointOwnersError
from govflow.domain.errors import NotFoundError, UnknownMemberError
from govflow.domain.issue import StageOutcome
from govflow.domain.voting import Base, Comparison, Threshold, VotingRule
from tests.application.scenario import COUNCIL, set_up_council

ROOT = Path(__file__).parents[2]
WORKFLOWS = ROOT / "workflows"
HEADER = ["unit", "exclusive_area", "owner_id", "co_owners", "bodies"]
OWNERS_RULE = VotingRule(
    quorum=Threshold(
        fraction="1/2",
        comparison=Comparison.MORE_THAN,  # type: ignore[arg-type]
        base=Base.MEMBERS_OF_RECORD,
    ),
    passes=Threshold(
        fraction="1/2",
        comparison=Comparison.MORE_THAN,  # type: ignore[arg-type]
        base=Base.PARTICIPATING,
    ),
    area_weighted=True,
)


def owners_vote(app: Governance, number: int) -> dict[str, Decimal]:
    """Open an owners' vote on item ``number``; its frozen roll."""
    procedure = ProcedureLibrary(WORKFLOWS).get("residents-assembly")
    app.propose_issue(COUNCIL, number, "外墙翻新", procedure, actor="p1")
    for stage in ("propose", "public_deliberation"):
        app.open_stage(COUNCIL, number, stage, deadline=None, actor="p1")
        app.close_stage(COUNCIL, number, stage, StageOutcome.COMPLETED, actor="p1")
    app.open_stage(COUNCIL, number, "resolve", deadline=None, actor="system")
    app.open_voting(
        COUNCIL,
        number,
        "resolve",
        body=Body.OWNERS_ASSEMBLY,
        rule=OWNERS_RULE,
        closes_at=app.now() + timedelta(days=7),
        actor="system",
    )
    voting = app.issue(COUNCIL, number).voting
    assert voting is not None
    return dict(voting.roll)


def joint_owners(app: Governance) -> None:
    """The scenario's council, plus unit 2-201 (100 m²) owned jointly by j1 (who votes for
    it), j2 and o2 (who votes for 1-102, their own unit)."""
    set_up_council(app)
    for member in ("j1", "j2"):
        app.enroll_member(COUNCIL, member, f"共有人{member}", actor="clerk")
    app.register_household(
        COUNCIL, "2-201", Decimal("100.00"), "j1", actor="clerk", co_owners=("j2", "o2")
    )


def test_joint_owners_vote_once_per_unit(sql_app: Governance) -> None:
    """Only the representative is on the frozen roll for a jointly owned unit, with its area;
    a co-owner who owns another unit votes for that one only. A new representative counts in
    votes opened later; the open one keeps its roll."""
    app = sql_app
    joint_owners(app)
    roll = owners_vote(app, 1)
    assert roll == {
        "o1": Decimal("165.00"),
        "o2": Decimal("82.00"),
        "o3": Decimal("83.00"),
        "j1": Decimal("100.00"),
    }
    app.change_household(COUNCIL, "2-201", "j2", actor="clerk", co_owners=("j1", "o2"))
    assert app.council(COUNCIL).households["2-201"].co_owners == ("j1", "o2")
    voting = app.issue(COUNCIL, 1).voting
    assert voting is not None and "j1" in voting.roll and "j2" not in voting.roll
    later = owners_vote(app, 2)
    assert later["j2"] == Decimal("100.00") and "j1" not in later
    assert later["o2"] == Decimal("82.00")


def test_joint_owners_are_enrolled_each_named_once(sql_app: Governance) -> None:
    """A co-owner not enrolled, named twice, or the representative among the co-owners is
    refused; so is changing a unit not registered. Nothing is recorded."""
    app = sql_app
    joint_owners(app)
    before = app.council(COUNCIL).version
    with pytest.raises(UnknownMemberError):
        app.register_household(COUNCIL, "2-202", Decimal("90"), "j1", actor="clerk",
                               co_owners=("nobody",))  # fmt: skip
    with pytest.raises(JointOwnersError):
        app.register_household(COUNCIL, "2-202", Decimal("90"), "j1", actor="clerk",
                               co_owners=("j2", "j2"))  # fmt: skip
    with pytest.raises(JointOwnersError):
        app.change_household(COUNCIL, "2-201", "j1", actor="clerk", co_owners=("j1",))
    with pytest.raises(UnknownMemberError):
        app.change_household(COUNCIL, "2-201", "nobody", actor="clerk")
    with pytest.raises(NotFoundError):
        app.change_household(COUNCIL, "9-999", "j1", actor="clerk")
    app.change_household(COUNCIL, "2-201", "j1", actor="clerk", co_owners=("j2", "o2"))  # same
    assert app.council(COUNCIL).version == before


def test_an_old_household_registered_payload_loads_without_joint_owners() -> None:
    """The version 1 golden payload decodes (upcast) as a household with no co-owners."""
    golden = json.loads(
        (ROOT / "aggregates/golden/govflow.council.household_registered.v1.json").read_text()
    )
    event = decode_event(
        golden["topic"],
        golden["originator_id"],
        golden["originator_version"],
        json.dumps(golden["payload"]).encode(),
    )
    assert isinstance(event, HouseholdRegistered)
    assert event.owner_id == "m2" and event.co_owners == ()


# -- files -----------------------------------------------------------------------------------


def workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (HEADER, *rows):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


REGISTERED = [
    rc.HouseholdView("3-01", Decimal("90.00"), "o1", ("owners_assembly",), ("o2", "o3")),
]


def test_an_xlsx_register_reports_every_refused_row_and_plans_the_good_ones() -> None:
    """Row numbers are the sheet's; a unit Excel turned into a date and an area with three
    decimals are refused with their column and code; numbers read exactly (89.5); the good
    rows become registrations (co-owners split on ;) and a blank row is skipped."""
    data = workbook(
        ["1-01", 89.5, "o1", "o2；o3", "业主大会"],
        [datetime(2026, 3, 1), 90, "o1", None, None],
        [],
        ["1-03", 89.505, "o2", None, None],
        ["1-04", 120, 1001, None, None],
        ["1-05", "80", "o1", "o1", None],
    )
    rows = rx.read_file(data, "households", "register.xlsx")
    plan = rc.plan_households("x", [], rows, members={"o1", "o2", "o3", "1001"})
    found = [(p.line, p.column, p.value, p.code) for p in plan.problems]
    assert found == [
        (3, "unit", "2026-03-01T00:00:00", "xlsx.date"),
        (5, "exclusive_area", "89.505", "area.invalid"),
        (7, "co_owners", "o1", "household.joint_owners"),
    ]
    first, fourth = (r.command for r in plan.send)
    assert first == c.RegisterHousehold(
        council="x",
        unit="1-01",
        exclusive_area=Decimal("89.50"),
        owner_id="o1",
        co_owners=("o2", "o3"),
        bodies=(Body.OWNERS_ASSEMBLY,),
    )
    assert isinstance(fourth, c.RegisterHousehold) and fourth.owner_id == "1001"
    assert [r.line for r in plan.send] == [2, 6]


def test_a_row_naming_someone_not_enrolled_is_refused() -> None:
    """With the enrolled members given, an owner or co-owner not among them is refused."""
    rows = rc.read_rows(b"unit,exclusive_area,owner_id,co_owners\n1-01,80,o1,zz\n", "households")
    (problem,) = rc.plan_households("x", [], rows, members={"o1"}).problems
    assert (problem.column, problem.value, problem.code) == (
        "co_owners",
        "zz",
        "council.unknown_member",
    )


def test_another_representative_is_a_change_and_the_same_row_is_unchanged() -> None:
    """A registered unit with other joint owners is ChangeHousehold; the same row again is
    unchanged; another area is still a problem (no command changes it)."""
    csv_file = (
        "unit,exclusive_area,owner_id,co_owners,bodies\n"
        "3-01,90,o2,o1;o3,owners_assembly\n"
        "3-01,90,o1,o2;o3,owners_assembly\n"
    )
    rows = rc.read_rows(csv_file.encode(), "households")
    changed = rc.plan_households("x", REGISTERED, rows[:1], members={"o1", "o2", "o3"})
    assert changed.send[0].command == c.ChangeHousehold(
        council="x", unit="3-01", owner_id="o2", co_owners=("o1", "o3")
    )
    same = rc.plan_households("x", REGISTERED, rows[1:], members=set())
    assert same.unchanged == [3] and not same.send and not same.problems
    bigger = rc.read_rows(b"unit,exclusive_area,owner_id\n3-01,91,o1\n", "households")
    (problem,) = rc.plan_households("x", REGISTERED, bigger).problems
    assert problem.code == "csv.unit_registered"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_households_written_then_read_give_the_same_roll(fmt: str) -> None:
    """Both formats round-trip (joint owners too): into the same roll, every row unchanged;
    into an empty roll, the same registrations. Formula-like cells are guarded in both."""
    households = [
        *REGISTERED,
        rc.HouseholdView("=3-02", Decimal("0.50"), "o2", ("affected_households",)),
        rc.HouseholdView("3-03", Decimal("120.25"), "o3", ("owners_assembly",), ("o1",)),
    ]
    data = rc.households_csv(households) if fmt == "csv" else rx.households_xlsx(households)
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        assert sheet["A3"].value == "'=3-02" and sheet["A3"].data_type == "s"
        assert sheet["D2"].value == "o2;o3" and sheet["B4"].value == 120.25
    rows = rx.read_file(data, "households", f"households.{fmt}")
    again = rc.plan_households("x", households, rows)
    assert not again.problems and not again.send and again.unchanged == [2, 3, 4]
    fresh = rc.plan_households("x", [], rows)
    registered = [r.command for r in fresh.send]
    assert [(h.unit, h.exclusive_area, h.owner_id, h.co_owners) for h in households] == [
        (r.unit, r.exclusive_area, r.owner_id, r.co_owners)
        for r in registered
        if isinstance(r, c.RegisterHousehold)
    ]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"unit,exclusive_area,owner_id\n1-01,80,o1\n", "not an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "not an Excel workbook"),
        (b"PK\x03\x04 a zip of nothing", "not an Excel workbook"),
        (b"PK\x03\x04" + b"x" * rc.MAX_BYTES, "KiB"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_refused_whole(data: bytes, why: str) -> None:
    """A CSV named .xlsx, an old .xls, a broken zip or an oversized file: csv.invalid."""
    with pytest.raises(rc.CsvFileError, match=why):
        rx.read_file(data, "households", "register.xlsx")


def test_a_workbook_with_too_many_rows_or_another_header_is_refused() -> None:
    """More than MAX_ROWS rows, or a first row without the columns: refused whole."""
    many = workbook(*([f"u{i}", 80, "o1", None, None] for i in range(rc.MAX_ROWS + 1)))
    with pytest.raises(rc.CsvFileError, match="rows"):
        rx.read_file(many, "households", "many.xlsx")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["房号", "面积"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(rc.CsvFileError, match="columns"):
        rx.read_file(out.getvalue(), "households", "other.xlsx")
