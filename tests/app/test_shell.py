"""The app's shell: a session opens it, a missing one does not, and forms need the CSRF token."""

from __future__ import annotations

import pytest

from govflow.application import Governance
from tests.app.conftest import SignIn

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_session_opens_the_app_in_chinese_then_english_large(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """The app opens for a signed-in member, in Chinese; ?lang=en and ?text=large stick."""
    _, sign_in = roll_people
    member = await sign_in("m1")
    first = await member.get("/app/")
    assert first.status_code == 200 and 'lang="zh-CN"' in first.text
    assert first.headers["cache-control"] == "no-store"
    await member.get("/app/?lang=en&text=large")
    later = await member.get("/app/")
    assert 'lang="en"' in later.text and "font-size:20px" in later.text


async def test_without_a_session_the_app_asks_to_sign_in(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """No cookie: a 401 HTML page, and a form post is refused before its body is read."""
    _, sign_in = roll_people
    member = await sign_in("m1")
    member.client.cookies.clear()
    page = await member.get("/app/")
    assert page.status_code == 401 and "text/html" in page.headers["content-type"]
    posted = await member.client.post("/app/anything", data={"a": "b"})
    assert posted.status_code == 401
