"""The board in headless Chromium (Debian's ``chromium``): pages load, links work, a phone
can read them, and a screenshot of the issue page is taken (``var/screenshots/``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from govflow.application import Governance
from govflow.application.sealer import Sealer
from govflow.application.specimens import SteppingClock, play
from govflow.entrypoints.api import create_api
from govflow.transparency import Cosigner, Signer, cosign, generate_key, generate_witness_key
from tests.a11y import PHONE, check_sync
from tests.serving import CHROMIUM, CHROMIUM_ARGS, require_chromium, serving

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    path = tmp_path_factory.mktemp("board") / "events.db"
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)},
        clock=SteppingClock(),
    )
    play(app)
    app.clock = lambda: datetime(2026, 3, 5, 4, 0, tzinfo=UTC)
    log = Signer.from_skey(generate_key("govflow/board-browser")[0])
    witnesses = [Cosigner.from_skey(generate_witness_key(f"w{i}.example/w")[0]) for i in (1, 2)]
    newest = Sealer.of(app, log, batch=20).seal()  # the log's page has rows and witnesses
    assert newest is not None
    api = create_api(
        app, log_witnesses=[w.verifier for w in witnesses], log_public_key=log.verifier.vkey
    )
    with serving(api) as url:
        import httpx

        posted = cosign(newest.note, witnesses[0])
        httpx.post(f"{url}/v1/log/checkpoints/{newest.size}/cosignatures", content=posted)
        yield url
    app.close()


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_a_resident_clicks_from_the_front_page_to_an_issue(browser: Any, base_url: str) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/")
    assert page.url == f"{base_url}/board/"
    assert page.title().startswith("公示栏")
    page.click("text=样例社区")
    page.wait_for_url("**/board/specimen/")
    page.click("text=全部议题")
    page.wait_for_url("**/board/specimen/issues")
    page.click("table.issues >> text=更换化粪管")
    page.wait_for_url("**/board/specimen/issues/1")
    assert page.locator("svg#stages rect.done").count() == 4
    assert page.locator(".tally").first.inner_text().startswith("表决 · 第1轮")
    page.click("#lang")
    page.wait_for_url("**/board/specimen/issues/1?lang=en")
    assert page.locator("h2").first.inner_text() == "Stages and deadlines"
    assert errors == []
    page.close()


def test_every_link_on_the_visited_pages_works(browser: Any, base_url: str) -> None:
    page = browser.new_page()
    checked: set[str] = set()
    for start in ("/board/", "/board/specimen/", "/board/specimen/issues/1", "/board/audit"):
        page.goto(base_url + start)
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            href = href.split("#")[0]
            if href in checked or not href.startswith(base_url):
                continue
            checked.add(href)
            response = page.request.get(href)
            assert response.status == 200, href
    assert len(checked) > 15
    page.close()


def test_the_issue_page_reads_on_a_phone_and_is_photographed(browser: Any, base_url: str) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = phone.new_page()
    page.goto(f"{base_url}/board/specimen/issues/1")
    # nothing but the chart's own scroller is wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "board-issue-phone.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    desktop = browser.new_page(viewport={"width": 1200, "height": 900})
    desktop.goto(f"{base_url}/board/specimen/issues/1?lang=en")
    desktop.locator("svg#stages").screenshot(path=str(SCREENSHOTS / "board-stages.png"))
    desktop.screenshot(path=str(SCREENSHOTS / "board-issue.png"), full_page=True)
    assert (SCREENSHOTS / "board-issue.png").stat().st_size > 10_000
    phone.close()
    desktop.close()


BOARD_PAGES = [
    "/board/",
    "/board/specimen/",
    "/board/specimen/issues",
    "/board/specimen/issues/1",
    "/board/specimen/notices",
    "/board/specimen/spending",
    "/board/audit",
    "/board/log",
    "/board/no-such-council/",
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_board_page_passes_axe_on_a_phone(browser: Any, base_url: str, lang: str) -> None:
    """Every board page (and its error page) at 390 px: no serious or critical WCAG 2.1 AA
    violation, nothing wider than the screen; each photographed under var/screenshots/phone."""
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    found: dict[str, list[str]] = {}
    for path in BOARD_PAGES:
        url = path + ("&" if "?" in path else "?") + "lang=en" if lang == "en" else path
        page.goto(base_url + url)
        if violations := check_sync(page, f"board-{lang}-{path}"):
            found[url] = violations
    assert found == {}
    phone.close()
