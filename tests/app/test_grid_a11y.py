"""Grid routing's pages on a 390 px phone, in Chinese and in English: a station's staff's tasks,
an item's page with its grid and the re-routing form, and the board's list filtered by grid.
axe-core finds no serious or critical WCAG 2.1 AA violation and nothing is wider than the
screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.entrypoints.api import create_api
from tests.a11y import check_async
from tests.app.browser import chromium, free_base_url, live, phone, signed_in_phone
from tests.orchestration.conftest import CHAIR, COUNCIL, enroll_council

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
PROCEDURE = ProcedureLibrary(Path(__file__).parents[2] / "workflows").get("five-step-consultation")


async def test_grid_pages_read_on_a_phone_in_both_languages(tmp_path: Path) -> None:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    )
    enroll_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    app.add_grid(COUNCIL, "g7", "七号院网格", "七号院党群服务站", ("m1",), actor="k1")
    app.add_grid(COUNCIL, "g8", "八号院网格", "八号院党群服务站", ("m2",), actor="k1")
    app.propose_issue(COUNCIL, 2520, "七号院化粪管更换", PROCEDURE, actor=CHAIR, grid="g7")
    app.route_issue(COUNCIL, 2520, "g7", actor="k1")
    found: dict[str, list[str]] = {}
    base = free_base_url()
    api = create_api(app, evidence_dir=tmp_path / "evidence", public_url=base)
    async with live(api, base), chromium() as browser:

        async def look(context: Any, path: str, name: str, shows: str) -> None:
            page = await context.new_page()
            for lang in ("zh", "en"):
                response = await page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
                assert response is not None and response.status == 200, (path, lang)
                assert await page.locator(shows).count() > 0, (name, shows)
                if violations := await check_async(page, f"grids-{lang}-{name}"):
                    found[f"{lang}-{name}"] = violations

        staff = await signed_in_phone(browser, base, app.issue_token(COUNCIL, "m1", actor="k1"))
        await look(staff, "/app/", "tasks", ".task-grid_item")
        await look(staff, "/app/items/2520", "item", "#grid-form")
        anyone = await phone(browser)
        await look(anyone, f"/board/{COUNCIL}/issues?grid=g7", "board", "#grid-filter")
    app.close()
    assert found == {}
