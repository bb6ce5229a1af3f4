"""An item's grid in the members' app: where it is, and routing and re-routing it from its page
by whom the policy lets (on a store alone: routing needs no workflow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from tests.app.conftest import COUNCIL, SignIn
from tests.orchestration.conftest import CHAIR

pytestmark = pytest.mark.asyncio(loop_scope="session")
PROCEDURE = ProcedureLibrary(Path(__file__).parents[2] / "workflows").get("five-step-consultation")


async def test_an_item_is_routed_and_re_routed_from_its_page(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """The clerk gets the routing form and routes the item; the station's staff see the grid
    and re-route it with a reason (none: refused, nothing recorded); a plain member gets no
    form and is refused if they post one anyway."""
    app, people = roll_people
    app.add_grid(COUNCIL, "g7", "七号院网格", "七号院党群服务站", ("m1",), actor="k1")
    app.add_grid(COUNCIL, "g8", "八号院网格", "八号院党群服务站", ("m2",), actor="k1")
    app.propose_issue(COUNCIL, 2510, "更换污水管", PROCEDURE, actor=CHAIR)
    clerk, member, staff = await people("k1"), await people("m4"), await people("m1")
    page = (await clerk.get("/app/items/2510")).text
    assert 'action="/app/items/2510/route"' in page and "八号院网格" in page
    assert 'id="grid-form"' not in (await member.get("/app/items/2510")).text
    refused = await member.submit("/app/items/2510/route", grid="g7")
    assert refused.status_code == 403 and 'id="problem"' in refused.text
    assert app.issue(COUNCIL, 2510).routed_to is None
    assert (await clerk.submit("/app/items/2510/route", grid="g7")).status_code == 303

    page = (await staff.get("/app/items/2510?lang=zh")).text
    assert "七号院网格" in page and "七号院党群服务站" in page
    assert 'action="/app/items/2510/reroute"' in page
    version = app.issue(COUNCIL, 2510).version
    no_reason = await staff.submit("/app/items/2510/reroute", grid="g8", reason="")
    assert no_reason.status_code == 422 and app.issue(COUNCIL, 2510).version == version
    moved = await staff.submit("/app/items/2510/reroute", grid="g8", reason="管线属八号院")
    assert moved.status_code == 303
    assert app.issue(COUNCIL, 2510).routed_to == "g8"
    assert 'id="grid-form"' not in (await staff.get("/app/items/2510")).text  # no longer theirs
    at_g8 = await people("m2")
    assert 'action="/app/items/2510/reroute"' in (await at_g8.get("/app/items/2510")).text
