"""Rectification orders over the HTTP API and on the public board, against the real stack:
who may order, complete and verify (refusals record nothing), and the board shows each step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from govflow.domain.access import HolderKind, Scope
from govflow.entrypoints.api import create_api
from govflow.orchestration.order_client import OrderClient
from tests.application.test_rectification import (
    DISSATISFIED,
    EVIDENCE,
    RESIDENTS_CHAIR,
    SATISFIED,
    SUPERVISOR,
    WORKER,
    enroll_order_people,
    evaluated,
)
from tests.orchestration.conftest import COUNCIL, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")
V1 = f"/v1/councils/{COUNCIL}"


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    stack: Stack, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    app = stack.app
    enroll_order_people(app)
    evaluated(app, 2300, *DISSATISFIED)
    evaluated(app, 2301, *SATISFIED)
    tokens = {
        who: app.issue_token(COUNCIL, who, actor="clerk")
        for who in (SUPERVISOR, WORKER, RESIDENTS_CHAIR, "m1")
    }
    tokens["reader"] = app.issue_token(
        COUNCIL, "dashboard", kind=HolderKind.INTEGRATION, scopes=(Scope.READ,), actor="clerk"
    )
    asgi = httpx.ASGITransport(
        app=create_api(app, stack.issues, stack.procedures, evidence_dir=tmp_path / "evidence")
    )
    async with httpx.AsyncClient(transport=asgi, base_url="http://govflow") as client:
        yield client, tokens


def auth(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def order_body(number: int, issue: int) -> dict[str, object]:
    return {
        "number": number,
        "what": "疏通3号楼化粪管",
        "why": "居民评议不满意",
        "assignee": WORKER,
        "body": "supervisory_committee",
        "due": (date.today() + timedelta(days=20)).isoformat(),
        "source": "evaluation",
        "issue_number": issue,
    }


async def test_an_order_over_the_api_and_on_the_board(
    api: tuple[httpx.AsyncClient, dict[str, str]], stack: Stack
) -> None:
    """Ordered by the supervisory committee's chair, done by the member ordered, verified by
    the chair; another member's completion and another chair's verification are refused
    (403, nothing recorded); the board shows the order at each step, in both languages."""
    client, tokens = api
    made = await client.post(
        f"{V1}/orders", json=order_body(2310, 2300), headers=auth(tokens, SUPERVISOR)
    )
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "open"
    read = await client.get(f"{V1}/orders/2310", headers=auth(tokens, "reader"))
    assert read.json()["source_ref"] == "issue:2300"
    council_page = await client.get(f"/board/{COUNCIL}/")
    assert f'href="/board/{COUNCIL}/orders"' in council_page.text
    board = await client.get(f"/board/{COUNCIL}/orders")
    assert board.status_code == 200 and "疏通3号楼化粪管" in board.text and "物业经理" in board.text

    head = stack.app.recorder.max_notification_id()
    done = {"text": "已疏通", "evidence": [EVIDENCE]}
    other = await client.post(f"{V1}/orders/2310/completion", json=done, headers=auth(tokens, "m1"))
    assert other.status_code == 403 and other.json()["code"] == "auth.forbidden"
    assert stack.app.recorder.max_notification_id() == head
    ok = await client.post(f"{V1}/orders/2310/completion", json=done, headers=auth(tokens, WORKER))
    assert ok.status_code == 200 and ok.json()["status"] == "completed"

    accept = {"accepted": True, "text": "已核实"}
    head = stack.app.recorder.max_notification_id()
    wrong = await client.post(
        f"{V1}/orders/2310/verification", json=accept, headers=auth(tokens, RESIDENTS_CHAIR)
    )
    assert wrong.status_code == 403
    assert stack.app.recorder.max_notification_id() == head
    verified = await client.post(
        f"{V1}/orders/2310/verification", json=accept, headers=auth(tokens, SUPERVISOR)
    )
    assert verified.json()["status"] == "verified"
    result = await stack.result(
        OrderClient(stack.client, task_queue=stack.issues.task_queue).handle(COUNCIL, 2310)
    )
    assert result.status == "verified"

    page = await client.get(f"/board/{COUNCIL}/orders/2310")
    assert page.status_code == 200
    assert "已核验办结" in page.text and EVIDENCE in page.text and "评议不满意" in page.text
    due = (date.today() + timedelta(days=20)).isoformat()
    assert f"{due} 24:00" in page.text  # the end of the due day, not the next day's 00:00
    assert "报告整改完成" in page.text and "核验通过，办结" in page.text
    english = await client.get(f"/board/{COUNCIL}/orders/2310?lang=en")
    assert "verified and closed" in english.text
    listed = (await client.get(f"/board/{COUNCIL}/orders.json")).json()
    assert [(r["number"], r["status"]) for r in listed] == [(2310, "verified")]
    assert (await client.get(f"/board/{COUNCIL}/orders.json?open=true")).json() == []
    atom = await client.get(f"/board/{COUNCIL}/orders.atom")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    assert "/board/xinhua/orders/2310" in atom.text and "已核验办结" in atom.text
    api_list = await client.get(f"{V1}/orders", headers=auth(tokens, "reader"))
    assert [(r["number"], r["status"]) for r in api_list.json()] == [(2310, "verified")]
    assert (await client.get(f"{V1}/orders")).status_code == 401


async def test_an_order_from_a_satisfied_evaluation_is_refused_over_the_api(
    api: tuple[httpx.AsyncClient, dict[str, str]], stack: Stack
) -> None:
    """Item 2301 was rated 满意 overall: 409, no order, no workflow."""
    client, tokens = api
    head = stack.app.recorder.max_notification_id()
    refused = await client.post(
        f"{V1}/orders", json=order_body(2311, 2301), headers=auth(tokens, SUPERVISOR)
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "rectification.source_not_eligible"
    assert stack.app.recorder.max_notification_id() == head
    missing = await client.get(f"{V1}/orders/2311", headers=auth(tokens, SUPERVISOR))
    assert missing.status_code == 404
    assert (await client.get(f"/board/{COUNCIL}/orders/2311")).status_code == 404


async def test_an_inspection_over_the_api(
    api: tuple[httpx.AsyncClient, dict[str, str]], stack: Stack
) -> None:
    """Recorded by the supervisory committee's chair; a residents' committee chair may not."""
    client, tokens = api
    body = {"number": 1, "finding": "消防通道堆放杂物", "evidence_sha256": EVIDENCE}
    no = await client.post(f"{V1}/inspections", json=body, headers=auth(tokens, RESIDENTS_CHAIR))
    assert no.status_code == 403
    yes = await client.post(f"{V1}/inspections", json=body, headers=auth(tokens, SUPERVISOR))
    assert yes.status_code == 201 and yes.json()["recorded_by"] == SUPERVISOR
    read = await client.get(f"{V1}/inspections/1", headers=auth(tokens, "reader"))
    assert read.json()["finding"] == "消防通道堆放杂物"
