"""The ``/v1`` routes of assemblies as they really run: proxies (委托), paper ballots (纸质选票)
confirmed by a scrutineer (监票人), and written consultation (书面征求意见), over a real (SQLite)
store through the API's ASGI interface; the extension through the real dev server.

The procedures are defined here, each vote stage named (记名): a secret vote takes no proxies,
paper ballots or written consultation."""

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
from govflow.domain.issue import StageOutcome
from govflow.entrypoints.api import create_api
from tests.application.scenario import COUNCIL, set_up_council
from tests.orchestration.conftest import CHAIR, Stack, env, stack

__all__ = ["env", "stack"]  # the dev server's fixtures, for the extension test

RESIDENTS = ("a1", "a2", "a3", "a4", "a5")
PROPOSE = """
  - id: propose
    kind: propose
    title: 提议
    body: owners_committee
    duration: {days: 0}"""
PROCEDURES = {
    "assembly-proxies": f"""
name: assembly-proxies
version: 1
title: 业主表决·委托 (owners' vote with proxies)
sources: [{{title: local rules of procedure, note: one other owner per proxy}}]
rules:
  ordinary:
    quorum: {{fraction: "2/3", comparison: at_least, base: members_of_record}}
    passes: {{fraction: "1/2", comparison: more_than, base: participating}}
stages:{PROPOSE}
  - id: resolve
    kind: vote
    title: 业主表决
    body: owners_assembly
    rule: ordinary
    vote_by: ballots
    ballot: named
    duration: {{days: 30}}
    proxies: {{allowed: true, cap: 1}}
""",
    "assembly-paper": f"""
name: assembly-paper
version: 1
title: 居民会议·纸质选票 (residents' assembly with paper ballots)
sources: [{{title: residents' assembly practice, note: paper ballots beside online ones}}]
rules:
  assembly:
    quorum: {{fraction: "1/2", comparison: more_than, base: members_of_record}}
    passes: {{fraction: "1/2", comparison: more_than, base: present}}
stages:{PROPOSE}
  - id: resolve
    kind: vote
    title: 居民会议表决
    body: residents_assembly
    rule: assembly
    vote_by: ballots
    ballot: named
    duration: {{days: 30}}
    paper: {{allowed: true, wins: paper}}
""",
    "assembly-written": f"""
name: assembly-written
version: 1
title: 业主共同决定·书面征求意见 (owners' decision by written consultation)
sources: [{{title: 业主大会和业主委员会指导规则, article: Art. 22}}]
rules:
  ordinary:
    quorum: {{fraction: "2/3", comparison: at_least, base: members_of_record}}
    passes: {{fraction: "1/2", comparison: more_than, base: participating}}
stages:{PROPOSE}
  - id: resolve
    kind: vote
    title: 书面征求意见
    body: owners_assembly
    rule: ordinary
    vote_by: ballots
    ballot: named
    duration: {{days: 30}}
    written_consultation: {{extension_cap_days: 90}}
""",
}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def library_in(directory: Path) -> ProcedureLibrary:
    directory.mkdir(exist_ok=True)
    for name, text in PROCEDURES.items():
        (directory / f"{name}.v1.yaml").write_text(text, encoding="utf-8")
    return ProcedureLibrary(directory)


def open_vote(
    app: Governance, library: ProcedureLibrary, number: int, name: str, body: Body
) -> None:
    """Item ``number`` under procedure ``name`` at its named vote by ballots, open 30 days."""
    procedure = library.get(name)
    app.propose_issue(COUNCIL, number, f"议题{number}", procedure, actor="o1")
    app.open_stage(COUNCIL, number, "propose", deadline=None, actor="system")
    app.close_stage(COUNCIL, number, "propose", StageOutcome.COMPLETED, actor="system")
    closes = app.now() + timedelta(days=30)
    app.open_stage(COUNCIL, number, "resolve", deadline=closes, actor="system")
    app.open_voting(
        COUNCIL, number, "resolve", body=body, rule=procedure.rules[procedure.stages[1].rule or ""],
        closes_at=closes, actor="system", secret=False,
    )  # fmt: skip


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """Item 1 voting with proxies, item 2 with paper ballots, item 3 by written consultation;
    k1 is the clerk, au an auditor, a1 chairs the residents' assembly; e1 is of another
    council. No workflow service: these acts are the door's and the record's."""
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
    for resident in RESIDENTS:
        app.enroll_member(
            COUNCIL, resident, f"居民{resident}", actor="clerk", bodies=(Body.RESIDENTS_ASSEMBLY,),
            chairs=(Body.RESIDENTS_ASSEMBLY,) if resident == "a1" else (),
        )  # fmt: skip
    app.register_council("elsewhere", "别处", actor="clerk")
    app.enroll_member("elsewhere", "e1", "外人", actor="clerk", roles=("clerk",))
    library = library_in(tmp_path / "procedures")
    open_vote(app, library, 1, "assembly-proxies", Body.OWNERS_ASSEMBLY)
    open_vote(app, library, 2, "assembly-paper", Body.RESIDENTS_ASSEMBLY)
    open_vote(app, library, 3, "assembly-written", Body.OWNERS_ASSEMBLY)
    with TestClient(create_api(app, None, library)) as test_client:
        yield test_client
    app.close()


def as_(client: TestClient, who: str, council: str = COUNCIL) -> dict[str, str]:
    app: Governance = client.app.state.governance  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {app.issue_token(council, who, actor='clerk')}"}


def integration(app: Governance, council: str = COUNCIL) -> dict[str, str]:
    """An integration's token with the read scope (integrations write none of these)."""
    token = app.issue_token(
        council, "dashboard", kind=HolderKind.INTEGRATION, scopes=(Scope.READ,), actor="clerk"
    )
    return {"Authorization": f"Bearer {token}"}


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


V1 = f"/v1/councils/{COUNCIL}/issues"


def test_a_proxy_is_appointed_votes_for_the_voter_and_is_refused_beyond_the_rules(
    client: TestClient,
) -> None:
    o1, o2, o3 = (as_(client, who) for who in ("o1", "o2", "o3"))
    appointed = client.post(
        f"{V1}/1/proxies", headers=o3, json={"proxy": "o2", "proxy_form_sha256": sha("委托书 o3")}
    )
    assert appointed.status_code == 201, appointed.text
    assert uuid.UUID(appointed.json()["appointment_id"])

    # each voter sees the appointments they made or hold; the clerk and auditors see all
    mine = client.get(f"{V1}/1/proxies", headers=o3).json()
    assert mine["stage"] == "resolve"
    assert [(a["principal"], a["proxy"], a["used"]) for a in mine["appointments"]] == [
        ("o3", "o2", False)
    ]
    assert client.get(f"{V1}/1/proxies", headers=o1).json()["appointments"] == []
    for who in ("k1", "au"):
        seen = client.get(f"{V1}/1/proxies", headers=as_(client, who)).json()
        assert [a["principal"] for a in seen["appointments"]] == ["o3"], who
    refused(client.get(f"{V1}/1/proxies", headers=as_(client, "e1", "elsewhere")), 403,
            "auth.forbidden")  # fmt: skip

    # the proxy votes for the voter over the API; nobody votes for a voter without one
    ballot = client.post(f"{V1}/1/ballots", headers=o2, json={"choice": "yes", "for_member": "o3"})
    assert ballot.status_code == 201, ballot.text
    assert ballot.json()["ballot_key"] == "resolve#1"
    assert "choice" not in ballot.json()
    refused(client.post(f"{V1}/1/ballots", headers=o1, json={"choice": "no", "for_member": "o2"}),
            409, "rule.violation")  # fmt: skip
    assert client.get(f"{V1}/1/proxies", headers=o3).json()["appointments"][0]["used"] is True

    # over the cap (one voter per proxy), for oneself, for another member: refused
    over = refused(
        client.post(f"{V1}/1/proxies", headers=o1,
                    json={"proxy": "o2", "proxy_form_sha256": sha("委托书 o1")}),
        409, "rule.violation",
    )  # fmt: skip
    assert over["details"]["cap"] == 1
    refused(client.post(f"{V1}/1/proxies", headers=o1,
                        json={"proxy": "o1", "proxy_form_sha256": sha("x")}),
            409, "rule.violation")  # fmt: skip
    refused(client.post(f"{V1}/1/proxies", headers=o2,
                        json={"proxy": "o2", "principal": "o1", "proxy_form_sha256": sha("x")}),
            403, "auth.forbidden")  # fmt: skip
    for stranger in (as_(client, "au"), as_(client, "e1", "elsewhere")):
        refused(client.post(f"{V1}/1/proxies", headers=stranger,
                            json={"proxy": "o2", "principal": "o1", "proxy_form_sha256": sha("x")}),
                403, "auth.forbidden")  # fmt: skip
    refused(client.post(f"{V1}/1/proxies", headers=o1, json={"proxy": "o3"}), 422,
            "input.invalid")  # fmt: skip

    # the clerk records a paper 委托书 for o1; it is revoked before use; a used one is not
    clerk = as_(client, "k1")
    paper_form = {"proxy": "o3", "principal": "o1", "proxy_form_sha256": sha("委托书 o1")}
    assert client.post(f"{V1}/1/proxies", headers=clerk, json=paper_form).status_code == 201
    revoked = client.post(f"{V1}/1/proxies/revoke", headers=o1, json={"reason": "本人到场"})
    assert revoked.status_code == 200 and revoked.json() == {"revoked": True}
    refused(client.post(f"{V1}/1/proxies/revoke", headers=o3, json={}), 409, "rule.violation")
    refused(client.post(f"{V1}/1/proxies/revoke", headers=o2, json={"principal": "o3"}), 403,
            "auth.forbidden")  # fmt: skip
    seen = client.get(f"{V1}/1/proxies", headers=clerk).json()["appointments"]
    assert [a["principal"] for a in seen] == ["o3"]


def test_a_paper_batch_counts_once_another_member_confirms_it(client: TestClient) -> None:
    clerk, scrutineer = as_(client, "k1"), as_(client, "a4")
    online = client.post(f"{V1}/2/ballots", headers=as_(client, "a5"), json={"choice": "no"})
    assert online.status_code == 201, online.text
    batch = {
        "ballots": [
            {"voter": "a2", "choice": "yes", "scan_sha256": sha("a2")},
            {"voter": "a5", "choice": "yes", "scan_sha256": sha("a5")},
        ]
    }
    entered = client.post(f"{V1}/2/paper-batches", headers=clerk, json=batch)
    assert entered.status_code == 201 and entered.json() == {"batch": 1}, entered.text

    # pending: who is in it, never what they chose
    listed = client.get(f"{V1}/2/paper-batches", headers=scrutineer)
    assert listed.status_code == 200, listed.text
    assert listed.json()["batches"] == [
        {"number": 1, "entered_by": "k1", "confirmed_by": None, "voters": ["a2", "a5"]}
    ]
    assert "yes" not in listed.text and "choice" not in listed.text

    # the one who entered it cannot confirm it; another member can, once
    refused(client.post(f"{V1}/2/paper-batches/1/confirm", headers=clerk), 409, "rule.violation")
    confirmed = client.post(f"{V1}/2/paper-batches/1/confirm", headers=scrutineer)
    assert confirmed.status_code == 200 and confirmed.json() == {"confirmed": 2}
    refused(client.post(f"{V1}/2/paper-batches/1/confirm", headers=as_(client, "a3")), 409,
            "rule.violation")  # fmt: skip
    refused(client.post(f"{V1}/2/paper-batches/9/confirm", headers=scrutineer), 404, "not_found")
    listed = client.get(f"{V1}/2/paper-batches", headers=scrutineer).json()
    assert listed["batches"][0]["confirmed_by"] == "a4"
    assert listed["refused"] == [{"voter": "a5", "refused": "online"}]  # paper wins here

    # the chair of the voting body enters too, once per Idempotency-Key
    chair = {**as_(client, "a1"), "Idempotency-Key": "box-2"}
    second = {"ballots": [{"voter": "a3", "choice": "no", "scan_sha256": sha("a3")}]}
    first = client.post(f"{V1}/2/paper-batches", headers=chair, json=second)
    again = client.post(f"{V1}/2/paper-batches", headers=chair, json=second)
    assert first.status_code == again.status_code == 201 and first.json() == {"batch": 2}
    assert again.json() == {"batch": 2}
    assert len(client.get(f"{V1}/2/paper-batches", headers=clerk).json()["batches"]) == 2

    # a voter already in a batch, a member who is neither clerk nor chair, the auditor and
    # another council are refused; the auditor does not see the batches either
    refused(client.post(f"{V1}/2/paper-batches", headers=clerk, json=second), 409,
            "already_exists")  # fmt: skip
    app: Governance = client.app.state.governance  # type: ignore[attr-defined]
    for headers in (
        as_(client, "a4"),
        as_(client, "au"),
        as_(client, "e1", "elsewhere"),
        integration(app),
    ):
        refused(client.post(f"{V1}/2/paper-batches", headers=headers, json=second), 403,
                "auth.forbidden")  # fmt: skip
    for who, council in (("au", COUNCIL), ("e1", "elsewhere")):
        headers = as_(client, who, council)
        refused(client.post(f"{V1}/2/paper-batches/2/confirm", headers=headers), 403,
                "auth.forbidden")  # fmt: skip
        refused(client.get(f"{V1}/2/paper-batches", headers=headers), 403, "auth.forbidden")
    refused(
        client.post(f"{V1}/1/paper-batches", headers=clerk, json=second), 409, "rule.violation"
    )  # fmt: skip  (item 1's vote takes no paper ballots)


def test_a_consultation_reply_counts_only_signed(client: TestClient) -> None:
    o1, o2 = as_(client, "o1"), as_(client, "o2")
    signed = {"choice": "yes", "signature_sha256": sha("signed form o1")}
    reply = client.post(f"{V1}/3/consultation/replies", headers=o1, json=signed)
    assert reply.status_code == 201, reply.text
    receipt = reply.json()
    assert receipt["ballot_key"] == "resolve#1" and "choice" not in receipt
    check = client.get(
        f"{V1}/3/receipts/{receipt['ballot_id']}",
        params={"notification_id": receipt["notification_id"]},
        headers=o1,
    )
    assert check.status_code == 200 and check.json()["in_log"] is True

    refused(client.post(f"{V1}/3/consultation/replies", headers=o2, json={"choice": "no"}), 422,
            "input.invalid")  # fmt: skip
    refused(client.post(f"{V1}/3/ballots", headers=o2, json={"choice": "no"}), 409,
            "consultation.signature_required")  # fmt: skip
    refused(client.post(f"{V1}/3/consultation/replies", headers=o1, json=signed), 409,
            "ballot.double_vote")  # fmt: skip
    refused(
        client.post(f"{V1}/1/consultation/replies", headers=o2, json=signed), 422, "input.invalid"
    )  # fmt: skip  (item 1's vote is not a written consultation)

    # the clerk enters a paper reply for a voter; nobody else may
    paper = {"choice": "no", "signature_sha256": sha("signed form o3"), "voter": "o3"}
    refused(client.post(f"{V1}/3/consultation/replies", headers=o2, json=paper), 403,
            "auth.forbidden")  # fmt: skip
    for who, council in (("au", COUNCIL), ("e1", "elsewhere")):
        refused(client.post(f"{V1}/3/consultation/replies", headers=as_(client, who, council),
                            json=signed), 403, "auth.forbidden")  # fmt: skip
    entered = client.post(f"{V1}/3/consultation/replies", headers=as_(client, "k1"), json=paper)
    assert entered.status_code == 201, entered.text

    # who was sent the form, and how: the clerk and auditors only (no notifier ran here)
    for who in ("k1", "au"):
        forms = client.get(f"{V1}/3/consultation/deliveries", headers=as_(client, who))
        assert forms.status_code == 200, forms.text
        assert forms.json()["not_addressed"] == ["o1", "o2", "o3"]
    refused(client.get(f"{V1}/3/consultation/deliveries", headers=o2), 403, "auth.forbidden")


@pytest.mark.asyncio(loop_scope="session")
async def test_the_chair_extends_a_consultation_within_its_cap(
    stack: Stack, tmp_path: Path
) -> None:
    """Through the workflow (item 1100 on the dev server): the chair extends by 30 of the 90
    days; 61 more are over the cap; an owner, the auditor, an integration and another council
    are refused."""
    from tests.orchestration.conftest import COUNCIL as XINHUA

    app = stack.app
    app.enroll_member(XINHUA, "au", "审计员", actor="clerk", roles=("auditor",))
    app.register_council("elsewhere", "别处", actor="clerk")
    app.enroll_member("elsewhere", "e1", "外人", actor="clerk", roles=("clerk",))
    library = library_in(tmp_path / "procedures")
    api = create_api(app, stack.issues, library)

    def token(who: str, council: str = XINHUA) -> dict[str, str]:
        return {"Authorization": f"Bearer {app.issue_token(council, who, actor='clerk')}"}

    items = f"/v1/councils/{XINHUA}/issues"
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://govflow") as client:
        proposed = await client.post(
            items, headers=token(CHAIR),
            json={"number": 1100, "title": "加装电梯", "procedure": "assembly-written"},
        )  # fmt: skip
        assert proposed.status_code == 201, proposed.text
        first = (await stack.until(1100, lambda s: s.ballot_key == "resolve#1")).deadline
        assert first is not None

        extend = f"{items}/1100/consultation/extend"
        moved = await client.post(extend, headers=token(CHAIR), json={"days": 30})
        assert moved.status_code == 200, moved.text
        assert moved.json() == {"closes_at": (first + timedelta(days=30)).isoformat()}
        over = await client.post(extend, headers=token(CHAIR), json={"days": 61})
        refused(over, 409, "consultation.extension_over_cap")
        strangers = (token("o2"), token("au"), token("e1", "elsewhere"), integration(app, XINHUA))
        for headers in strangers:
            response = await client.post(extend, headers=headers, json={"days": 1})
            refused(response, 403, "auth.forbidden")
        refused(await client.post(extend, headers=token(CHAIR), json={"days": 0}), 422,
                "input.invalid")  # fmt: skip
        assert (await stack.issues.status(XINHUA, 1100)).deadline == first + timedelta(days=30)
        await stack.issues.handle(XINHUA, 1100).terminate("test over")
