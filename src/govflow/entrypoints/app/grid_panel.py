"""An item's grid (网格) on its page in the members' app: the grid and station it is at, and
which routing forms (:mod:`grid_routing`) the caller gets, as the policy would decide."""

from __future__ import annotations

from typing import Any

from govflow.application import Governance
from govflow.domain.policy import Action, Principal
from govflow.entrypoints.app.acting import allows

ROUTE = Action.ROUTE_ISSUE
WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "grid": "网格",
        "station": "服务站",
        "not_routed": "尚未分派到网格服务站。",
        "route": "分派到网格服务站",
        "reroute": "改派到其他网格服务站",
        "reason": "改派理由",
        "send": "提交",
    },
    "en": {
        "grid": "Grid",
        "station": "Service station",
        "not_routed": "Not routed to a grid's service station yet.",
        "route": "Route to a grid's service station",
        "reroute": "Re-route to another grid's station",
        "reason": "Why",
        "send": "Send",
    },
}


def grid_panel(app: Governance, caller: Principal, number: int, lang: str) -> dict[str, Any]:
    """What the item's page shows of its grid, and which routing forms the caller gets."""
    council = app.council_to_read(caller.council)
    issue = app.issue(caller.council, number)
    at = council.grids.get(issue.grid) if issue.grid else None
    open_ = issue.outcome is None
    staff = app.routed_grid_staff(caller.council, number)
    return {
        "t": WORDS.get(lang, WORDS["zh"]),
        "code": issue.grid,
        "name": at.name if at else issue.grid,  # an older item's free-text grid as it was
        "station": at.station if at else None,
        "routed": issue.routed_to is not None,
        "grids": [
            (g.code, g.name)
            for g in sorted(council.grids.values(), key=lambda g: g.code)
            if not g.retired and g.code != issue.routed_to
        ],
        "may_route": open_ and issue.routed_to is None and allows(caller, ROUTE, caller.council),
        "may_reroute": open_
        and issue.routed_to is not None
        and allows(caller, ROUTE, caller.council, staff=staff),
    }
