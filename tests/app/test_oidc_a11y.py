"""The pages of the optional OIDC sign-in pass axe-core on a phone, in Chinese and English:
the sign-in page with its button, the choice of council, and a refused return."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govflow.application import Governance
from govflow.application.oidc import OidcConfig
from govflow.entrypoints.api import create_api
from tests.a11y import PHONE, check_sync
from tests.orchestration.conftest import enroll_council
from tests.serving import CHROMIUM, CHROMIUM_ARGS, require_chromium, serving

PAGES = {
    "sign-in": "/app/sign-in",
    "choose-council": "/app/sign-in/oidc/start",
    "refused": "/app/sign-in/oidc/callback?state=forged&code=forged",
}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    path: Path = tmp_path_factory.mktemp("oidc") / "events.db"
    app = Governance({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})
    enroll_council(app)
    # a provider that is never reached: these pages do not ask it anything
    oidc = OidcConfig(issuer="http://127.0.0.1:9", client_id="govflow", client_secret="s")
    with serving(create_api(app, oidc=oidc)) as url:
        yield url
    app.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_oidc_sign_in_pages_pass_axe_on_a_phone(base_url: str, lang: str) -> None:
    """No serious or critical WCAG 2.1 AA violation; each page photographed at 390 px."""
    from playwright.sync_api import sync_playwright

    found: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser: Any = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(**PHONE).new_page()
        for name, path in PAGES.items():
            joiner = "&" if "?" in path else "?"
            page.goto(base_url + path + (f"{joiner}lang=en" if lang == "en" else ""))
            if name == "sign-in":
                assert page.locator("a[href^='/app/sign-in/oidc/start']").count() == 1
            if violations := check_sync(page, f"app-{lang}-oidc-{name}"):
                found[name] = violations
        browser.close()
    assert found == {}
