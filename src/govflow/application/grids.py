"""Use cases: grids (网格) and their service stations on the council's record, routing items to
a grid's station, and what a station's staff have to deal with ("my tasks").

Routing tells the station's staff (one delivery each, of kind ``grid_routed``, through the same
machinery as notices and reminders); listing by grid reads the directory's item rows.
"""

from __future__ import annotations

from govflow.application.directory import IssueRow
from govflow.application.notification_sending import NotificationSending
from govflow.application.views import View
from govflow.domain.delivery import MessageKind
from govflow.domain.errors import ConcurrentChangeError, NotFoundError
from govflow.domain.grid import Grid
from govflow.domain.issue import Issue


class GridView(View):
    code: str
    name: str
    station: str
    staff: list[str]
    retired: bool


def grid_view(grid: Grid) -> GridView:
    return GridView(
        code=grid.code,
        name=grid.name,
        station=grid.station,
        staff=list(grid.staff),
        retired=grid.retired,
    )


class GridCases(NotificationSending):
    def add_grid(
        self, code: str, grid: str, name: str, station: str, staff: tuple[str, ...], *, actor: str
    ) -> GridView:
        council = self.council(code)
        council.add_grid(grid, name, station, staff, at=self.now(), actor=actor)
        self._save(council)
        return grid_view(council.grid(grid))

    def change_grid(
        self, code: str, grid: str, name: str, station: str, staff: tuple[str, ...], *, actor: str
    ) -> GridView:
        council = self.council(code)
        council.change_grid(grid, name, station, staff, at=self.now(), actor=actor)
        self._save(council)
        return grid_view(council.grid(grid))

    def retire_grid(self, code: str, grid: str, *, actor: str) -> GridView:
        council = self.council(code)
        council.retire_grid(grid, at=self.now(), actor=actor)
        self._save(council)
        return grid_view(council.grid(grid, retired=True))

    def list_grids(self, code: str) -> list[GridView]:
        """The council's grids, retired ones too, by code."""
        council = self.council_to_read(code)
        return [grid_view(g) for _, g in sorted(council.grids.items())]

    def get_grid(self, code: str, grid: str) -> GridView:
        return grid_view(self.council_to_read(code).grid(grid, retired=True))

    def routed_grid_staff(self, code: str, number: int) -> frozenset[str]:
        """The staff of the station item ``number`` is routed to now (none if it is not routed,
        or does not exist: the policy then decides without them)."""
        return self.routed_station(code, number)[1]

    def routed_station(self, code: str, number: int) -> tuple[str | None, frozenset[str]]:
        """The grid item ``number`` is routed to now and its station's staff, from one read
        (None and none if it is not routed, or does not exist)."""
        try:
            issue = self.issue(code, number)
        except NotFoundError:
            return None, frozenset()
        if issue.routed_to is None:
            return None, frozenset()
        grid = self.council_to_read(code).grids.get(issue.routed_to)
        return issue.routed_to, frozenset(grid.staff) if grid is not None else frozenset()

    def route_issue(self, code: str, number: int, grid: str, *, actor: str) -> str:
        """Send item ``number`` to ``grid``'s station (a grid in use) and tell its staff;
        routing it again to the same grid records nothing and tells nobody twice."""
        station = self.council_to_read(code).grid(grid)
        issue = self.issue(code, number)
        if issue.route(grid, station.station, at=self.now(), actor=actor):
            self._save(issue)
        self._tell_station(issue)
        return grid

    def reroute_issue(
        self,
        code: str,
        number: int,
        grid: str,
        reason: str,
        *,
        actor: str,
        from_grid: str | None = None,
    ) -> str:
        """Send item ``number`` on to ``grid``'s station, saying why, and tell its staff.
        ``from_grid``: where the caller was allowed to move it from (the staff of that station
        are): if it has moved on since, the re-routing is a concurrent change."""
        station = self.council_to_read(code).grid(grid)
        issue = self.issue(code, number)
        if from_grid is not None and issue.routed_to not in (from_grid, grid):
            raise ConcurrentChangeError(
                f"issue {number} was re-routed meanwhile (now at {issue.routed_to}): try again",
                grid=issue.routed_to,
            )
        if issue.reroute(grid, station.station, reason, at=self.now(), actor=actor):
            self._save(issue)
        self._tell_station(issue)
        return grid

    def _tell_station(self, issue: Issue) -> None:
        """One message per routing to each of the station's staff (the store refuses a
        second delivery of the same routing to the same person)."""
        if issue.routed_to is None:
            return
        grid = self.council_to_read(issue.council).grid(issue.routed_to, retired=True)
        key = f"grid:{grid.code}@{issue.routed_in}"
        for member_id in grid.staff:
            self._address(
                issue.council, member_id, MessageKind.GRID_ROUTED, issue.id, key, issue.number,
                None,
            )  # fmt: skip

    def grid_tasks(self, code: str, member_id: str) -> list[tuple[GridView, list[IssueRow]]]:
        """The open items at each grid whose station ``member_id`` staffs ("my tasks"); a
        retired grid's too, until they are re-routed (else they would be in nobody's tasks)."""
        council = self.council_to_read(code)
        found = [
            (grid_view(g), self.list_issues(code, grid=g.code, open_only=True))
            for _, g in sorted(council.grids.items())
            if member_id in g.staff
        ]
        return [(grid, rows) for grid, rows in found if rows or not grid.retired]
