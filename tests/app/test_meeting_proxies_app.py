"""Proxies for a meeting (委托出席) in the members' app: on the meeting's page an owner appoints
another owner to attend for them with the 委托书's scan (kept by its sha256) and may revoke
it, the clerk records a paper 委托书 for a member, each sees the appointments they may (the
clerk all, others their own), and once attendance is taken the page says how many attended
through a proxy (the clerk, for whom). The page's forms ask the policy; the door decides.

The meeting decides an item under the application test's owners' meeting procedure (a named
vote by meeting allowing one member per proxy); no workflow runs: these acts are the door's
and the record's, so the app is served over a store alone, as in ``test_meetings_app``."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.council import Body
from govflow.domain.ids import issue_id, meeting_id
from govflow.domain.procedure import Proxies
from govflow.domain.proxy import ProxyAppointed, meeting_proxy_id
from govflow.entrypoints.api import create_api
from tests.a11y import check_async
from tests.app.browser import chromium, free_base_url, live, signed_in_phone
from tests.app.conftest import COUNCIL, Person, SignIn, _people
from tests.application.test_meeting_proxies import OWNERS_MEETING
from tests.orchestration.conftest import enroll_council

pytestmark = pytest.mark.asyncio(loop_scope="session")

SCAN = b"\xff\xd8\xff" + b"a signed proxy form to attend" * 40
ITEM = 1500  # no workflow starts for it; a number of this test's range all the same
PAGE = "/app/meetings/1"


def owners_meeting(tmp_path: Path) -> tuple[Governance, ProcedureLibrary]:
    """Meeting 1 of the owners' assembly (o1..o5) decides item 1500 under the owners' meeting
    procedure; meeting 2 is of no item. k1 is the clerk, au an auditor."""
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    )
    enroll_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    app.enroll_member(COUNCIL, "au", "审计员", actor="clerk", roles=("auditor",))
    (tmp_path / "procedures").mkdir()
    (tmp_path / "procedures" / "owners-meeting.v1.yaml").write_text(
        OWNERS_MEETING, encoding="utf-8"
    )
    library = ProcedureLibrary(tmp_path / "procedures")
    procedure = library.get("owners-meeting")
    app.propose_issue(COUNCIL, ITEM, "更换电梯", procedure, actor="o1")
    for number, item in ((1, issue_id(COUNCIL, ITEM)), (2, None)):
        app.schedule_meeting(
            COUNCIL, number, Body.OWNERS_ASSEMBLY, "业主大会会议", f"会议{number}",
            scheduled_for=app.now() + timedelta(days=15), notice_days_required=0,
            rule=procedure.rules["ordinary"], actor="clerk", issue_id=item,
        )  # fmt: skip
    return app, library


@pytest_asyncio.fixture(loop_scope="session")
async def owners(tmp_path: Path) -> AsyncIterator[tuple[Governance, SignIn, Path]]:
    """The app over :func:`owners_meeting`'s store, with an evidence store."""
    app, library = owners_meeting(tmp_path)
    evidence = tmp_path / "evidence"
    api = create_api(app, None, library, evidence_dir=evidence)
    async for sign_in in _people(api, app):
        yield app, sign_in, evidence
    app.close()


async def appoint(person: Person, proxy: str, page: str = PAGE, **more: str) -> httpx.Response:
    files = {"proxy_form": ("委托书.jpg", SCAN, "image/jpeg")}
    return await person.submit(f"{page}/proxy", files=files, proxy=proxy, **more)


def appointment(app: Governance, principal: str) -> ProxyAppointed:
    events = app.domain_events(meeting_proxy_id(meeting_id(COUNCIL, 1), principal))
    found: ProxyAppointed = [e for e in events if isinstance(e, ProxyAppointed)][-1]
    return found


async def test_owners_appoint_proxies_to_attend_and_attendance_counts_them(
    owners: tuple[Governance, SignIn, Path],
) -> None:
    app, sign_in, evidence = owners
    o1, o2, o3, o4 = [await sign_in(f"o{i}") for i in range(1, 5)]
    clerk, m1 = await sign_in("k1"), await sign_in("m1")

    page = (await o3.get(PAGE)).text
    assert 'id="proxies"' in page and "委托他人出席" in page and 'name="proxy_form"' in page
    assert 'id="paper-proxy"' not in page and "尚无委托" in page
    sent = await appoint(o3, "o2")
    assert sent.status_code == 303 and sent.headers["location"] == f"{PAGE}?done=proxy"
    digest = hashlib.sha256(SCAN).hexdigest()
    assert appointment(app, "o3").proxy_form_sha256 == digest
    assert (evidence / digest).read_bytes() == SCAN  # kept like the meeting's evidence
    page = (await o3.get(sent.headers["location"])).text
    assert "委托已记录" in page and "您已委托 业主2 代为出席" in page
    assert 'id="appoint-proxy"' not in page and f'action="{PAGE}/proxy/revoke"' in page
    assert "业主3 委托 业主2 代为出席" in page
    # the proxy sees what they hold; another owner sees nothing of it
    assert "业主3 委托 业主2 代为出席" in (await o2.get(PAGE)).text
    assert "业主3 委托 业主2" not in (await o4.get(PAGE)).text
    # in English
    english = (await o3.get(f"{PAGE}?lang=en")).text
    assert "业主2 will attend for you." in english and "Attending by proxy" in english

    # o2 stands for o3 already: one member per proxy; without the scan nothing is recorded
    before = app.recorder.max_notification_id()
    over = await appoint(o1, "o2")
    assert over.status_code == 409 and 'id="problem"' in over.text
    assert (await o1.submit(f"{PAGE}/proxy", proxy="o4")).status_code == 422
    # another owner may not appoint for o3, nor revoke o3's appointment
    assert (await appoint(o2, "o4", principal="o3")).status_code == 403
    assert (await o2.submit(f"{PAGE}/proxy/revoke", principal="o3")).status_code == 403
    assert app.recorder.max_notification_id() == before
    # a member of the council not on the owners' roll gets no form
    assert 'id="appoint-proxy"' not in (await m1.get(PAGE)).text

    # the clerk records a paper 委托书 for o1, sees every appointment, and revokes o1's
    page = (await clerk.get(PAGE)).text
    assert 'id="paper-proxy"' in page and 'id="appoint-proxy"' not in page
    assert (await appoint(clerk, "o4", principal="o1")).status_code == 303
    assert appointment(app, "o1").actor == "k1"
    page = (await clerk.get(PAGE)).text
    assert "业主1 委托 业主4 代为出席" in page and "业主3 委托 业主2 代为出席" in page
    revoked = await clerk.submit(f"{PAGE}/proxy/revoke", principal="o1")
    assert revoked.headers["location"] == f"{PAGE}?done=revoke_proxy"
    # o4 appoints o5 and revokes it
    assert (await appoint(o4, "o5")).status_code == 303
    assert (await o4.submit(f"{PAGE}/proxy/revoke")).status_code == 303
    assert list(app.meeting_appointments(COUNCIL, 1)) == ["o3"]

    # o2 and o5 attend, o3 through o2: 3 attend, 1 by proxy (the clerk sees for whom)
    taken = await clerk.client.post(
        f"{PAGE}/attendance", data={"csrf": clerk.csrf, "present": ["o2", "o5"]}
    )
    assert taken.status_code == 303
    page = (await clerk.get(PAGE)).text
    assert "实到 3 人，其中委托出席 1 人" in page and "业主2 代 业主3 出席" in page
    assert "已计入出席" in page and 'id="paper-proxy"' not in page
    page = (await o1.get(PAGE)).text
    assert "实到 3 人，其中委托出席 1 人" in page and "业主2 代 业主3 出席" not in page
    assert 'id="appoint-proxy"' not in page
    assert "3 present, 1 of them by proxy" in (await o1.get(f"{PAGE}?lang=en")).text
    # after attendance: nothing more is appointed or revoked
    before = app.recorder.max_notification_id()
    assert (await appoint(o1, "o4")).status_code == 409
    assert (await o3.submit(f"{PAGE}/proxy/revoke")).status_code == 409
    assert app.recorder.max_notification_id() == before


async def test_a_meeting_of_no_item_shows_no_proxies(
    owners: tuple[Governance, SignIn, Path],
) -> None:
    app, sign_in, _ = owners
    o1 = await sign_in("o1")
    page = await o1.get("/app/meetings/2")
    assert page.status_code == 200 and 'id="proxies"' not in page.text
    refused = await appoint(o1, "o2", page="/app/meetings/2")  # a forged post: the door refuses it
    assert refused.status_code == 409 and 'id="problem"' in refused.text
    assert app.meeting_appointments(COUNCIL, 2) == {}


async def test_the_proxy_forms_pass_axe_on_a_phone(tmp_path: Path) -> None:
    """An owner's form, the clerk's paper form with the appointments, and the count after
    attendance: no serious or critical WCAG 2.1 AA violation on a 390 px phone, in Chinese
    and English, nothing wider than the screen, no script failing."""
    app, library = owners_meeting(tmp_path)
    app.appoint_meeting_proxy(
        COUNCIL, 1, "o3", "o2", hashlib.sha256(SCAN).hexdigest(),
        proxies=Proxies(allowed=True, cap=1), actor="o3",
    )  # fmt: skip
    base = free_base_url()
    api = create_api(app, None, library, evidence_dir=tmp_path / "evidence", public_url=base)
    found: dict[str, list[str]] = {}
    errors: list[str] = []
    async with live(api, base), chromium() as browser:
        tabs: dict[str, Any] = {}
        for who in ("o1", "k1"):
            context = await signed_in_phone(
                browser, base, app.issue_token(COUNCIL, who, actor="clerk")
            )
            tabs[who] = await context.new_page()
            tabs[who].on("pageerror", lambda e: errors.append(str(e)))

        async def check(who: str, name: str, shows: str) -> None:
            for lang in ("zh", "en"):
                answer = await tabs[who].goto(f"{base}{PAGE}?lang={lang}")
                assert answer.status == 200 and await tabs[who].locator(shows).count() == 1
                shot = f"app-{lang}-meeting-proxies-{name}"
                if violations := await check_async(tabs[who], shot):
                    found[shot] = violations

        await check("o1", "owner", "#appoint-proxy")
        await check("k1", "clerk", "#paper-proxy")
        app.record_attendance(COUNCIL, 1, ["o2", "o5"], actor="k1")
        await check("k1", "attended", "#by-proxy")
    app.close()
    assert errors == []
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())
