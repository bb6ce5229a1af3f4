"""The ``/v1`` routes of proxies for a meeting (委托出席) over a real (SQLite) store through the
API's ASGI interface: a member of the meeting's body appoints another to attend for them (or
the clerk records a paper 委托书), before attendance, within the procedure's cap; attendance
counts the member through the proxy who attended, and the meeting's record says so.

The procedure is the application test's owners' meeting (a named vote by meeting allowing one
member per proxy); no workflow service: these acts are the door's and the record's."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.application.specimens import SteppingClock
from govflow.domain.access import HolderKind, Scope
from govflow.domain.council import Body
from govflow.domain.ids import issue_id
from govflow.entrypoints.api import create_api
from tests.application.scenario import COUNCIL, set_up_council
from tests.application.test_meeting_proxies import OWNERS_MEETING

V1 = f"/v1/councils/{COUNCIL}/meetings"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """Meeting 1 of the owners' assembly (o1, o2 and o3) decides item 1 under the owners'
    meeting procedure; meeting 2 is of no item. k1 is the clerk, au an auditor; e1 is of
    another council."""
    app = Governance(
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.db"),
        },
        clock=SteppingClock(),
    )
    set_up_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    app.enroll_member(COUNCIL, "au", "审计员", actor="clerk", roles=("auditor",))
    app.register_council("elsewhere", "别处", actor="clerk")
    app.enroll_member("elsewhere", "e1", "外人", actor="clerk", roles=("clerk",))
    (tmp_path / "procedures").mkdir()
    (tmp_path / "procedures" / "owners-meeting.v1.yaml").write_text(
        OWNERS_MEETING, encoding="utf-8"
    )
    library = ProcedureLibrary(tmp_path / "procedures")
    procedure = library.get("owners-meeting")
    app.propose_issue(COUNCIL, 1, "更换电梯", procedure, actor="o1")
    for number, item in ((1, issue_id(COUNCIL, 1)), (2, None)):
        app.schedule_meeting(
            COUNCIL, number, Body.OWNERS_ASSEMBLY, "业主大会会议", f"会议{number}",
            scheduled_for=app.now() + timedelta(days=15), notice_days_required=0,
            rule=procedure.rules["ordinary"], actor="clerk", issue_id=item,
        )  # fmt: skip
    with TestClient(create_api(app, None, library)) as test_client:
        yield test_client
    app.close()


def as_(client: TestClient, who: str, council: str = COUNCIL) -> dict[str, str]:
    app: Governance = client.app.state.governance  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {app.issue_token(council, who, actor='clerk')}"}


def integration(client: TestClient) -> dict[str, str]:
    """An integration's token with the read scope (integrations write none of these)."""
    app: Governance = client.app.state.governance  # type: ignore[attr-defined]
    token = app.issue_token(
        COUNCIL, "dashboard", kind=HolderKind.INTEGRATION, scopes=(Scope.READ,), actor="clerk"
    )
    return {"Authorization": f"Bearer {token}"}


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def form(proxy: str, **more: str) -> dict[str, str]:
    return {"proxy": proxy, "proxy_form_sha256": sha(f"委托书 {proxy}"), **more}


def seen(client: TestClient, headers: dict[str, str]) -> list[tuple[str, str, bool]]:
    response = client.get(f"{V1}/1/proxies", headers=headers)
    assert response.status_code == 200, response.text
    return [(a["principal"], a["proxy"], a["used"]) for a in response.json()["appointments"]]


def test_a_member_attends_through_a_proxy_appointed_over_the_api(client: TestClient) -> None:
    o1, o2, o3, clerk = (as_(client, who) for who in ("o1", "o2", "o3", "k1"))
    appointed = client.post(f"{V1}/1/proxies", headers=o3, json=form("o2"))
    assert appointed.status_code == 201, appointed.text
    assert uuid.UUID(appointed.json()["appointment_id"])

    # the principal and the proxy see it; another member does not; the clerk and auditors do
    assert seen(client, o3) == seen(client, o2) == [("o3", "o2", False)]
    assert seen(client, o1) == []
    assert seen(client, clerk) == seen(client, as_(client, "au")) == [("o3", "o2", False)]
    refused(client.get(f"{V1}/1/proxies", headers=as_(client, "e1", "elsewhere")), 403,
            "auth.forbidden")  # fmt: skip
    refused(client.get(f"{V1}/9/proxies", headers=clerk), 404, "not_found")

    # over the cap (one member per proxy), for oneself, for another member: refused
    over = refused(client.post(f"{V1}/1/proxies", headers=o1, json=form("o2")), 409,
                   "rule.violation")  # fmt: skip
    assert over["details"]["cap"] == 1
    refused(client.post(f"{V1}/1/proxies", headers=o1, json=form("o1")), 409, "rule.violation")
    refused(client.post(f"{V1}/1/proxies", headers=o2, json=form("o3", principal="o1")), 403,
            "auth.forbidden")  # fmt: skip
    for stranger in (as_(client, "au"), as_(client, "e1", "elsewhere"), integration(client)):
        refused(client.post(f"{V1}/1/proxies", headers=stranger,
                            json=form("o3", principal="o1")), 403, "auth.forbidden")  # fmt: skip
        refused(client.post(f"{V1}/1/proxies/revoke", headers=stranger,
                            json={"principal": "o3"}), 403, "auth.forbidden")  # fmt: skip
    refused(client.post(f"{V1}/1/proxies", headers=o1, json={"proxy": "o3"}), 422,
            "input.invalid")  # fmt: skip
    # a meeting of no item has no procedure allowing proxies
    no_item = refused(client.post(f"{V1}/2/proxies", headers=o1, json=form("o3")), 409,
                      "rule.violation")  # fmt: skip
    assert "does not allow proxies" in no_item["detail"]

    # the clerk records a paper 委托书 for o1; o1 revokes it; a revocation for another is not
    paper = client.post(f"{V1}/1/proxies", headers=clerk, json=form("o3", principal="o1"))
    assert paper.status_code == 201, paper.text
    assert ("o1", "o3", False) in seen(client, clerk)
    revoked = client.post(f"{V1}/1/proxies/revoke", headers=o1, json={"reason": "本人到场"})
    assert revoked.status_code == 200 and revoked.json() == {"revoked": True}
    refused(client.post(f"{V1}/1/proxies/revoke", headers=o1, json={}), 409, "rule.violation")
    refused(client.post(f"{V1}/1/proxies/revoke", headers=o2, json={}), 404, "not_found")
    refused(client.post(f"{V1}/1/proxies/revoke", headers=o2, json={"principal": "o3"}), 403,
            "auth.forbidden")  # fmt: skip
    assert seen(client, clerk) == [("o3", "o2", False)]

    # before attendance the meeting's record names no proxy
    assert client.get(f"{V1}/1", headers=o1).json()["by_proxy"] == {}
    # o2 attends, o3 does not: o3 attends through o2, and the record says so
    attended = client.post(f"{V1}/1/attendance", headers=clerk, json={"present": ["o2"]})
    assert attended.status_code == 200 and attended.json() == {"quorum_met": True}
    meeting = client.get(f"{V1}/1", headers=o1).json()
    assert (meeting["present"], meeting["by_proxy"]) == (1, {"o3": "o2"})
    assert seen(client, clerk) == [("o3", "o2", True)]

    # after attendance: no appointment, and no revocation of the used one, records anything
    app: Governance = client.app.state.governance  # type: ignore[attr-defined]
    before = app.recorder.max_notification_id()
    refused(client.post(f"{V1}/1/proxies", headers=o1, json=form("o3")), 409,
            "meeting.invalid_state")  # fmt: skip
    late = client.post(f"{V1}/1/proxies/revoke", headers=o3, json={})
    assert late.status_code == 409, late.text
    assert app.recorder.max_notification_id() == before
