"""``/v1/councils/{code}/ratings``: a year's rating over HTTP, from opening to a revised
result, and the refusals with their stable codes (nothing recorded for any of them)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.application.specimens import SteppingClock
from govflow.entrypoints.api import create_api
from tests.application.annual_rating_story import RATED, WORKFLOWS, YEAR, preset

V1 = f"/v1/councils/{RATED}/ratings"


@pytest.fixture
def governance(tmp_path: Path) -> Iterator[Governance]:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=SteppingClock(),
    )
    yield app
    app.close()


@pytest.fixture
def tokens(governance: Governance) -> dict[str, str]:
    from tests.application.annual_rating_story import set_up_rated_council

    set_up_rated_council(governance)
    governance.register_council("elsewhere", "别处", actor="clerk")
    governance.enroll_member("elsewhere", "e1", "外人", actor="clerk", roles=("street_rater",))
    found = {who: governance.issue_token(RATED, who, actor="clerk") for who in
             ("s1", "s2", "k1", "c1", "m1", "a1")}  # fmt: skip
    found["stranger"] = governance.issue_token("elsewhere", "e1", actor="clerk")
    return found


@pytest.fixture
def client(governance: Governance) -> Iterator[TestClient]:
    with TestClient(create_api(governance, None, ProcedureLibrary(WORKFLOWS))) as test_client:
        yield test_client


def as_(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def evidence(criterion: str) -> list[dict[str, str]]:
    return [
        {"kind": kind, "sha256": hashlib.sha256(kind.encode()).hexdigest(), "note": "已查阅"}
        for kind in preset().criterion(criterion).required_kinds
    ]


def score(criterion: str, points: Any) -> dict[str, Any]:
    return {"criterion": criterion, "score": points, "evidence": evidence(criterion)}


def test_a_year_over_http(
    client: TestClient, tokens: dict[str, str], governance: Governance
) -> None:
    """Open, score, publish, object, uphold, score again, revise: the list and the year show
    the revised grade; the objection's answer names it upheld."""
    opened = client.post(V1, headers=as_(tokens, "s1"), json={"year": YEAR})
    assert opened.status_code == 201, opened.text
    assert opened.json()["panel"] == ["s1", "s2"] and opened.json()["status"] == "open"
    for rater in ("s1", "s2"):
        for criterion in preset().criteria:
            body = score(criterion.id, "88.0" if rater == "s1" else 88)
            answer = client.post(f"{V1}/{YEAR}/scores", headers=as_(tokens, rater), json=body)
            assert answer.status_code == 201, answer.text
    published = client.post(f"{V1}/{YEAR}/publish", headers=as_(tokens, "s2"))
    assert published.status_code == 200, published.text
    notice_id = published.json()["notice_id"]
    objected = client.post(
        f"{V1}/{YEAR}/objections", headers=as_(tokens, "m1"), json={"text": "漏查财务台账"}
    )
    assert objected.status_code == 201 and objected.json() == {"objection_no": 1}
    upheld = client.post(
        f"{V1}/{YEAR}/objections/1/answer",
        headers=as_(tokens, "s1"),
        json={"reply": "异议成立", "upheld": True},
    )
    assert upheld.json() == {"upheld": True}
    for rater in ("s1", "s2"):
        again = client.post(
            f"{V1}/{YEAR}/scores", headers=as_(tokens, rater), json=score("finances", "98")
        )
        assert again.status_code == 201, again.text
    revised = client.post(f"{V1}/{YEAR}/revise", headers=as_(tokens, "s1"))
    assert revised.status_code == 200, revised.text
    assert (revised.json()["grade_label"], revised.json()["score"]) == ("好", "90.00")
    listed = client.get(V1, headers=as_(tokens, "a1")).json()
    assert [(r["year"], r["grade"], r["revisions"]) for r in listed] == [(YEAR, "good", 1)]
    year = client.get(f"{V1}/{YEAR}", headers=as_(tokens, "m1")).json()
    assert year["notice_id"] == notice_id and year["status"] == "published"
    assert {c["id"]: c["mean"] for c in year["criteria"]}["finances"] == "98.00"


def test_refusals_over_http(
    client: TestClient, tokens: dict[str, str], governance: Governance
) -> None:
    """Each refusal answers with its code and records nothing."""
    log = governance.recorder

    def refused(who: str, path: str, body: Any, status: int, code: str) -> None:
        before = log.max_notification_id()
        answer = client.post(path, headers=as_(tokens, who), json=body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
        assert log.max_notification_id() == before

    forbidden = (403, "auth.forbidden")
    for who in ("k1", "c1", "m1", "a1", "stranger"):  # not the street office's raters here
        refused(who, V1, {"year": YEAR}, *forbidden)
    assert client.post(V1, json={"year": YEAR}).status_code == 401
    assert client.post(V1, headers=as_(tokens, "s1"), json={"year": YEAR}).status_code == 201
    scores = f"{V1}/{YEAR}/scores"
    governance.enroll_member(RATED, "s3", "新评定员", actor="clerk", roles=("street_rater",))
    tokens["s3"] = governance.issue_token(RATED, "s3", actor="clerk")
    refused("s3", scores, score("finances", 80), 403, "annual_rating.unknown_rater")
    no_evidence = {"criterion": "finances", "score": 80}
    refused("s1", scores, no_evidence, 422, "annual_rating.evidence_missing")
    for bad in (-1, 100.5, "85.25", "NaN"):
        refused("s1", scores, score("finances", bad), 422, "input.invalid")
    refused("c1", scores, score("finances", 80), *forbidden)
    assert (
        client.post(scores, headers=as_(tokens, "s1"), json=score("finances", 80)).status_code
        == 201
    )
    refused("s1", scores, score("finances", 81), 409, "annual_rating.already_scored")
    refused("s2", f"{V1}/{YEAR}/publish", None, 409, "annual_rating.incomplete")
    refused("m1", f"{V1}/{YEAR}/objections", {"text": "异议"}, 409, "annual_rating.state")
    missing = client.get(f"{V1}/2031", headers=as_(tokens, "m1"))
    assert missing.status_code == 404
    assert client.get(f"{V1}/{YEAR}", headers=as_(tokens, "stranger")).status_code == 403
