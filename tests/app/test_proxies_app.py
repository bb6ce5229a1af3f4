"""Proxies (委托) in the members' app: an owner appoints a proxy with the 委托书 scan (kept by
its sha256), the proxy votes for them with a second vote form, the owner's own vote overrides
it, a proxy over its cap and a revocation after use are refused, and the item page and the
board show how many counted ballots came by proxy."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from govflow.domain.ids import issue_id
from govflow.domain.issue import VotingTallied
from govflow.domain.proxy import ProxyAppointed, proxy_id
from tests.app.conftest import COUNCIL, SignIn
from tests.orchestration.conftest import CHAIR, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")
OWNERS = "owners-assembly-art278"
SCAN = b"\xff\xd8\xff" + b"a signed proxy form" * 40
NUMBER = 480


async def owners_vote_open(stack: Stack, number: int) -> None:
    procedure = stack.procedures.get(OWNERS, 2)  # the version that allows proxies
    stack.app.propose_issue(COUNCIL, number, "更换电梯", procedure, actor=CHAIR)
    await stack.issues.start(COUNCIL, number, procedure)
    await stack.until(number, lambda s: s.stage == "announce" and s.notice_id is not None)
    await stack.skip_past_deadline(number)
    await stack.until(number, lambda s: s.ballot_key == "resolve#1")


def appointment(stack: Stack, principal: str) -> ProxyAppointed:
    events = stack.app.domain_events(proxy_id(issue_id(COUNCIL, NUMBER), "resolve", principal))
    created = [e for e in events if isinstance(e, ProxyAppointed)][-1]
    return created


async def test_owners_appoint_proxies_who_vote_for_them(
    people: SignIn, stack: Stack, tmp_path: Path
) -> None:
    await owners_vote_open(stack, NUMBER)
    item = f"/app/items/{NUMBER}"
    o1, o2, o3, o4, o5 = [await people(f"o{i}") for i in range(1, 6)]

    page = await o3.get(item)
    assert 'id="proxy"' in page.text and 'name="proxy_form"' in page.text
    sent = await o3.submit(
        f"{item}/proxy", proxy="o2", files={"proxy_form": ("委托书.jpg", SCAN, "image/jpeg")}
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"{item}?done=proxy"
    digest = hashlib.sha256(SCAN).hexdigest()
    assert appointment(stack, "o3").proxy_form_sha256 == digest
    assert (tmp_path / "evidence" / digest).read_bytes() == SCAN  # kept like meeting evidence
    assert "您已委托 业主2 代为投票" in (await o3.get(item)).text

    # o2 stands for o3 already: the preset's cap is one voter per proxy
    over = await o1.submit(
        f"{item}/proxy", proxy="o2", files={"proxy_form": ("委托书.jpg", SCAN, "image/jpeg")}
    )
    assert over.status_code == 409 and 'id="problem"' in over.text
    # without the scan nothing is recorded either
    bare = await o1.submit(f"{item}/proxy", proxy="m1")
    assert bare.status_code == 422
    # o1 appoints m1 and revokes it before m1 votes
    await o1.submit(
        f"{item}/proxy", proxy="m1", files={"proxy_form": ("委托书.jpg", SCAN, "image/jpeg")}
    )
    revoked = await o1.submit(f"{item}/proxy/revoke")
    assert revoked.headers["location"] == f"{item}?done=revoke_proxy"

    # the proxy sees a second vote form for their principal, and uses it
    page = await o2.get(item)
    assert "代 业主3 投票" in page.text and f'action="{item}/vote/for/o3"' in page.text
    voted = await o2.submit(f"{item}/vote/for/o3", choice="yes")
    assert voted.status_code == 303 and voted.headers["location"].startswith("/app/receipts?")
    assert "您已代 业主3 投票" in (await o2.get(item)).text
    # once used the appointment stands: its revocation is refused, recording nothing
    before = stack.app.recorder.max_notification_id()
    late = await o3.submit(f"{item}/proxy/revoke")
    assert late.status_code == 409
    assert stack.app.recorder.max_notification_id() == before
    # the principal's own vote overrides the proxy's
    assert (await o3.submit(f"{item}/vote", choice="no")).status_code == 303

    await o4.submit(
        f"{item}/proxy", proxy="o5", files={"proxy_form": ("委托书.jpg", SCAN, "image/jpeg")}
    )
    assert (await o5.submit(f"{item}/vote/for/o4", choice="yes")).status_code == 303
    await stack.skip_past_deadline(NUMBER)
    # two owners of five take part: no quorum, so the preset votes again (a new round)
    await stack.until(NUMBER, lambda s: s.ballot_key != "resolve#1" or s.stage != "resolve")
    tallied = [
        e
        for e in stack.app.domain_events(issue_id(COUNCIL, NUMBER))
        if isinstance(e, VotingTallied)
    ]
    assert (tallied[0].yes, tallied[0].no, tallied[0].by_proxy) == (1, 1, 1)
    assert "其中委托投票 1 票" in (await o1.get(item)).text
    board = await o1.get(f"/board/{COUNCIL}/issues/{NUMBER}")
    assert "其中委托投票 1 票" in board.text
