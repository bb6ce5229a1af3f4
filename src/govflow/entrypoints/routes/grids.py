"""``/v1/councils/{code}/grids``: the council's grids (网格) and their service stations, the items
at each grid, and routing an item to a grid's station (``/issues/{number}/route``,
``/issues/{number}/reroute``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from govflow.application import commands as c
from govflow.application.grids import GridView
from govflow.domain.council import MemberId
from govflow.domain.grid import MAX_STAFF, GridCode
from govflow.entrypoints.api_bodies import Name, PathNumber, Strict, Text
from govflow.entrypoints.deps import App, Caller, Door, reader

router = APIRouter(prefix="/v1/councils/{code}", tags=["grids"])

GridPath = Annotated[GridCode, Path(description="the grid's code")]


class GridBody(Strict):
    name: Name = Field(min_length=1, max_length=100)
    station: Name = Field(min_length=1, max_length=100, description="its service station")
    staff: list[MemberId] = Field(
        default_factory=list, max_length=MAX_STAFF, description="the station's staff (members)"
    )


class NewGridBody(GridBody):
    grid: GridCode


class RouteBody(Strict):
    grid: GridCode


class RerouteBody(Strict):
    grid: GridCode
    reason: Text = Field(min_length=1, max_length=2_000)


class Routed(BaseModel):
    number: int
    grid: str


class GridIssueView(BaseModel):
    id: UUID
    number: int
    title: str
    procedure: str
    grid: str | None
    proposed_at: datetime
    stage: str | None
    deadline: datetime | None
    outcome: str | None


@router.get("/grids")
def list_grids(code: str, caller: Caller, app: App) -> list[GridView]:
    """The council's grids with their stations and staff (retired ones too)."""
    reader(caller, code)
    return app.list_grids(code)


@router.post("/grids", status_code=201)
async def add_grid(code: str, body: NewGridBody, caller: Caller, door: Door) -> GridView:
    """As the clerk, put a grid and its service station on the record."""
    command = c.AddGrid(
        council=code, grid=body.grid, name=body.name, station=body.station, staff=tuple(body.staff)
    )
    view: GridView = await door.handle(command, caller)
    return view


@router.put("/grids/{grid}")
async def change_grid(
    code: str, grid: GridPath, body: GridBody, caller: Caller, door: Door
) -> GridView:
    """As the clerk, give a grid another name, station or staff (the whole, replacing the old)."""
    command = c.ChangeGrid(
        council=code, grid=grid, name=body.name, station=body.station, staff=tuple(body.staff)
    )
    view: GridView = await door.handle(command, caller)
    return view


@router.delete("/grids/{grid}")
async def retire_grid(code: str, grid: GridPath, caller: Caller, door: Door) -> GridView:
    """As the clerk, retire a grid: nothing is routed to it any more; its record stays."""
    view: GridView = await door.handle(c.RetireGrid(council=code, grid=grid), caller)
    return view


@router.get("/grids/{grid}/issues", tags=["issues"])
def grid_issues(
    code: str,
    grid: GridPath,
    caller: Caller,
    app: App,
    open: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[GridIssueView]:
    """The items at a grid (named at proposal, or routed there since), newest first."""
    reader(caller, code)
    app.get_grid(code, grid)  # an unknown grid is not an empty list (grid.unknown)
    rows = app.list_issues(code, grid=grid, open_only=open)
    return [
        GridIssueView.model_validate(r, from_attributes=True) for r in rows[offset : offset + limit]
    ]


@router.post("/issues/{number}/route", tags=["issues"])
async def route(
    code: str, number: PathNumber, body: RouteBody, caller: Caller, door: Door
) -> Routed:
    """As the clerk or a chair, send the item to a grid's service station (its staff are
    told)."""
    grid = await door.handle(c.RouteIssue(council=code, number=number, grid=body.grid), caller)
    return Routed(number=number, grid=grid)


@router.post("/issues/{number}/reroute", tags=["issues"])
async def reroute(
    code: str, number: PathNumber, body: RerouteBody, caller: Caller, door: Door
) -> Routed:
    """As the clerk, a chair or the staff of the station the item is at, send it on to another
    grid's station, saying why (that station's staff are told)."""
    command = c.RerouteIssue(council=code, number=number, grid=body.grid, reason=body.reason)
    return Routed(number=number, grid=await door.handle(command, caller))
