"""Grids (网格) and their service stations, as the council records them, and routing an item
to a grid's station.

A grid is part of the council's record like its members: a code the council chooses, a name,
its service station's name and the station's staff (members of the council). Items are routed
to a grid's station and re-routed (from, to and why) on the item itself
(:class:`~govflow.domain.issue.IssueRouted`, :class:`~govflow.domain.issue.IssueRerouted`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from govflow.domain.base import DomainEvent
from govflow.domain.errors import InvalidInputError, NotFoundError, RuleViolationError

GridCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
"""A grid's code: letters, digits, '_', '.' and '-' (its name may be in any script)."""

MAX_STAFF = 200  # a station's staff: more than any station has


class UnknownGridError(NotFoundError):
    """No grid of the council has this code (or a proposal named a grid as free text)."""

    code = "grid.unknown"


class GridRetiredError(RuleViolationError):
    """The grid was retired: nothing is routed to it any more."""

    code = "grid.retired"


class NotRoutedError(RuleViolationError):
    """Re-routing an item that was never routed (route it first)."""

    code = "grid.not_routed"


class AlreadyRoutedError(RuleViolationError):
    """Routing an item that is at another grid's station already (re-route it, with a reason)."""

    code = "grid.already_routed"


class GridAdded(DomainEvent):
    """A grid and its service station (网格服务站) on the council's record."""

    TOPIC = "govflow.council.grid_added"
    code: GridCode
    name: str
    station: str
    staff: tuple[str, ...] = ()


class GridChanged(DomainEvent):
    """Another name, station name or staff for a grid: from now on its staff are these."""

    TOPIC = "govflow.council.grid_changed"
    code: GridCode
    name: str
    station: str
    staff: tuple[str, ...] = ()


class GridRetired(DomainEvent):
    """The grid is no longer used: items are not routed to it; those routed stay readable."""

    TOPIC = "govflow.council.grid_retired"
    code: GridCode


@dataclass
class Grid:
    code: str
    name: str
    station: str
    staff: tuple[str, ...]
    retired: bool = False


def check_grid(name: str, station: str, staff: tuple[str, ...]) -> None:
    """A grid needs a name and a station name; its staff are each named once."""
    if not name.strip() or not station.strip():
        raise InvalidInputError("a grid needs a name and its service station's name")
    if len(set(staff)) != len(staff):
        raise InvalidInputError("a station's staff member is named twice", staff=staff)
    if len(staff) > MAX_STAFF:
        raise InvalidInputError(f"a station has at most {MAX_STAFF} staff")
