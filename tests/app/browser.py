"""The members' app served live for a browser: uvicorn in the test's own event loop (the
Temporal client of the stack lives there), and async Playwright driving Debian's Chromium,
one browser context per person (their own cookies)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn

from govflow.entrypoints.api import create_api
from govflow.entrypoints.app.session import SESSION_COOKIE
from tests.a11y import PHONE
from tests.orchestration.conftest import Stack
from tests.serving import CHROMIUM, CHROMIUM_ARGS, require_chromium


def free_base_url() -> str:
    """``http://127.0.0.1:<a free port>``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@asynccontextmanager
async def live_app(stack: Stack, evidence: Path) -> AsyncIterator[str]:
    """The API, app and board over ``stack`` on a free local port; yields the base URL."""
    base = free_base_url()
    api = create_api(
        stack.app, stack.issues, stack.procedures, evidence_dir=evidence, public_url=base
    )
    async with live(api, base):
        yield base


@asynccontextmanager
async def live(api: Any, base: str) -> AsyncIterator[str]:
    """Serve the ASGI ``api`` at ``base`` (from :func:`free_base_url`) in this event loop."""
    port = int(base.rsplit(":", 1)[1])
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started, "the server did not start"
    try:
        yield base
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Headless Chromium (skipped without it, failed under CI=true)."""
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def phone(browser: Any) -> Any:
    """A new person's phone: a 390 px context with its own cookies, in Chinese."""
    return await browser.new_context(**PHONE, locale="zh-CN")


async def signed_in_phone(browser: Any, base: str, token: str) -> Any:
    """A phone already holding ``token`` as its session (for tests of pages, not of signing
    in: those open an invitation link in the browser)."""
    context = await phone(browser)
    host = base.split("//", 1)[1].rsplit(":", 1)[0]
    cookie = {"name": SESSION_COOKIE, "value": token, "domain": host, "path": "/app"}
    await context.add_cookies([cookie])
    return context
