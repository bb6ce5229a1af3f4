"""Grid routing (网格) through the command door on every store: grids on record, an item routed
and re-routed (events, the station's staff told, lists and tasks by grid), refusals that
record nothing, and items recorded with a free-text grid before grids were on record."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.procedures import ProcedureLibrary
from govflow.application.tasks import GRID_ITEM, get_tasks
from govflow.domain.errors import ForbiddenError, GovflowError
from govflow.domain.issue import Issue, IssueRerouted, IssueRouted, StageRef
from govflow.orchestration.door import CommandDoor
from tests.conftest import Store
from tests.orchestration.conftest import CHAIR, COUNCIL, enroll_council

LIBRARY = ProcedureLibrary(Path(__file__).parents[2] / "workflows")
PROCEDURE = LIBRARY.get("five-step-consultation")
CLERK = "k1"


@pytest.fixture
def grids(app: Governance) -> Iterator[tuple[Governance, CommandDoor]]:
    """The test council with its clerk, grid g7 (staff m1) and g8 (staff m2, m3)."""
    enroll_council(app)
    app.enroll_member(COUNCIL, CLERK, "书记员", actor="clerk", roles=("clerk",))
    door = CommandDoor(app, None, LIBRARY)
    g7 = c.AddGrid(council=COUNCIL, grid="g7", name="七号院网格", station="七号院党群服务站",
                   staff=("m1",))  # fmt: skip
    g8 = c.AddGrid(council=COUNCIL, grid="g8", name="八号院网格", station="八号院党群服务站",
                   staff=("m2", "m3"))  # fmt: skip
    handle(app, door, CLERK, g7)
    handle(app, door, CLERK, g8)
    yield app, door


def handle(app: Governance, door: CommandDoor, member: str, command: c.Command) -> Any:
    return asyncio.run(door.handle(command, app.principal(COUNCIL, member)))


def refused(app: Governance, door: CommandDoor, member: str, command: c.Command) -> str:
    """The code the door refuses ``command`` with; the log has not moved."""
    before = app.recorder.max_notification_id()
    with pytest.raises(GovflowError) as refusal:
        handle(app, door, member, command)
    assert app.recorder.max_notification_id() == before
    return refusal.value.code


def propose(app: Governance, number: int, grid: str | None = None) -> None:
    app.propose_issue(COUNCIL, number, "更换污水管", PROCEDURE, actor=CHAIR, grid=grid)


def told(app: Governance, number: int) -> list[str]:
    return sorted(
        d.recipient for d in app.list_deliveries(COUNCIL, number=number) if d.kind == "grid_routed"
    )


def test_grids_are_on_the_council_s_record(
    grids: tuple[Governance, CommandDoor], store: Store
) -> None:
    """The clerk adds, changes and retires grids; everyone else is refused and nothing is
    recorded."""
    app, door = grids
    change = c.ChangeGrid(council=COUNCIL, grid="g8", name="八号院网格", station="八号院服务站",
                          staff=("m3",))  # fmt: skip
    changed = handle(app, door, CLERK, change)
    assert (changed.station, changed.staff) == ("八号院服务站", ["m3"])
    assert handle(app, door, CLERK, c.RetireGrid(council=COUNCIL, grid="g8")).retired
    assert [(g.code, g.retired) for g in app.list_grids(COUNCIL)] == [("g7", False), ("g8", True)]
    add = c.AddGrid(council=COUNCIL, grid="g9", name="九号院网格", station="站")
    assert refused(app, door, CHAIR, add) == ForbiddenError.code
    assert refused(app, door, "m1", c.RetireGrid(council=COUNCIL, grid="g7")) == "auth.forbidden"
    assert refused(app, door, CLERK, c.RetireGrid(council=COUNCIL, grid="g0")) == "grid.unknown"
    staff = c.AddGrid(council=COUNCIL, grid="g9", name="九号院网格", station="站", staff=("x",))
    assert refused(app, door, CLERK, staff) == "council.unknown_member"


def test_an_item_is_routed_and_re_routed_by_grid(
    grids: tuple[Governance, CommandDoor], store: Store
) -> None:
    """The clerk routes the item to g7's station (its staff told, its list and tasks show it);
    g7's staff send it on to g8 saying why: the event names from, to and why, g8's staff are
    told and have it in their tasks, g7's no longer."""
    app, door = grids
    propose(app, 1, grid="g7")
    assert [r.number for r in app.list_issues(COUNCIL, grid="g7")] == [1]
    assert handle(app, door, CLERK, c.RouteIssue(council=COUNCIL, number=1, grid="g7")) == "g7"
    handle(app, door, CLERK, c.RouteIssue(council=COUNCIL, number=1, grid="g7"))  # a retry
    assert told(app, 1) == ["m1"]
    assert [(t.kind, t.number, t.grid) for t in get_tasks(app, app.principal(COUNCIL, "m1")).tasks
            ] == [(GRID_ITEM, 1, "七号院网格")]  # fmt: skip

    reroute = c.RerouteIssue(council=COUNCIL, number=1, grid="g8", reason="管线属八号院")
    assert handle(app, door, "m1", reroute) == "g8"  # m1 staffs the station it is at
    events = [e for e in app.domain_events(app.issue(COUNCIL, 1).id)]
    routed = [e for e in events if isinstance(e, IssueRouted | IssueRerouted)]
    assert [type(e) for e in routed] == [IssueRouted, IssueRerouted]
    first, second = routed
    assert isinstance(first, IssueRouted) and (first.grid, first.actor) == ("g7", CLERK)
    assert isinstance(second, IssueRerouted)
    assert (second.from_grid, second.to_grid, second.reason, second.actor) == (
        "g7", "g8", "管线属八号院", "m1",
    )  # fmt: skip
    assert second.station == "八号院党群服务站"
    assert told(app, 1) == ["m1", "m2", "m3"]
    assert app.list_issues(COUNCIL, grid="g7") == []
    assert [r.number for r in app.list_issues(COUNCIL, grid="g8")] == [1]
    assert [t.kind for t in get_tasks(app, app.principal(COUNCIL, "m1")).tasks] == []
    assert [t.number for t in get_tasks(app, app.principal(COUNCIL, "m3")).tasks] == [1]


def test_refusals_leave_no_event(grids: tuple[Governance, CommandDoor], store: Store) -> None:
    """An unknown or retired grid, and someone the policy does not let route, are refused
    with stable codes and record nothing."""
    app, door = grids
    before = app.recorder.max_notification_id()
    with pytest.raises(GovflowError) as unknown:
        propose(app, 2, grid="七号院网格")  # a free-text grid is no grid on record
    assert unknown.value.code == "grid.unknown"
    assert app.recorder.max_notification_id() == before
    handle(app, door, CLERK, c.AddGrid(council=COUNCIL, grid="g9", name="九", station="站"))
    handle(app, door, CLERK, c.RetireGrid(council=COUNCIL, grid="g9"))
    before = app.recorder.max_notification_id()
    with pytest.raises(GovflowError) as retired:
        propose(app, 2, grid="g9")
    assert retired.value.code == "grid.retired"
    assert app.recorder.max_notification_id() == before

    propose(app, 3)
    route = c.RouteIssue(council=COUNCIL, number=3, grid="g7")
    assert refused(app, door, "m1", route) == "auth.forbidden"  # staff, but not routed there
    assert refused(app, door, "m4", route) == "auth.forbidden"
    assert refused(app, door, CLERK, route.model_copy(update={"grid": "g0"})) == "grid.unknown"
    assert refused(app, door, CLERK, route.model_copy(update={"grid": "g9"})) == "grid.retired"
    reroute = c.RerouteIssue(council=COUNCIL, number=3, grid="g8", reason="不属本网格")
    assert refused(app, door, CLERK, reroute) == "grid.not_routed"
    handle(app, door, CHAIR, route)  # a chair may route
    assert refused(app, door, CLERK, route.model_copy(update={"grid": "g8"})) == (
        "grid.already_routed"
    )
    assert refused(app, door, "m2", reroute) == "auth.forbidden"  # g8's staff, item at g7
    assert refused(app, door, "m4", reroute) == "auth.forbidden"
    app.register_council("elsewhere", "别处", actor="clerk")
    app.enroll_member("elsewhere", "e1", "外人", actor="clerk", roles=("clerk",))
    stranger = app.principal("elsewhere", "e1")
    with pytest.raises(ForbiddenError):
        asyncio.run(door.handle(reroute, stranger))
    assert [r.number for r in app.list_issues(COUNCIL, grid="g7")] == [3]


def test_items_recorded_with_a_free_text_grid_still_load(
    grids: tuple[Governance, CommandDoor], store: Store
) -> None:
    """An item proposed before grids were on record keeps its free-text grid: it loads, lists
    under that text, and can be routed to a grid on record."""
    app, door = grids
    legacy = Issue.propose(
        COUNCIL, 4, "旧议题", procedure_name=PROCEDURE.name, procedure_version=PROCEDURE.version,
        procedure_hash=PROCEDURE.digest, stages=(StageRef(id="propose", kind="propose"),),
        at=app.now(), actor=CHAIR, grid="七号院网格",
    )  # fmt: skip
    app.save(legacy)
    assert app.issue(COUNCIL, 4).grid == "七号院网格"
    assert app.get_issue(COUNCIL, 4).title == "旧议题"
    assert [r.number for r in app.list_issues(COUNCIL, grid="七号院网格")] == [4]
    handle(app, door, CLERK, c.RouteIssue(council=COUNCIL, number=4, grid="g7"))
    assert [r.number for r in app.list_issues(COUNCIL, grid="g7")] == [4]
    assert told(app, 4) == ["m1"]


def test_a_station_s_staff_cannot_re_route_an_item_moved_on_meanwhile(
    grids: tuple[Governance, CommandDoor], store: Store
) -> None:
    """g7's staff are allowed because the item is at g7; the clerk sends it on to g8 before
    their re-routing is recorded: theirs is refused as a concurrent change (nothing recorded),
    never recorded as a re-routing from g8 by someone who does not staff g8."""
    app, door = grids
    handle(app, door, CLERK, c.AddGrid(council=COUNCIL, grid="g9", name="九", station="站"))
    propose(app, 5)
    handle(app, door, CLERK, c.RouteIssue(council=COUNCIL, number=5, grid="g7"))
    read = app.routed_station

    def racing(code: str, number: int) -> tuple[str | None, frozenset[str]]:
        station = read(code, number)
        app.routed_station = read  # type: ignore[method-assign]
        app.reroute_issue(code, number, "g8", "属八号院", actor=CLERK)
        return station

    app.routed_station = racing  # type: ignore[method-assign]
    reroute = c.RerouteIssue(council=COUNCIL, number=5, grid="g9", reason="属九号院")
    with pytest.raises(GovflowError) as refusal:
        handle(app, door, "m1", reroute)
    assert refusal.value.code == "concurrency.conflict"
    moves = [e for e in app.domain_events(app.issue(COUNCIL, 5).id) if isinstance(e, IssueRerouted)]
    assert [(e.from_grid, e.to_grid, e.actor) for e in moves] == [("g7", "g8", CLERK)]


def test_items_left_at_a_retired_grid_stay_in_its_staff_s_tasks(
    grids: tuple[Governance, CommandDoor], store: Store
) -> None:
    """Retiring a grid routes nothing away: its open items stay at its station, so they stay
    in its staff's tasks until re-routed (else they would be in nobody's tasks)."""
    app, door = grids
    propose(app, 6)
    handle(app, door, CLERK, c.RouteIssue(council=COUNCIL, number=6, grid="g7"))
    handle(app, door, CLERK, c.RetireGrid(council=COUNCIL, grid="g7"))
    tasks = get_tasks(app, app.principal(COUNCIL, "m1")).tasks
    assert [(t.kind, t.number, t.grid) for t in tasks] == [(GRID_ITEM, 6, "七号院网格")]
    reroute = c.RerouteIssue(council=COUNCIL, number=6, grid="g8", reason="七号院网格已撤销")
    handle(app, door, "m1", reroute)
    assert get_tasks(app, app.principal(COUNCIL, "m1")).tasks == []
