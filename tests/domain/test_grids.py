"""Grids (网格) on the council's record, and routing an item to a grid's service station."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from govflow.domain.council import Council, MemberLeft
from govflow.domain.errors import AlreadyExistsError, InvalidInputError, UnknownMemberError
from govflow.domain.grid import (
    AlreadyRoutedError,
    GridRetiredError,
    NotRoutedError,
    UnknownGridError,
)
from govflow.domain.issue import Issue, IssueRerouted, IssueRouted, StageRef

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def council() -> Council:
    record = Council.register("xinhua", "新华社区", at=AT, actor="clerk")
    for member in ("m1", "m2", "m3"):
        record.enroll_member(member, member, at=AT, actor="clerk")
    return record


def issue() -> Issue:
    return Issue.propose(
        "xinhua", 1, "更换污水管", procedure_name="p", procedure_version=1, procedure_hash="h",
        stages=(StageRef(id="propose", kind="propose"),), at=AT, actor="m1",
    )  # fmt: skip


def test_a_grid_is_on_record_with_its_station_and_staff() -> None:
    """A grid keeps its code, name, station and staff; a change replaces them; retired it is
    still read but no longer in use."""
    record = council()
    record.add_grid("g7", "七号院网格", "七号院党群服务站", ("m1",), at=AT, actor="clerk")
    record.change_grid("g7", "七号院网格", "七号院服务站", ("m1", "m2"), at=AT, actor="clerk")
    grid = record.grid("g7")
    assert (grid.name, grid.station, grid.staff) == ("七号院网格", "七号院服务站", ("m1", "m2"))
    assert [g.code for g in record.grids_of("m2")] == ["g7"]
    record.retire_grid("g7", at=AT, actor="clerk")
    with pytest.raises(GridRetiredError):
        record.grid("g7")
    assert record.grid("g7", retired=True).retired
    assert record.grids_of("m2") == []


def test_a_grid_s_staff_are_members_named_once() -> None:
    """Staff who are not enrolled, named twice, or a second grid under a code are refused."""
    record = council()
    with pytest.raises(UnknownMemberError):
        record.add_grid("g7", "七号院网格", "站", ("x9",), at=AT, actor="clerk")
    with pytest.raises(InvalidInputError):
        record.add_grid("g7", "七号院网格", "站", ("m1", "m1"), at=AT, actor="clerk")
    with pytest.raises(InvalidInputError):
        record.add_grid("g7", " ", "站", (), at=AT, actor="clerk")
    record.add_grid("g7", "七号院网格", "站", (), at=AT, actor="clerk")
    with pytest.raises(AlreadyExistsError):
        record.add_grid("g7", "另一个", "站", (), at=AT, actor="clerk")
    with pytest.raises(UnknownGridError):
        record.grid("g8")


def test_a_member_who_leaves_serves_no_station() -> None:
    """Leaving the council takes a member off every station's staff."""
    record = council()
    record.add_grid("g7", "七号院网格", "站", ("m1", "m2"), at=AT, actor="clerk")
    record.remove_member("m1", at=AT, actor="clerk")
    assert any(isinstance(e, MemberLeft) for e in record.collect_events())
    assert record.grid("g7").staff == ("m2",)


def test_an_item_is_routed_then_re_routed_with_a_reason() -> None:
    """Routing records the grid and station; re-routing names from, to and why; repeating
    either records nothing; routing a routed item elsewhere must be a re-routing."""
    item = issue()
    item.collect_events()
    assert item.route("g7", "七号院站", at=AT, actor="clerk")
    assert not item.route("g7", "七号院站", at=AT, actor="clerk")
    with pytest.raises(AlreadyRoutedError):
        item.route("g8", "八号院站", at=AT, actor="clerk")
    with pytest.raises(InvalidInputError):
        item.reroute("g8", "八号院站", "  ", at=AT, actor="clerk")
    assert item.reroute("g8", "八号院站", "管线属八号院", at=AT, actor="m1")
    assert not item.reroute("g8", "八号院站", "again", at=AT, actor="m1")
    routed, rerouted = item.collect_events()
    assert isinstance(routed, IssueRouted) and (routed.grid, routed.station) == ("g7", "七号院站")
    assert isinstance(rerouted, IssueRerouted)
    assert (rerouted.from_grid, rerouted.to_grid, rerouted.reason) == ("g7", "g8", "管线属八号院")
    assert item.grid == item.routed_to == "g8"


def test_re_routing_needs_a_routed_item() -> None:
    """An item never routed is routed first, not re-routed."""
    with pytest.raises(NotRoutedError):
        issue().reroute("g8", "八号院站", "why", at=AT, actor="clerk")
