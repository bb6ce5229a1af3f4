"""The roll as CSV files: reading a clerk's members or households file into commands, and
writing the roll out so that Excel opens it (and reading that back gives the same roll).

Nothing here talks HTTP or decides who may act: a file becomes one command per row (or a
problem with that row), and the entry point hands each command to the door, which decides.

- Members: ``member_id,name,roles,bodies,chairs``; households (the property register):
  ``unit,exclusive_area,owner_id,co_owners,bodies``, where ``owner_id`` votes for the unit
  (the representative its joint owners designated) and ``co_owners`` are the other joint
  owners (共有人), recorded, never on a roll for it. Lists are separated by ``;`` (or the full-width
  ``；`` a Chinese keyboard types). Bodies and roles may be written by code
  (``party_members_assembly``, ``officer``) or by their Chinese names (党员大会, 经办人).
- Files are UTF-8 (with or without a BOM); a file Excel saved in the Chinese default encoding
  (GB18030) is read too. At most :data:`MAX_BYTES` and :data:`MAX_ROWS` rows.
- Written files are UTF-8 with a BOM (Excel then shows Chinese correctly), and a cell that a
  spreadsheet would run as a formula (starting ``= + - @``, a tab or a carriage return) is
  written with a leading ``'``, which reading takes off again (CSV formula injection).
- Importing is idempotent: a row that matches the roll already is *unchanged* (nothing sent);
  a member whose roles, bodies or chairs differ is *changed*, and so is a unit whose
  representative or joint owners differ; anything else is a problem.
- The same files as Excel workbooks (``.xlsx``): :mod:`govflow.application.roll_xlsx` reads
  them into the same :class:`Row` objects and writes the same columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError

from govflow.application import commands as c
from govflow.application.views import CouncilView, MemberView
from govflow.domain.area import format_area
from govflow.domain.council import Body
from govflow.domain.errors import GovflowError, InvalidInputError

if TYPE_CHECKING:
    from govflow.application.core import GovernanceCore

MAX_BYTES = 512 * 1024
MAX_ROWS = 2000
MEMBER_COLUMNS = ("member_id", "name", "roles", "bodies", "chairs")
HOUSEHOLD_COLUMNS = ("unit", "exclusive_area", "owner_id", "co_owners", "bodies")
REQUIRED = {
    "members": ("member_id", "name"),
    "households": ("unit", "exclusive_area", "owner_id"),
}
Kind = Literal["members", "households"]
SEPARATORS = (";", "；")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# The bodies and roles by their Chinese names (a clerk's file may use either).
BODY_NAMES: dict[Body, tuple[str, str]] = {
    Body.BRANCH_COMMITTEE: ("党支部委员会", "party branch committee"),
    Body.TWO_COMMITTEES: ("两委联席会议", "joint meeting of the two committees"),
    Body.PARTY_MEMBERS_ASSEMBLY: ("党员大会", "party members' assembly"),
    Body.RESIDENTS_COMMITTEE: ("居民委员会", "residents' committee"),
    Body.RESIDENTS_ASSEMBLY: ("居民会议", "residents' assembly"),
    Body.RESIDENTS_REPRESENTATIVES: ("居民代表会议", "residents' representatives"),
    Body.VILLAGERS_ASSEMBLY: ("村民会议", "villagers' assembly"),
    Body.VILLAGERS_REPRESENTATIVES: ("村民代表会议", "villagers' representatives"),
    Body.OWNERS_ASSEMBLY: ("业主大会", "owners' assembly"),
    Body.OWNERS_COMMITTEE: ("业主委员会", "owners' committee"),
    Body.SUPERVISORY_COMMITTEE: ("监委会", "supervisory committee"),
    Body.AFFECTED_HOUSEHOLDS: ("相关住户", "affected households"),
}
ROLE_NAMES: dict[str, tuple[str, str]] = {
    "clerk": ("书记员", "clerk"),
    "officer": ("经办人", "officer"),
    "auditor": ("监督员", "auditor"),
}


class CsvFileError(InvalidInputError):
    """A file that cannot be read as the roll at all (nothing of it is imported)."""

    code = "csv.invalid"


@dataclass(frozen=True)
class Row:
    """One record of a file: the line it starts on (the header is line 1; in a workbook, the
    sheet's row number) and its cells. ``problem``: a cell the reader could not take as text
    (a date or formula in a workbook), reported instead of the row's command."""

    line: int
    cells: dict[str, str]
    problem: RowProblem | None = None


@dataclass(frozen=True)
class RowProblem:
    """Why one row was not imported: ``code`` is a stable key (``csv.*``, ``input.<pydantic
    error type>`` or the door's error code), ``detail`` says more in English."""

    line: int
    column: str | None
    value: str
    code: str
    detail: str = ""
    context: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RowCommand:
    line: int
    key: str  # the member id or the unit
    command: c.Command


@dataclass
class Plan:
    """What importing a file will do: the commands to send, rows already on the roll, and
    the rows refused before anything is sent."""

    send: list[RowCommand] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True)
class HouseholdView:
    unit: str
    exclusive_area: Decimal
    owner_id: str  # votes for the unit
    bodies: tuple[str, ...]
    co_owners: tuple[str, ...] = ()  # the other joint owners


def list_households(app: GovernanceCore, code: str) -> list[HouseholdView]:
    """The council's households, by unit."""
    council = app.council_to_read(code)
    return [
        HouseholdView(
            unit,
            h.exclusive_area,
            h.owner_id,
            tuple(sorted(b.value for b in h.bodies)),
            h.co_owners,
        )
        for unit, h in sorted(council.households.items())
    ]


# -- reading ---------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """A file's text: UTF-8 (a BOM is dropped), else GB18030 (Excel's Chinese default)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise CsvFileError("the file is neither UTF-8 nor GB18030 text") from None


def unguard(cell: str) -> str:
    """A cell as written before :func:`guard` (the quote before a formula-like cell off)."""
    if cell.startswith("'") and cell[1:2] in FORMULA_START:
        return cell[1:]
    return cell


def read_rows(data: bytes, kind: Kind) -> list[Row]:
    """The rows of a members or households file (blank lines skipped).

    Raises:
        CsvFileError: too large, too many rows, not text, or a header without the columns.
    """
    if len(data) > MAX_BYTES:
        raise CsvFileError(f"the file is larger than {MAX_BYTES // 1024} KiB", limit=MAX_BYTES)
    if not data.strip():
        raise CsvFileError("the file is empty")
    reader = csv.reader(io.StringIO(decode(data), newline=""))
    try:
        header = read_header(next(reader), kind)
        rows: list[Row] = []
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            rows.append(make_row(start, header, cells, rows))
    except csv.Error as error:
        raise CsvFileError(f"not a CSV file: {error}") from None
    return rows


def read_header(cells: Sequence[str], kind: Kind) -> list[str]:
    """A file's first row as column names (any case, in any order, optional ones left out).

    Raises:
        CsvFileError: an unknown, missing or repeated column.
    """
    columns = MEMBER_COLUMNS if kind == "members" else HOUSEHOLD_COLUMNS
    header = [unguard(h.strip()).lower() for h in cells]
    unknown = [h for h in header if h and h not in columns]
    missing = [h for h in REQUIRED[kind] if h not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise CsvFileError(
            f"the first line must name the columns {','.join(columns)}",
            unknown=unknown,
            missing=missing,
        )
    return header


def make_row(
    line: int,
    header: Sequence[str],
    cells: Sequence[str],
    rows: Sequence[Row],
    problem: RowProblem | None = None,
) -> Row:
    """One non-blank record as a :class:`Row` (``rows``: those read before it, for the limit).

    Raises:
        CsvFileError: the file has more than :data:`MAX_ROWS` rows.
    """
    if len(rows) >= MAX_ROWS:
        raise CsvFileError(f"a file has at most {MAX_ROWS} rows", limit=MAX_ROWS)
    values = {h: unguard(v.strip()) for h, v in zip(header, cells, strict=False) if h}
    if len(cells) != len(header):
        values["__cells__"] = str(len(cells))
    return Row(line, values, problem)


def split_list(cell: str) -> list[str]:
    for separator in SEPARATORS[1:]:
        cell = cell.replace(separator, SEPARATORS[0])
    return [part.strip() for part in cell.split(SEPARATORS[0]) if part.strip()]


_BODY_BY_NAME = {
    **{b.value: b for b in Body},
    **{zh: b for b, (zh, _) in BODY_NAMES.items()},
}
_ROLE_BY_NAME = {**{r: r for r in ROLE_NAMES}, **{zh: r for r, (zh, _) in ROLE_NAMES.items()}}


def _bodies(row: Row, column: str) -> tuple[Body, ...] | RowProblem:
    found: list[Body] = []
    for name in split_list(row.cells.get(column, "")):
        body = _BODY_BY_NAME.get(name) or _BODY_BY_NAME.get(name.lower())
        if body is None:
            return RowProblem(row.line, column, name, "csv.unknown_body", f"no body {name!r}")
        found.append(body)
    return tuple(dict.fromkeys(found))


def _roles(row: Row) -> tuple[str, ...] | RowProblem:
    found: list[str] = []
    for name in split_list(row.cells.get("roles", "")):
        role = _ROLE_BY_NAME.get(name) or _ROLE_BY_NAME.get(name.lower())
        if role is None:
            return RowProblem(row.line, "roles", name, "csv.unknown_role", f"no role {name!r}")
        found.append(role)
    return tuple(dict.fromkeys(found))


def problem_of(line: int, cells: dict[str, str], error: ValidationError) -> RowProblem:
    """A command's first validation error as a row's problem (column, value and why)."""
    first = error.errors()[0]
    column = str(first["loc"][0]) if first["loc"] else None
    value = cells.get(column, "") if column else ""
    return RowProblem(
        line, column, value, f"input.{first['type']}", first["msg"], dict(first.get("ctx") or {})
    )


def _checked(
    row: Row, key: str, build: type[c.Command], **fields: object
) -> RowCommand | RowProblem:
    if "__cells__" in row.cells:
        return RowProblem(
            row.line,
            None,
            row.cells.get(key, ""),
            "csv.cells",
            "the row has another number of cells than the header",
        )
    try:
        return RowCommand(row.line, row.cells.get(key, ""), build(**fields))
    except ValidationError as error:
        return problem_of(row.line, row.cells, error)
    except GovflowError as error:  # a strict parser (areas) refuses with its own code
        column = "exclusive_area" if error.code == "area.invalid" else None
        value = row.cells.get(column, "") if column else ""
        return RowProblem(row.line, column, value, error.code, error.message)


def member_command(council: str, row: Row) -> RowCommand | RowProblem:
    """The enrolment a members row asks for, or why it cannot be one."""
    roles = _roles(row)
    if isinstance(roles, RowProblem):
        return roles
    bodies = _bodies(row, "bodies")
    if isinstance(bodies, RowProblem):
        return bodies
    chairs = _bodies(row, "chairs")
    if isinstance(chairs, RowProblem):
        return chairs
    cells = row.cells
    return _checked(
        row,
        "member_id",
        c.EnrollMember,
        council=council,
        member_id=cells.get("member_id", ""),
        name=cells.get("name", ""),
        roles=roles,
        bodies=bodies,
        chairs=chairs,
    )


def household_command(council: str, row: Row) -> RowCommand | RowProblem:
    """The registration a households row asks for (on the owners' assembly if it names no
    body), or why it cannot be one."""
    bodies = _bodies(row, "bodies")
    if isinstance(bodies, RowProblem):
        return bodies
    cells = row.cells
    co_owners = tuple(split_list(cells.get("co_owners", "")))
    return _checked(
        row,
        "unit",
        c.RegisterHousehold,
        council=council,
        unit=cells.get("unit", ""),
        exclusive_area=cells.get("exclusive_area", ""),
        owner_id=cells.get("owner_id", ""),
        bodies=bodies or (Body.OWNERS_ASSEMBLY,),
        co_owners=co_owners,
    )


def _owners_problem(
    line: int, cmd: c.RegisterHousehold, members: Collection[str] | None
) -> RowProblem | None:
    """Why a unit's owners cannot be recorded: a joint owner named twice, the representative
    also among the others, or (``members`` given) someone not enrolled."""
    co_owners = cmd.co_owners
    if len(set(co_owners)) != len(co_owners) or cmd.owner_id in co_owners:
        twice = next(o for o in co_owners if o == cmd.owner_id or co_owners.count(o) > 1)
        return RowProblem(
            line, "co_owners", twice, "household.joint_owners", "a joint owner named twice"
        )
    if members is not None:
        for column, member_id in (
            ("owner_id", cmd.owner_id),
            *(("co_owners", o) for o in co_owners),
        ):
            if member_id not in members:
                return RowProblem(line, column, member_id, "council.unknown_member", "not enrolled")
    return None


def _same_file_twice(done: dict[str, int], found: RowCommand) -> RowProblem | None:
    first = done.setdefault(found.key, found.line)
    if first == found.line:
        return None
    return RowProblem(
        found.line,
        None,
        found.key,
        "csv.duplicate",
        f"line {first} has it already",
        {"line": first},
    )


def plan_members(council: CouncilView, rows: Sequence[Row]) -> Plan:
    """What a members file does to ``council``'s roll: enroll the new, change the roles,
    bodies or chairs of members already on it, leave identical ones alone."""
    plan, seen = Plan(), dict[str, int]()
    members = {m.member_id: m for m in council.members}
    for row in rows:
        found = row.problem or member_command(council.code, row)
        if isinstance(found, RowCommand):
            found = _same_file_twice(seen, found) or found
        if isinstance(found, RowProblem):
            plan.problems.append(found)
            continue
        cmd = found.command
        assert isinstance(cmd, c.EnrollMember)
        current = members.get(cmd.member_id)
        if current is None:
            plan.send.append(found)
        elif current.name != cmd.name:
            plan.problems.append(
                RowProblem(
                    row.line,
                    "name",
                    cmd.name,
                    "csv.other_name",
                    f"{cmd.member_id} is on the roll as {current.name}",
                    {"name": current.name},
                )
            )
        elif _member_as(cmd) == _member_is(current):
            plan.unchanged.append(row.line)
        else:
            change = c.ChangeMember(
                council=cmd.council,
                member_id=cmd.member_id,
                roles=cmd.roles,
                bodies=cmd.bodies,
                chairs=cmd.chairs,
            )
            plan.send.append(RowCommand(row.line, cmd.member_id, change))
    return plan


def _member_as(cmd: c.EnrollMember) -> tuple[frozenset[str], ...]:
    bodies = frozenset(b.value for b in (*cmd.bodies, *cmd.chairs))
    return frozenset(cmd.roles), bodies, frozenset(b.value for b in cmd.chairs)


def _member_is(member: MemberView) -> tuple[frozenset[str], ...]:
    return frozenset(member.roles), frozenset(member.bodies), frozenset(member.chairs)


def plan_households(
    council: str,
    households: Iterable[HouseholdView],
    rows: Sequence[Row],
    members: Collection[str] | None = None,
) -> Plan:
    """What a households file does: register new units, give a registered unit another
    representative or other joint owners (ChangeHousehold), leave identical ones alone; a unit
    registered with another area or bodies is a problem (no command changes those).
    ``members``: the enrolled member ids, to refuse a row naming anyone else."""
    plan, seen = Plan(), dict[str, int]()
    registered = {h.unit: h for h in households}
    for row in rows:
        found = row.problem or household_command(council, row)
        if isinstance(found, RowCommand):
            found = _same_file_twice(seen, found) or found
        if isinstance(found, RowProblem):
            plan.problems.append(found)
            continue
        cmd = found.command
        assert isinstance(cmd, c.RegisterHousehold)
        current = registered.get(cmd.unit)
        unchanged = current is not None and (current.owner_id, current.co_owners) == (
            cmd.owner_id,
            cmd.co_owners,
        )
        owners = _owners_problem(row.line, cmd, None if unchanged else members)
        if owners is not None:
            plan.problems.append(owners)
        elif current is None:
            plan.send.append(found)
        elif (current.exclusive_area, frozenset(current.bodies)) != (
            cmd.exclusive_area,
            frozenset(b.value for b in cmd.bodies),
        ):
            plan.problems.append(
                RowProblem(
                    row.line, "unit", cmd.unit, "csv.unit_registered", "registered otherwise"
                )
            )
        elif unchanged:
            plan.unchanged.append(row.line)
        else:
            change = c.ChangeHousehold(
                council=cmd.council, unit=cmd.unit, owner_id=cmd.owner_id, co_owners=cmd.co_owners
            )
            plan.send.append(RowCommand(row.line, cmd.unit, change))
    return plan


# -- writing ---------------------------------------------------------------------------------


def guard(cell: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _write(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([guard(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def members_csv(members: Iterable[MemberView]) -> bytes:
    """The members file (UTF-8 with a BOM, formula-like cells quoted)."""
    return _write(
        MEMBER_COLUMNS,
        (
            (m.member_id, m.name, ";".join(m.roles), ";".join(m.bodies), ";".join(m.chairs))
            for m in members
        ),
    )


def household_cells(h: HouseholdView) -> tuple[str, ...]:
    """A household's cells under :data:`HOUSEHOLD_COLUMNS` (not yet guarded)."""
    co_owners = ";".join(h.co_owners)
    return (h.unit, format_area(h.exclusive_area), h.owner_id, co_owners, ";".join(h.bodies))


def households_csv(households: Iterable[HouseholdView]) -> bytes:
    """The households file (UTF-8 with a BOM, formula-like cells quoted)."""
    return _write(
        HOUSEHOLD_COLUMNS,
        (household_cells(h) for h in households),
    )
