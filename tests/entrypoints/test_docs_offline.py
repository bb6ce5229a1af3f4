"""``/docs`` and ``/redoc`` work without internet (their assets are served from the package),
and the board's error pages are HTML in the page's language while ``/v1`` keeps problem+json."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application.specimens import SteppingClock, play
from govflow.entrypoints.api import create_api
from tests.serving import CHROMIUM, CHROMIUM_ARGS, require_chromium, serving

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
}


@pytest.fixture(scope="module")
def governance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Governance]:
    path = tmp_path_factory.mktemp("docs") / "events.db"
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)},
        clock=SteppingClock(),
    )
    play(app)
    yield app
    app.close()


@pytest.fixture(scope="module")
def client(governance: Governance) -> Iterator[TestClient]:
    with TestClient(create_api(governance)) as test_client:
        yield test_client


def _assets(html: str) -> list[str]:
    return ASSET.findall(html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_reference_no_other_host(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "://" not in html, html  # no CDN, no Google Fonts
    assert "img-src 'self' data: blob:" in response.headers["content-security-policy"]
    if page == "/docs":
        assert '"validatorUrl": null' in html  # no badge from validator.swagger.io
    assets = _assets(html)
    assert assets, html
    for url in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_of_the_docs_pages_is_served(client: TestClient, page: str) -> None:
    assets = _assets(client.get(page).text)
    kinds = set()
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        suffix = Path(urlsplit(url).path).suffix
        kinds.add(suffix)
        assert response.headers["content-type"].startswith(CONTENT_TYPES[suffix]), url
        assert len(response.content) > 1000, url
    assert {".js", ".png"} <= kinds
    if page == "/docs":
        assert ".css" in kinds
    spec = client.get("/openapi.json")
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "govflow"


@pytest.mark.parametrize(
    "path",
    ["/board/nowhere/", "/board/notices/00000000-0000-0000-0000-000000000000", "/app/nothing"],
)
def test_a_missing_board_page_is_a_chinese_html_page(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in response.text
    assert "找不到此页面" in response.text and 'href="/board/"' in response.text
    assert "not_found" not in response.text and "{" not in response.text.split("<body>")[1]


def test_a_missing_board_page_in_english(client: TestClient) -> None:
    response = client.get("/board/specimen/issues/999?lang=en")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in response.text and "Page not found" in response.text
    assert 'href="/board/?lang=en"' in response.text


@pytest.mark.parametrize(
    ("path", "lang"),
    [("/board/?lang=fr", "zh-CN"), ("/board/specimen/issues?page=0&lang=en", "en")],
)
def test_an_invalid_board_address_is_an_html_422(client: TestClient, path: str, lang: str) -> None:
    response = client.get(path)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in response.text


def test_the_language_switch_of_an_error_page_keeps_the_address(client: TestClient) -> None:
    html = client.get("/board/specimen/issues?page=0").text
    assert 'href="/board/specimen/issues?page=0&amp;lang=en"' in html
    html = client.get("/board/specimen/issues?page=0&lang=en").text
    assert 'href="/board/specimen/issues?page=0"' in html


@pytest.mark.parametrize(
    "path", ["/v1/councils/nowhere/issues/1", "/v1/nothing", "/board/nowhere/issues.json"]
)
def test_the_api_and_the_json_lists_keep_problem_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (401, 404)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"]


# -- in Chromium, with every host but this server blocked ----------------------------------


@pytest.fixture(scope="module")
def base_url(governance: Governance) -> Iterator[str]:
    require_chromium()
    with serving(create_api(governance)) as url:
        yield url


@pytest.fixture(scope="module")
def offline_page(base_url: str) -> Iterator[tuple[Any, list[str]]]:
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []

    def only_this_server(route: Any) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = chromium.new_context()
        context.route("**/*", only_this_server)
        yield context, blocked
        context.close()
        chromium.close()


def test_swagger_ui_renders_the_operations_offline(
    offline_page: tuple[Any, list[str]], base_url: str
) -> None:
    context, blocked = offline_page
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() > 20
    assert page.locator(".info .title").first.inner_text().startswith("govflow")
    assert errors == [] and blocked == []
    page.close()


def test_redoc_renders_the_operations_offline(
    offline_page: tuple[Any, list[str]], base_url: str
) -> None:
    context, blocked = offline_page
    page = context.new_page()
    page.goto(f"{base_url}/redoc")
    page.wait_for_selector("h1", timeout=20_000)
    assert page.locator("h1").first.inner_text().startswith("govflow")
    assert page.locator("[role=menuitem]").count() > 20
    # ReDoc 2's bundle hard-codes one decorative image (the "API docs by Redocly" logo): the
    # page's Content-Security-Policy keeps the browser from even asking for it.
    assert blocked == []
    page.close()
