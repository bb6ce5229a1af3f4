"""The fund pages on a 390 px phone, in Chinese and in English: the app's list and a fund's
page as a keyholder (every form shown) and as a member, the board's list and a fund's page with
no login. axe-core finds no serious or critical WCAG 2.1 AA violation and nothing is wider than
the screen."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.domain.fund import FundKind, StatementSchedule
from tests.a11y import check_async
from tests.app.browser import chromium, free_base_url, live, phone, signed_in_phone
from tests.orchestration.conftest import COUNCIL, enroll_council

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

EVIDENCE = hashlib.sha256(b"receipt").hexdigest()


def a_fund(app: Governance) -> None:
    """A fund with an income, a paid expense, a reversed line, one awaiting approval and a
    statement."""
    enroll_council(app)
    app.open_fund(
        COUNCIL, 1, "物业费信托账户", FundKind.PROPERTY_FEES, ("m1", "m2"),
        schedule=StatementSchedule.MONTHLY, actor="clerk",
    )  # fmt: skip
    keys = {m: app.council(COUNCIL).member(m).enrolment for m in ("m1", "m2")}
    day = app.now().date() - timedelta(days=40)

    def line(amount: str, by: str, **more: object) -> dict[str, object]:
        return dict(
            amount=amount, counterparty="保洁服务有限公司", category="保洁", on=day,
            evidence_sha256=EVIDENCE, actor=by, enrolment=keys[by], reference="B-0001", **more,
        )  # fmt: skip

    app.record_fund_income(COUNCIL, 1, **line("30000.00", "m1"))
    wrong = app.record_fund_income(COUNCIL, 1, **line("30.00", "m1"))
    paid = app.initiate_fund_expense(COUNCIL, 1, **line("800.00", "m1"))
    app.approve_fund_expense(COUNCIL, 1, paid, actor="m2", enrolment=keys["m2"])
    undo = app.initiate_fund_expense(COUNCIL, 1, **line("30.00", "m2", corrects=wrong))
    app.approve_fund_expense(COUNCIL, 1, undo, actor="m1", enrolment=keys["m1"])
    period = f"{day:%Y-%m}"
    app.post_fund_statement(COUNCIL, 1, period, actor="m1")
    app.initiate_fund_expense(COUNCIL, 1, **line("120.00", "m2") | {"on": app.now().date()})


async def test_fund_pages_on_a_phone(tmp_path: Path) -> None:
    """Every fund page in both languages: no serious axe violation, nothing wider than 390 px."""
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    )
    a_fund(app)
    from govflow.entrypoints.api import create_api

    base = free_base_url()
    found: dict[str, list[str]] = {}
    async with live(create_api(app, public_url=base), base), chromium() as browser:
        tabs = {
            "keyholder": await signed_in_phone(
                browser, base, app.issue_token(COUNCIL, "m1", actor="clerk")
            ),
            "member": await signed_in_phone(
                browser, base, app.issue_token(COUNCIL, "m3", actor="clerk")
            ),
            "anyone": await phone(browser),
        }
        for who, path in (
            ("member", "/app/funds"),
            ("keyholder", "/app/funds/1"),
            ("member", "/app/funds/1"),
            ("anyone", f"/board/{COUNCIL}/funds"),
            ("anyone", f"/board/{COUNCIL}/funds/1"),
        ):
            for lang in ("zh", "en"):
                page = await tabs[who].new_page()
                response = await page.goto(f"{base}{path}?lang={lang}")
                assert response is not None and response.status == 200, (who, path)
                name = f"funds-{who}-{lang}-{path}"
                violations = await check_async(page, name)
                if violations:
                    found[name] = violations
                await page.close()
    app.close()
    assert not found, found
