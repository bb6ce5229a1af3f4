"""The members' app attacked: by an outsider, a member of another council, a plain member
trying to act as the clerk, and a web page the signed-in member visits. Every refusal leaves
no event behind.

The app here runs over a SQLite store without workflows (the roll, meetings, sign-in,
contacts); people hold person tokens in the ``gf_session`` cookie as a signed-in browser does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller

from govflow.application import Governance
from govflow.application.notification_channels import (
    DeliveryError,
    EmailChannel,
    Message,
    SmtpConfig,
)
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.invitation import invitation_uuid
from govflow.entrypoints.api import create_api
from govflow.entrypoints.app.session import CSRF_FIELD, SESSION_COOKIE, csrf_of
from tests.notifications.conftest import Mailbox, free_port
from tests.orchestration.conftest import COUNCIL, WORKFLOWS, enroll_council

pytestmark = pytest.mark.asyncio(loop_scope="session")

PUBLIC_URL = "https://gov.example"
OTHER = "qinghe"
RULE = "party-members-assembly:party_members_assembly"
SHEET = b"%PDF-1.4 the scanned sign-in sheet"


@dataclass
class Browser:
    """A signed-in browser: its session token and an httpx client carrying the cookie."""

    token: str
    client: httpx.AsyncClient

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def submit(self, path: str, files: Any = None, **fields: str) -> httpx.Response:
        return await self.client.post(
            path, data={CSRF_FIELD: csrf_of(self.token), **fields}, files=files
        )


@dataclass
class Site:
    """Two councils: the test council (clerk ``k1``, chair ``c1``, members ``m1``..) and
    ``qinghe`` (clerk ``q1``, member ``q2``)."""

    app: Governance
    transport: httpx.ASGITransport
    evidence: Path
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        made = httpx.AsyncClient(transport=self.transport, base_url=PUBLIC_URL, **kwargs)
        self.clients.append(made)
        return made

    def signed_in(self, member: str, council: str = COUNCIL) -> Browser:
        token = self.app.issue_token(council, member, actor="clerk")
        browser = self.client()
        browser.cookies.set(SESSION_COOKIE, token)
        return Browser(token, browser)

    def events(self) -> int:
        return self.app.recorder.max_notification_id() or 0


@pytest_asyncio.fixture(loop_scope="session")
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    )
    enroll_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    app.register_council(OTHER, "清河社区", actor="clerk")
    app.enroll_member(OTHER, "q1", "清河书记员", actor="clerk", roles=("clerk",))
    app.enroll_member(OTHER, "q2", "清河成员", actor="clerk")
    evidence = tmp_path / "evidence"
    api = create_api(
        app, None, ProcedureLibrary(WORKFLOWS), evidence_dir=evidence, public_url=PUBLIC_URL
    )
    built = Site(app, httpx.ASGITransport(app=api), evidence)
    yield built
    for client in built.clients:
        await client.aclose()
    app.close()


def refused_code(answer: httpx.Response) -> str | None:
    found = re.search(r'data-code="([^"]+)"', answer.text)
    return found.group(1) if found else None


async def schedule(clerk: Browser, number: int = 1) -> None:
    answer = await clerk.submit(
        "/app/meetings",
        number=str(number),
        body="party_members_assembly",
        kind="党员大会",
        title="审议小区路灯维修",
        date="2031-05-20",
        time="19:30",
        notice_days="7",
        rule=RULE,
    )
    assert answer.status_code == 303, answer.text


ENROLL = {"member_id": "x9", "name": "冒名成员"}


# -- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cookies",
    [
        # One header: the guard's parser and the route's read different gf_session values.
        [("cookie", 'gf_session={victim}; x="; gf_session=forged')],
        # Two Cookie headers (HTTP/2 sends each cookie as its own field).
        [("cookie", "gf_session=forged"), ("cookie", "gf_session={victim}")],
    ],
)
async def test_a_planted_second_session_cookie_does_not_stand_in_for_the_csrf_token(
    site: Site, cookies: list[tuple[str, str]]
) -> None:
    """A page that can plant a cookie on the app's site (a sibling subdomain: same-site, so
    the victim's Lax cookie goes along) adds ``gf_session=forged`` beside the victim's. The
    session that authenticates the form and the one its CSRF token is checked against are
    the same cookie, so ``csrf_of("forged")`` opens nothing and nothing is recorded."""
    victim = site.signed_in("k1")
    before = site.events()
    headers = [(name, value.format(victim=victim.token)) for name, value in cookies]
    attacker = site.client()
    answer = await attacker.post(
        "/app/roll/members",
        content=f"{CSRF_FIELD}={csrf_of('forged')}&member_id=x9&name=x",
        headers=[*headers, ("content-type", "application/x-www-form-urlencoded")],
    )
    assert answer.status_code in (401, 403), answer.status_code
    assert site.events() == before
    assert "x9" not in site.app.get_council(COUNCIL).members


async def test_the_csrf_token_counts_only_in_the_form(site: Site) -> None:
    """A token in the query string (a link another site makes) is not the form's: 403; the
    GET address of a write leads back to its page and does nothing."""
    clerk, other = site.signed_in("k1"), site.signed_in("m1")
    before = site.events()
    answer = await clerk.client.post(
        f"/app/roll/members?{CSRF_FIELD}={csrf_of(clerk.token)}", data=ENROLL
    )
    assert answer.status_code == 403
    answer = await clerk.client.post(
        "/app/roll/members", data={CSRF_FIELD: csrf_of(other.token), **ENROLL}
    )
    assert answer.status_code == 403  # another session's token
    answer = await clerk.get(
        "/app/roll/members", params={CSRF_FIELD: csrf_of(clerk.token), **ENROLL}
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/app/roll?")
    assert site.events() == before


# -- another council, another member's things ------------------------------------------------


async def test_another_council_s_clerk_cannot_withdraw_an_invitation_or_see_a_member(
    site: Site,
) -> None:
    """Invitations are found by id across councils: the other clerk gets 404, nothing
    recorded, and the link still works; this council's members are not on their roll, and
    the contact page for such an id is their own council's (empty), never this one's."""
    (made,) = site.app.invite_members(COUNCIL, ("m1",), actor="clerk")
    invitation = invitation_uuid(made.link.split("_")[1])
    site.app.set_contact(
        COUNCIL, "m1", email="m1@home.example", gateway="", follows=True, actor="m1"
    )
    other_clerk = site.signed_in("q1", OTHER)
    before = site.events()
    answer = await other_clerk.submit(f"/app/invitations/{invitation}/revoke")
    assert answer.status_code == 404 and refused_code(answer) == "not_found"
    assert (await other_clerk.get("/app/sessions?member=m1")).status_code == 409
    assert "m1@home.example" not in (await other_clerk.get("/app/settings?member=m1")).text
    answer = await other_clerk.submit("/app/settings", member_id="m1", email="q@evil.example")
    assert answer.status_code == 409
    assert site.events() == before
    assert site.app.get_contact(COUNCIL, "m1").email == "m1@home.example"
    assert site.app.access_index.invitations[invitation].revoked is False


@pytest.mark.parametrize(
    "path",
    [
        "/app/invitations",
        "/app/sessions?member=m2",
        "/app/settings?member=m2",
        "/app/deliveries",
        "/app/roll/members.csv",
        "/app/roll/households.csv",
    ],
)
async def test_a_plain_member_reads_nothing_kept_for_the_clerk(site: Site, path: str) -> None:
    """Invitations, others' sessions and contacts, who was told what, the roll's files."""
    answer = await site.signed_in("m1").get(path)
    assert answer.status_code == 403


async def test_deliveries_with_an_odd_item_number_are_refused_not_a_crash(site: Site) -> None:
    """``?number=²`` (a digit to ``str.isdigit``, not to ``int``) or 5,000 digits: no 500."""
    clerk, member = site.signed_in("k1"), site.signed_in("m1")
    for number in ("²", "9" * 5000):
        assert (await clerk.get("/app/deliveries", params={"number": number})).status_code < 500
        assert (await member.get("/app/deliveries", params={"number": number})).status_code == 403


async def test_a_meeting_file_is_served_only_to_its_council_and_never_rendered(
    site: Site,
) -> None:
    """A sign-in sheet that is really HTML, uploaded with a path for a name: kept under its
    last segment, served as an attachment, octet-stream, nosniff (it cannot run on our
    origin); the other council's member asking for it at their own meeting 1 gets 404."""
    clerk = site.signed_in("k1")
    await schedule(clerk)
    page = b"<html><script>alert(document.cookie)</script></html>"
    answer = await clerk.submit(
        "/app/meetings/1/evidence",
        files={"sheet": ("../../x/evil.html", page, "text/html")},
        name="",
    )
    assert answer.status_code == 303, answer.text
    digest = next(iter(site.app.meeting(COUNCIL, 1).evidence))
    assert site.app.meeting(COUNCIL, 1).evidence[digest] == "evil.html"
    got = await site.signed_in("m1").get(f"/app/meetings/1/evidence/{digest}")
    assert got.status_code == 200 and got.content == page
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"

    await schedule(site.signed_in("q1", OTHER))
    stranger = site.signed_in("q2", OTHER)
    assert (await stranger.get(f"/app/meetings/1/evidence/{digest}")).status_code == 404
    assert (await stranger.get(f"/app/meetings/1/evidence/{'0' * 64}")).status_code == 404


async def test_a_plain_member_cannot_upload_to_a_meeting(site: Site) -> None:
    """Refused before the file is read or kept: 403, nothing recorded, nothing stored."""
    await schedule(site.signed_in("k1"), 2)
    member = site.signed_in("m1")
    before = site.events()
    kept = set(site.evidence.iterdir()) if site.evidence.exists() else set()
    answer = await member.submit(
        "/app/meetings/2/evidence", files={"sheet": ("sheet.pdf", b"%PDF fake", "application/pdf")}
    )
    assert answer.status_code == 403
    assert site.events() == before
    assert (set(site.evidence.iterdir()) if site.evidence.exists() else set()) == kept


# -- what pages show -------------------------------------------------------------------------


async def test_names_and_links_are_escaped_and_exported_cells_never_run(site: Site) -> None:
    """A member's name with markup shows as text; a formula-like name is exported with a
    leading quote; a sign-in link segment with markup is escaped in the form it shows."""
    clerk = site.signed_in("k1")
    script = "<script>alert(1)</script>"
    formula = '=HYPERLINK("http://evil.example","x")'
    for member_id, name in (("x1", script), ("x2", formula)):
        answer = await clerk.submit("/app/roll/members", member_id=member_id, name=name)
        assert answer.status_code == 303, answer.text
    roll = await clerk.get("/app/roll")
    assert script not in roll.text and "&lt;script&gt;" in roll.text
    exported = (await clerk.get("/app/roll/members.csv")).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in exported and "\n=HYPERLINK" not in exported.replace(",", "\n")
    shown = await site.client().get('/app/sign-in/gi_"><script>x')
    assert "<script>x" not in shown.text


async def test_app_pages_cannot_be_framed(site: Site) -> None:
    """Another site cannot show a signed-in page in a frame and trick a tap on its buttons
    (clickjacking): every app page forbids framing, the sign-in pages too."""
    for answer in (
        await site.signed_in("m1").get("/app/"),
        await site.client().get("/app/sign-in/gi_x_y"),
    ):
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


# -- telling people --------------------------------------------------------------------------


async def test_an_e_mail_contact_is_one_address(site: Site) -> None:
    """``postmaster,me@evil.example`` passes a loose pattern but is two recipients to SMTP (a
    bare local name goes to the relay's own mailbox): refused (422), nothing recorded."""
    member = site.signed_in("m1")
    before = site.events()
    for email in ("postmaster,me@evil.example", "me@evil.example>", '"a"me@evil.example'):
        answer = await member.submit("/app/settings", email=email)
        assert answer.status_code == 422, (email, answer.status_code)
    assert site.events() == before
    assert site.app.get_contact(COUNCIL, "m1").email == ""


async def test_the_e_mail_channel_sends_to_one_address_only() -> None:
    """Even an address kept before the check above reaches nobody else."""
    mailbox = Mailbox(port=free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        channel = EmailChannel(SmtpConfig("127.0.0.1", mailbox.port))
        message = Message(uuid4(), COUNCIL, "m1", "主题", "正文", f"{PUBLIC_URL}/app/")
        with pytest.raises(DeliveryError):
            channel.send("postmaster,me@evil.example", message)
        channel.send("me@example.org", message)
    finally:
        controller.stop()
    assert [m["To"] for m in mailbox.messages] == ["me@example.org"]
