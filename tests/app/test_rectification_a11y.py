"""Rectification orders' pages on a 390 px phone, in Chinese and in English: the app's list
and order pages for the person ordered (the report form) and the ordering chair (the verify
forms), and the board's list and order page for anyone. axe-core finds no serious or critical
WCAG 2.1 AA violation and nothing is wider than the screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from govflow.orchestration.door import CommandDoor
from tests.a11y import check_async
from tests.app.browser import chromium, live_app, phone, signed_in_phone
from tests.application.test_rectification import (
    DISSATISFIED,
    EVIDENCE,
    SUPERVISOR,
    WORKER,
    enroll_order_people,
    evaluated,
    order_command,
)
from tests.orchestration.conftest import COUNCIL, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
NUMBER = 2330  # the order's workflow id on the shared Temporal server: order-xinhua-2330


async def test_orders_pages_read_on_a_phone_in_both_languages(stack: Stack, tmp_path: Path) -> None:
    app = stack.app
    enroll_order_people(app)
    evaluated(app, 2300, *DISSATISFIED)
    door = CommandDoor(app, stack.issues, stack.procedures)
    await door.handle(order_command(NUMBER), app.principal(COUNCIL, SUPERVISOR))
    found: dict[str, list[str]] = {}
    async with live_app(stack, tmp_path / "evidence") as base, chromium() as browser:

        async def look(context: object, path: str, name: str, shows: str) -> None:
            page = await context.new_page()  # type: ignore[attr-defined]
            for lang in ("zh", "en"):
                response = await page.goto(f"{base}{path}?lang={lang}")
                assert response is not None and response.status == 200, (path, lang)
                assert await page.locator(shows).count() > 0, (name, shows)
                if violations := await check_async(page, f"orders-{lang}-{name}"):
                    found[f"{lang}-{name}"] = violations

        worker = await signed_in_phone(
            browser, base, app.issue_token(COUNCIL, WORKER, actor="clerk")
        )
        await look(worker, "/app/orders", "app-list", "#orders")
        await look(worker, f"/app/orders/{NUMBER}", "app-report", "#report-photos")
        app.complete_order(COUNCIL, NUMBER, "已疏通", (EVIDENCE,), actor=WORKER)
        chair = await signed_in_phone(
            browser, base, app.issue_token(COUNCIL, SUPERVISOR, actor="clerk")
        )
        await look(chair, f"/app/orders/{NUMBER}", "app-verify", "#back-due")
        anyone = await phone(browser)
        await look(anyone, f"/board/{COUNCIL}/orders", "board-list", "table.orders")
        await look(anyone, f"/board/{COUNCIL}/orders/{NUMBER}", "board-order", "ol.timeline")
    assert found == {}
