"""Signing in to the app: invitation links open sessions once, sessions end when they should,
every form needs its CSRF token, and every refusal leaves no event behind."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from govflow.application import Governance
from govflow.application.specimens import SteppingClock
from govflow.domain.access import token_uuid
from govflow.domain.errors import AuthenticationError
from govflow.domain.invitation import invitation_uuid
from govflow.entrypoints.api import create_api
from govflow.entrypoints.app.session import SESSION_COOKIE, csrf_of
from govflow.entrypoints.app.signin import SIGN_IN_COOKIE
from tests.orchestration.conftest import COUNCIL, enroll_council

pytestmark = pytest.mark.asyncio(loop_scope="session")

PUBLIC_URL = "https://gov.example"
OTHER = "qinghe"


@dataclass
class Site:
    """The app over a SQLite store with a test clock: the council of ``enroll_council`` with
    its clerk ``k1``, and another council ``qinghe`` (clerk ``q1``, member ``q2``)."""

    app: Governance
    clock: SteppingClock
    transport: httpx.ASGITransport
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def browser(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=self.transport, base_url=PUBLIC_URL)
        self.clients.append(client)
        return client

    def invite(self, member: str, council: str = COUNCIL, days: int = 7) -> str:
        """A new invitation's link (its last segment), as the clerk would hand it out."""
        (made,) = self.app.invite_members(council, (member,), days=days, actor="clerk")
        return made.link

    def events(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    async def signed_in(self, member: str, council: str = COUNCIL) -> httpx.AsyncClient:
        browser = self.browser()
        answer = await open_link(browser, self.invite(member, council))
        assert answer.status_code == 303, answer.text
        return browser


async def open_link(browser: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open a sign-in link and press its button, as a person does."""
    shown = await browser.get(f"/app/sign-in/{link}")
    nonce = re.search(r'name="csrf" value="([^"]+)"', shown.text)
    assert nonce is not None
    return await browser.post(f"/app/sign-in/{link}", data={"csrf": nonce.group(1)})


def session_of(browser: httpx.AsyncClient) -> str:
    token = browser.cookies.get(SESSION_COOKIE)
    assert token
    return token


async def submit(browser: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    """Post a form of the app with the session's CSRF token."""
    return await browser.post(path, data={"csrf": csrf_of(session_of(browser)), **fields})


def refused_code(answer: httpx.Response) -> str | None:
    found = re.search(r'data-code="([^"]+)"', answer.text)
    return found.group(1) if found else None


@pytest_asyncio.fixture(loop_scope="session")
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    clock = SteppingClock()
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=clock,
        token_key="0" * 64,
    )
    enroll_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    app.register_council(OTHER, "清河社区", actor="clerk")
    app.enroll_member(OTHER, "q1", "清河书记员", actor="clerk", roles=("clerk",))
    app.enroll_member(OTHER, "q2", "清河成员", actor="clerk")
    api = create_api(app, evidence_dir=tmp_path / "evidence", public_url=PUBLIC_URL)
    built = Site(app, clock, httpx.ASGITransport(app=api))
    yield built
    for client in built.clients:
        await client.aclose()
    app.close()


def set_cookie(answer: httpx.Response, name: str) -> str:
    (header,) = [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


# -- the cookie ------------------------------------------------------------------------------


async def test_the_session_cookie_is_httponly_lax_app_only_and_secure_on_https(
    site: Site,
) -> None:
    """Signing in sets gf_session HttpOnly, SameSite=Lax, Path=/app and Secure (https URL)."""
    answer = await open_link(site.browser(), site.invite("m1"))
    assert answer.status_code == 303 and answer.headers["location"] == "/app/"
    cookie = set_cookie(answer, SESSION_COOKIE).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "path=/app;" in cookie + ";" and "; secure" in cookie


async def test_on_a_plain_http_public_url_the_cookie_is_not_secure(tmp_path: Path) -> None:
    """Without https (a local trial) the cookie is sent without Secure, or no browser keeps
    it."""
    app = Governance()
    enroll_council(app)
    api = create_api(app, evidence_dir=tmp_path / "evidence", public_url="http://127.0.0.1:8000")
    (made,) = app.invite_members(COUNCIL, ("m1",), actor="clerk")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api), base_url="http://127.0.0.1:8000"
    ) as browser:
        answer = await open_link(browser, made.link)
    cookie = set_cookie(answer, SESSION_COOKIE).lower()
    assert answer.status_code == 303 and "secure" not in cookie and "httponly" in cookie


# -- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong", "0" * 40])
async def test_a_form_without_its_csrf_token_is_refused_and_records_nothing(
    site: Site, token: str | None
) -> None:
    """A clerk's form posted without the CSRF token, or with a wrong one, is 403 and no
    invitation is made."""
    clerk = await site.signed_in("k1")
    before = site.events()
    data = {"member": "m1"} | ({"csrf": token} if token else {})
    answer = await clerk.post("/app/invitations", data=data)
    assert answer.status_code == 403
    answer = await clerk.post("/app/sign-out", data=data)
    assert answer.status_code == 403
    assert site.events() == before


async def test_the_sign_in_button_needs_the_sign_in_page_s_nonce(site: Site) -> None:
    """A sign-in posted from elsewhere (no nonce cookie, or another nonce) is 403
    ``csrf.invalid``: another site cannot sign a browser in as someone else."""
    link = site.invite("m1")
    before = site.events()
    stranger = site.browser()
    answer = await stranger.post(f"/app/sign-in/{link}", data={"csrf": "guess"})
    assert answer.status_code == 403 and refused_code(answer) == "csrf.invalid"
    await stranger.get(f"/app/sign-in/{link}")
    answer = await stranger.post(f"/app/sign-in/{link}", data={"csrf": "guess"})
    assert answer.status_code == 403 and SESSION_COOKIE not in answer.cookies
    assert site.events() == before
    assert (await open_link(stranger, link)).status_code == 303  # the link still works


# -- invitations -----------------------------------------------------------------------------


async def test_a_link_opens_one_session_only(site: Site) -> None:
    """Used once, a link is refused (410 ``invitation.used``) and records nothing."""
    link = site.invite("m1")
    assert (await open_link(site.browser(), link)).status_code == 303
    before = site.events()
    again = await open_link(site.browser(), link)
    assert again.status_code == 410 and refused_code(again) == "invitation.used"
    assert SESSION_COOKIE not in again.cookies and site.events() == before


async def test_an_expired_link_is_refused(site: Site) -> None:
    """A link past its days (7 by default) is 410 ``invitation.expired``; the day before it
    still works."""
    late, early = site.invite("m1"), site.invite("m2")
    site.clock.current += timedelta(days=6, hours=12)
    assert (await open_link(site.browser(), early)).status_code == 303
    site.clock.current += timedelta(days=1)
    before = site.events()
    answer = await open_link(site.browser(), late)
    assert answer.status_code == 410 and refused_code(answer) == "invitation.expired"
    assert site.events() == before


async def test_a_withdrawn_link_is_refused(site: Site) -> None:
    """The clerk withdraws a live link: it opens nothing (410 ``invitation.revoked``)."""
    link = site.invite("m1")
    clerk = await site.signed_in("k1")
    invitation = invitation_uuid(link.split("_")[1])
    answer = await submit(clerk, f"/app/invitations/{invitation}/revoke", member="m1")
    assert answer.status_code == 303
    before = site.events()
    answer = await open_link(site.browser(), link)
    assert answer.status_code == 410 and refused_code(answer) == "invitation.revoked"
    assert site.events() == before


@pytest.mark.parametrize(
    "link",
    ["gi_0123456789abcdef_wrong", "gf_abc_def", "nonsense", "gi__x"],
)
async def test_a_wrong_or_unknown_link_is_refused(site: Site, link: str) -> None:
    """A made-up link, a wrong secret or a token in place of a link: 401
    ``invitation.invalid``, nothing recorded."""
    before = site.events()
    answer = await open_link(site.browser(), link)
    assert answer.status_code == 401 and refused_code(answer) == "invitation.invalid"
    assert site.events() == before


async def test_a_right_id_with_a_wrong_secret_is_refused(site: Site) -> None:
    """Knowing an invitation's id is not enough: the secret must match."""
    invitation_id = site.invite("m1").split("_")[1]
    before = site.events()
    answer = await open_link(site.browser(), f"gi_{invitation_id}_notthesecret")
    assert answer.status_code == 401 and refused_code(answer) == "invitation.invalid"
    assert site.events() == before


async def test_a_link_of_a_member_who_left_or_was_enrolled_again_is_refused(site: Site) -> None:
    """A link belongs to one enrolment: after the member leaves, or their member id is
    enrolled again for someone else, it opens nothing (410 ``invitation.member_gone``)."""
    left, again = site.invite("m5"), site.invite("m6")
    site.app.remove_member(COUNCIL, "m5", actor="clerk")
    site.app.remove_member(COUNCIL, "m6", actor="clerk")
    site.app.enroll_member(COUNCIL, "m6", "新成员6", actor="clerk")
    before = site.events()
    for link in (left, again):
        answer = await open_link(site.browser(), link)
        assert answer.status_code == 410 and refused_code(answer) == "invitation.member_gone"
    assert site.events() == before


async def test_only_the_clerk_invites_and_only_on_their_own_roll(site: Site) -> None:
    """A member may not invite (403); another council's clerk cannot invite this council's
    members (they are not on its roll); nothing is recorded."""
    member = await site.signed_in("m1")
    other_clerk = await site.signed_in("q1", OTHER)
    before = site.events()
    assert (await submit(member, "/app/invitations", member="m2")).status_code == 403
    assert (await member.get("/app/invitations")).status_code == 403
    answer = await submit(other_clerk, "/app/invitations", member="m2")
    assert answer.status_code == 409 and refused_code(answer) == "council.unknown_member"
    assert site.events() == before


async def test_invitations_are_never_served_by_audit_reads(site: Site) -> None:
    """Invitations and sessions are private: no history, no council, no feed entry."""
    link = site.invite("m1")
    await open_link(site.browser(), link)
    invitation = invitation_uuid(link.split("_")[1])
    assert site.app.council_of(invitation) is None
    topics = {e.topic for e in site.app.read_feed(0, 1000)}
    assert not any(t.startswith("govflow.access.") for t in topics)


# -- sessions --------------------------------------------------------------------------------


async def test_a_removed_member_s_session_stops_working(site: Site) -> None:
    """Once the member leaves the roll, their session opens nothing: the app shows how to
    sign in (401)."""
    member = await site.signed_in("m4")
    assert (await member.get("/app/")).status_code == 200
    site.app.remove_member(COUNCIL, "m4", actor="clerk")
    answer = await member.get("/app/sessions")
    assert answer.status_code == 401 and "/app/sign-in" not in answer.headers.get("location", "")
    assert "书记员" in answer.text


async def test_signing_in_again_ends_the_session_the_browser_held(site: Site) -> None:
    """Rotation: a new sign-in in a browser ends the session its cookie held."""
    browser = await site.signed_in("m1")
    first = session_of(browser)
    assert (await open_link(browser, site.invite("m1"))).status_code == 303
    second = session_of(browser)
    assert second != first
    with pytest.raises(AuthenticationError):
        site.app.authenticate(first)
    assert site.app.authenticate(second).holder == "m1"


async def test_signing_out_ends_the_session_and_clears_the_cookie(site: Site) -> None:
    """Sign-out asks first (GET), then the POST ends the session and clears the cookie."""
    browser = await site.signed_in("m2")
    token = session_of(browser)
    confirm = await browser.get("/app/sign-out")
    assert confirm.status_code == 200 and 'action="/app/sign-out"' in confirm.text
    site.app.authenticate(token)  # asking ended nothing
    answer = await submit(browser, "/app/sign-out")
    assert answer.status_code == 303 and answer.headers["location"] == "/app/sign-in"
    assert 'gf_session=""' in set_cookie(answer, SESSION_COOKIE)
    with pytest.raises(AuthenticationError):
        site.app.authenticate(token)


async def test_the_clerk_ends_a_member_s_session(site: Site) -> None:
    """The clerk sees a member's sessions and ends one: it stops working."""
    member = await site.signed_in("m3")
    clerk = await site.signed_in("k1")
    session = token_uuid(site.app.authenticate(session_of(member)).token_id or "")
    listed = await clerk.get("/app/sessions?member=m3")
    assert listed.status_code == 200 and f"/app/sessions/{session}/end" in listed.text
    answer = await submit(clerk, f"/app/sessions/{session}/end", member="m3")
    assert answer.status_code == 303 and answer.headers["location"] == "/app/sessions?member=m3"
    assert (await member.get("/app/")).status_code == 401
    assert (await clerk.get("/app/")).status_code == 200


async def test_a_member_cannot_end_another_member_s_session(site: Site) -> None:
    """Nor see it: 403 for the list, 403 ``auth.forbidden`` for the end, nothing recorded; a
    member of another council gets 404 (the session is not theirs to find)."""
    victim = await site.signed_in("m1")
    session = token_uuid(site.app.authenticate(session_of(victim)).token_id or "")
    member = await site.signed_in("m2")
    stranger = await site.signed_in("q2", OTHER)
    before = site.events()
    assert (await member.get("/app/sessions?member=m1")).status_code == 403
    answer = await submit(member, f"/app/sessions/{session}/end")
    assert answer.status_code == 403 and refused_code(answer) == "auth.forbidden"
    answer = await submit(stranger, f"/app/sessions/{session}/end")
    assert answer.status_code == 404 and refused_code(answer) == "not_found"
    assert site.events() == before
    assert (await victim.get("/app/")).status_code == 200


async def test_the_sign_in_nonce_cookie_stays_on_the_sign_in_pages(site: Site) -> None:
    """The sign-in form's nonce is HttpOnly and scoped to /app/sign-in; the link page sends
    no Referer (its URL holds the secret)."""
    shown = await site.browser().get(f"/app/sign-in/{site.invite('m1')}")
    cookie = set_cookie(shown, SIGN_IN_COOKIE).lower()
    assert "path=/app/sign-in" in cookie and "httponly" in cookie and "secure" in cookie
    assert shown.headers["referrer-policy"] == "no-referrer"
