"""Writes through the HTTP API: tokens, roles and scopes decide who may do what, and every
write is attributed to its caller in the recorded events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from govflow.domain.access import HolderKind, Scope
from govflow.entrypoints.api import create_api
from tests.orchestration.conftest import CHAIR, COUNCIL, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def api(stack: Stack) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    app = stack.app
    app.enroll_member(COUNCIL, "a1", "审计员", actor="clerk", roles=("auditor",))
    tokens = {
        "chair": app.issue_token(COUNCIL, CHAIR, actor="clerk"),
        "member": app.issue_token(COUNCIL, "m1", actor="clerk"),
        "auditor": app.issue_token(COUNCIL, "a1", actor="clerk"),
        "integration": app.issue_token(
            COUNCIL, "grid-app", kind=HolderKind.INTEGRATION, scopes=(Scope.PROPOSE,), actor="clerk"
        ),
        "reader": app.issue_token(
            COUNCIL, "dashboard", kind=HolderKind.INTEGRATION, scopes=(Scope.READ,), actor="clerk"
        ),
        "revoked": app.issue_token(COUNCIL, "m2", actor="clerk"),
    }
    app.revoke_token(tokens["revoked"].split("_")[1], "left the office", actor="clerk")
    asgi = httpx.ASGITransport(app=create_api(app, stack.issues, stack.procedures))
    async with httpx.AsyncClient(transport=asgi, base_url="http://govflow") as client:
        yield client, tokens


def auth(tokens: dict[str, str], who: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"} if who else {}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("chair", 201),
        ("member", 201),
        ("integration", 201),
        ("auditor", 403),
        ("reader", 403),
        ("revoked", 401),
        (None, 401),
    ],
)
async def test_who_may_propose(
    api: tuple[httpx.AsyncClient, dict[str, str]], stack: Stack, who: str | None, status: int
) -> None:
    """Members and scoped integrations propose; auditors, readers and strangers cannot."""
    client, tokens = api
    number = 60 + ["chair", "member", "integration", "auditor", "reader", "revoked", None].index(
        who
    )
    response = await client.post(
        f"/v1/councils/{COUNCIL}/issues",
        headers=auth(tokens, who),
        json={"number": number, "title": "路灯维修", "procedure": "residents-assembly"},
    )
    assert response.status_code == status, response.text
    if status == 201:
        proposer = stack.app.get_history(stack.app.issue(COUNCIL, number).id)[0].actor
        assert (
            proposer
            == {"chair": CHAIR, "member": "m1", "integration": "integration:grid-app"}[who or ""]
        )
    else:
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_chair_closes_members_vote_auditors_only_read(
    api: tuple[httpx.AsyncClient, dict[str, str]], stack: Stack
) -> None:
    """Only the chair closes the stage; a member's ballot is their own; an auditor's is not."""
    client, tokens = api
    base = f"/v1/councils/{COUNCIL}/issues/70"
    created = await client.post(
        f"/v1/councils/{COUNCIL}/issues",
        headers=auth(tokens, "chair"),
        json={"number": 70, "title": "楼道粉刷", "procedure": "residents-assembly"},
    )
    assert created.status_code == 201
    await stack.at_stage(70, "public_deliberation")
    refused = await client.post(f"{base}/close-stage", headers=auth(tokens, "member"))
    assert refused.status_code == 403 and refused.json()["code"] == "auth.forbidden"
    assert (
        await client.post(f"{base}/close-stage", headers=auth(tokens, "auditor"))
    ).status_code == 403
    closed = await client.post(f"{base}/close-stage", headers=auth(tokens, "chair"))
    assert closed.json() == {"closed": "public_deliberation"}
    await stack.until(70, lambda s: s.ballot_key is not None)
    ballot = await client.post(
        f"{base}/ballots", headers=auth(tokens, "member"), json={"choice": "yes"}
    )
    assert ballot.status_code == 201 and ballot.json()["ballot_key"] == "resolve#1"
    again = await client.post(
        f"{base}/ballots", headers=auth(tokens, "member"), json={"choice": "no"}
    )
    assert again.status_code == 409 and again.json()["code"] == "ballot.double_vote"
    auditor = await client.post(
        f"{base}/ballots", headers=auth(tokens, "auditor"), json={"choice": "yes"}
    )
    assert auditor.status_code == 403
    status = await client.get(f"{base}/status", headers=auth(tokens, "auditor"))
    assert status.json()["stage"] == "resolve"


async def test_bad_input_is_4xx_never_500(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    """Malformed JSON, wrong types, unknown fields and unknown items are refused with 4xx."""
    client, tokens = api
    headers = {**auth(tokens, "chair"), "content-type": "application/json"}
    url = f"/v1/councils/{COUNCIL}/issues"
    malformed = await client.post(url, headers=headers, content=b"{not json")
    assert malformed.status_code == 400 and malformed.json()["code"] == "input.malformed"
    for body in [
        b'{"number": "x"}',
        b'{"number": 1, "title": "t", "procedure": "residents-assembly", "extra": 1}',
        b"[]",
    ]:
        response = await client.post(url, headers=headers, content=body)
        assert response.status_code == 422, body
    unknown = await client.post(
        url, headers=headers, json={"number": 90, "title": "t", "procedure": "no-such-procedure"}
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "procedure.invalid"
    missing = await client.post(
        f"{url}/999/ballots", headers=auth(tokens, "member"), json={"choice": "yes"}
    )
    assert missing.status_code == 404


async def test_a_retried_post_with_an_idempotency_key_acts_once(
    api: tuple[httpx.AsyncClient, dict[str, str]], stack: Stack
) -> None:
    """The retry gets the first answer back; the same key for another request is refused."""
    client, tokens = api
    url = f"/v1/councils/{COUNCIL}/issues"
    headers = {**auth(tokens, "chair"), "Idempotency-Key": "propose-80"}
    body = {"number": 80, "title": "健身器材更新", "procedure": "residents-assembly"}
    first = await client.post(url, headers=headers, json=body)
    retry = await client.post(url, headers=headers, json=body)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry.headers["Idempotent-Replayed"] == "true"
    assert len(stack.app.get_history(stack.app.issue(COUNCIL, 80).id)) >= 1
    other = await client.post(url, headers=headers, json={**body, "title": "另一议题"})
    assert other.status_code == 422 and other.json()["code"] == "input.invalid"
    same_again = await client.post(url, headers=auth(tokens, "chair"), json=body)
    assert same_again.status_code == 201  # proposing the same again is a retry, not a clash
    clash = await client.post(url, headers=auth(tokens, "chair"), json={**body, "title": "别的"})
    assert clash.status_code == 409 and clash.json()["code"] == "already_exists"
