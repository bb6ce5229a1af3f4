"""The board's annual ratings in headless Chromium on a 390 px phone: the list and a year's page
(scores with 64-character hashes) pass axe (WCAG 2.1 AA) and fit the screen, in both
languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govflow.application import Governance
from govflow.application.specimens import SteppingClock
from govflow.entrypoints.api import create_api
from tests.a11y import PHONE, check_sync
from tests.entrypoints.test_annual_ratings_board import rated
from tests.serving import CHROMIUM, CHROMIUM_ARGS, require_chromium, serving

__all__ = ["rated"]
PAGES = ("/board/hexi/ratings", "/board/hexi/ratings/2026")


@pytest.fixture
def governance(tmp_path: Path) -> Iterator[Governance]:
    require_chromium()
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=SteppingClock(),
    )
    yield app
    app.close()


def test_the_ratings_pages_pass_axe_on_a_phone(governance: Governance, rated: Any) -> None:
    """The list, the year and its result's notice, both languages: no serious or critical
    violation, nothing wider than the phone; screenshots under var/screenshots/phone."""
    from playwright.sync_api import sync_playwright

    found: dict[str, list[str]] = {}
    with serving(create_api(governance)) as url, sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        phone = chromium.new_context(**PHONE)
        page = phone.new_page()
        for path in (*PAGES, f"/board/notices/{rated}"):
            for query in ("", "?lang=en"):
                page.goto(url + path + query)
                assert page.locator("h1").count() == 1
                if violations := check_sync(page, f"ratings{path}{query}"):
                    found[path + query] = violations
        chromium.close()
    assert found == {}
