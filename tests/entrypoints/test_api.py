"""The read-side HTTP API over a real (SQLite) store, through its ASGI interface."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application.specimens import SteppingClock, play
from govflow.domain.ids import spending_id
from govflow.entrypoints.api import create_api


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = Governance(
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.db"),
        },
        clock=SteppingClock(),
    )
    play(app)
    token = app.issue_token("specimen", "m2", actor="clerk")
    with TestClient(create_api(app)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client
    app.close()


def test_openapi_and_health(client: TestClient) -> None:
    """The OpenAPI document is published and the health check answers."""
    assert client.get("/healthz").json() == {"status": "ok", "demo": False}
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/councils/{code}/issues/{number}" in paths
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn." not in docs.text  # assets served locally
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"event_store": "ok"}


def test_issue_with_its_timeline(client: TestClient) -> None:
    """An issue comes with every step: what, when, who."""
    body = client.get("/v1/councils/specimen/issues/1").json()
    assert body["issue"]["outcome"] == "adopted"
    topics = [entry["topic"] for entry in body["timeline"]]
    assert topics[0] == "govflow.issue.proposed" and topics[-1] == "govflow.issue.closed"
    assert body["timeline"][0]["actor"] == "m1"


def test_spending_notice_and_audit(client: TestClient) -> None:
    """The ledger entry, its disclosures and the audit endpoints."""
    spending = client.get("/v1/councils/specimen/spending/1").json()
    assert spending["status"] == "settled" and spending["amount"] == "12000.00"
    notice = client.get(f"/v1/notices/{spending['disclosures']['result']}").json()
    assert notice["kind"] == "result"
    history = client.get(f"/v1/audit/history/{spending_id('specimen', 1)}").json()
    assert history[-1]["topic"] == "govflow.spending.settled"
    meeting = client.get("/v1/councils/specimen/meetings/1").json()
    assert meeting["quorum_met"] is True and meeting["motions"] == {"1": True}
    verify = client.get("/v1/audit/verify").json()
    assert verify["ok"] is True and verify["unsealed"] > 0


def test_errors_are_problem_json_with_stable_codes(client: TestClient) -> None:
    """Unknown ids are 404 and malformed ones 422, as RFC 9457 problem documents."""
    assert client.get("/v1/councils/nowhere").status_code == 403  # not the token's council
    missing = client.get("/v1/councils/specimen/issues/999")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "not_found"
    malformed = client.get("/v1/notices/not-a-uuid")
    assert malformed.status_code == 422 and malformed.json()["code"] == "input.invalid"


def test_reads_need_a_token_of_the_council(client: TestClient) -> None:
    """The board is public; /v1 reads need a token of that council."""
    app = client.app.state.governance  # type: ignore[attr-defined]
    app.register_council("elsewhere", "别处", actor="clerk")
    app.enroll_member("elsewhere", "e1", "外人", actor="clerk")
    stranger = {"Authorization": f"Bearer {app.issue_token('elsewhere', 'e1', actor='clerk')}"}
    for path in (
        "/v1/councils/specimen",
        "/v1/councils/specimen/issues/1",
        "/v1/councils/specimen/issues",
        "/v1/councils/specimen/events",
        f"/v1/audit/history/{spending_id('specimen', 1)}",
    ):
        anonymous = client.get(path, headers={"Authorization": ""})
        assert anonymous.status_code == 401, path
        assert anonymous.json()["code"] == "auth.unauthenticated"
        assert client.get(path, headers=stranger).status_code == 403, path
        assert client.get(path).status_code == 200, path


def test_me_says_who_the_token_is(client: TestClient) -> None:
    """/v1/me: the member behind the token, with roles, bodies and chairs as recorded now."""
    me = client.get("/v1/me").json()
    assert (me["council"], me["holder"], me["kind"]) == ("specimen", "m2", "person")
    assert "party_members_assembly" in me["bodies"] and me["scopes"] == []
    assert client.get("/v1/me", headers={"Authorization": "Bearer gf_x_y"}).status_code == 401


def test_out_of_range_path_values_are_invalid_not_errors(client: TestClient) -> None:
    """A meeting, spending or disbursement number of 0 is a 422 with the stable code."""
    for path in (
        "/v1/councils/specimen/meetings/0/notice",
        "/v1/councils/specimen/spending/0/disbursements/0/approve",
        "/v1/councils/specimen/issues/-1/close-stage",
    ):
        response = client.post(path)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["code"] == "input.invalid"


def test_a_streamed_body_is_limited_too(client: TestClient) -> None:
    """A chunked body (no length to check up front) over 1 MiB is refused with 413 as soon as
    it passes the limit; a small chunked body goes through."""

    def chunks(total: int) -> Iterator[bytes]:
        sent = 0
        while sent < total:
            yield b" " * 65_536
            sent += 65_536

    big = client.post("/v1/councils/specimen/issues", content=chunks(8 * 1024 * 1024))
    assert big.status_code == 413 and big.json()["code"] == "input.too_large"
    small = client.post(
        "/v1/councils/specimen/spending/1/disbursements",
        content=iter([b'{"amount": "1.00",', b' "reference": "x"}']),
        headers={"content-type": "application/json"},
    )
    assert small.status_code == 409  # read whole and handled: the spending is settled
    assert small.json()["code"] == "spending.invalid_state"
