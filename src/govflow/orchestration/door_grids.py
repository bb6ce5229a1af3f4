"""The command door's acts on grids (网格): keeping the grids and their service stations on the
council's record, and routing items to a grid's station."""

from __future__ import annotations

import asyncio

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.grids import GridView
from govflow.domain.policy import Action, Principal, authorize
from govflow.orchestration.door_base import Handler


class GridActs:
    """The handlers of the grid commands (the door takes them into its table)."""

    def __init__(self, app: Governance) -> None:
        self.app = app

    def handlers(self) -> dict[type[c.Command], Handler]:
        return {
            c.AddGrid: self._add_grid,
            c.ChangeGrid: self._change_grid,
            c.RetireGrid: self._retire_grid,
            c.RouteIssue: self._route,
            c.RerouteIssue: self._reroute,
        }

    async def _add_grid(self, cmd: c.AddGrid, who: Principal) -> GridView:
        actor = authorize(who, Action.KEEP_GRIDS, cmd.council)
        return await asyncio.to_thread(
            lambda: self.app.add_grid(
                cmd.council, cmd.grid, cmd.name, cmd.station, cmd.staff, actor=actor
            )
        )

    async def _change_grid(self, cmd: c.ChangeGrid, who: Principal) -> GridView:
        actor = authorize(who, Action.KEEP_GRIDS, cmd.council)
        return await asyncio.to_thread(
            lambda: self.app.change_grid(
                cmd.council, cmd.grid, cmd.name, cmd.station, cmd.staff, actor=actor
            )
        )

    async def _retire_grid(self, cmd: c.RetireGrid, who: Principal) -> GridView:
        actor = authorize(who, Action.KEEP_GRIDS, cmd.council)
        return await asyncio.to_thread(
            lambda: self.app.retire_grid(cmd.council, cmd.grid, actor=actor)
        )

    async def _route(self, cmd: c.RouteIssue, who: Principal) -> str:
        """The clerk or a chair sends the item to a grid's station; its staff are told."""
        actor = authorize(who, Action.ROUTE_ISSUE, cmd.council)
        return await asyncio.to_thread(
            lambda: self.app.route_issue(cmd.council, cmd.number, cmd.grid, actor=actor)
        )

    async def _reroute(self, cmd: c.RerouteIssue, who: Principal) -> str:
        """The clerk, a chair, or the staff of the station the item is at (as the record says
        now) send it on to another grid's station, saying why; that station's staff are told."""

        if who.council != cmd.council:  # refused before the item is read
            authorize(who, Action.ROUTE_ISSUE, cmd.council)

        def reroute() -> str:
            # where the item is and that station's staff from one read; recorded only if the
            # item is still there (else someone moved it meanwhile: a concurrent change)
            at_grid, staff = self.app.routed_station(cmd.council, cmd.number)
            actor = authorize(who, Action.ROUTE_ISSUE, cmd.council, staff=staff)
            return self.app.reroute_issue(
                cmd.council, cmd.number, cmd.grid, cmd.reason, actor=actor, from_grid=at_grid
            )

        return await asyncio.to_thread(reroute)
