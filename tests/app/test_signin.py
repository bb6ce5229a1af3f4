"""Signing in through the app's pages: the clerk's invitations and printable sheet, the link's
one-button page, my sessions, and what a person without a session is shown."""

from __future__ import annotations

import re

import pytest

from govflow.domain.access import HolderKind
from govflow.domain.errors import ForbiddenError
from govflow.domain.policy import Action, Principal, authorize
from govflow.entrypoints.app.session import csrf_of
from tests.orchestration.conftest import COUNCIL
from tests.security.test_sessions import (
    PUBLIC_URL,
    Site,
    open_link,
    session_of,
    site,
    submit,
)

__all__ = ["site"]  # the fixture, shared with the security tests

pytestmark = pytest.mark.asyncio(loop_scope="session")

LINK = re.compile(re.escape(PUBLIC_URL) + r"/app/sign-in/(gi_[A-Za-z0-9_-]+)")


async def test_a_person_without_a_session_is_told_how_to_sign_in(site: Site) -> None:
    """Any app page without a session answers 401 with the sign-in explanation (Chinese by
    default, English on request); /app/sign-in itself is a 200 page."""
    browser = site.browser()
    answer = await browser.get("/app/sessions")
    assert answer.status_code == 401 and "请向社区书记员索取您的登录链接" in answer.text
    english = await browser.get("/app/sign-in?lang=en")
    assert english.status_code == 200 and "has no passwords" in english.text


async def test_opening_a_link_shows_one_button_and_uses_nothing(site: Site) -> None:
    """A link previewer or scanner that fetches the link (GET, any number of times) records
    nothing; the page has one sign-in button posting to the same link."""
    link = site.invite("m1")
    before = site.events()
    for _ in range(3):
        shown = await site.browser().get(f"/app/sign-in/{link}")
        assert shown.status_code == 200
    assert site.events() == before
    assert shown.text.count("<button") == 1 and f'action="/app/sign-in/{link}"' in shown.text
    assert (await open_link(site.browser(), link)).status_code == 303


async def test_the_clerk_invites_one_member_who_then_signs_in(site: Site) -> None:
    """The clerk picks a member: the answer shows the absolute link and its QR code once
    (no-store, printable), and the link signs the member in to the app."""
    clerk = await site.signed_in("k1")
    page = await clerk.get("/app/invitations")
    assert page.status_code == 200 and '<option value="m2">' in page.text
    sheet = await submit(clerk, "/app/invitations", member="m2", days="3")
    assert sheet.status_code == 200 and sheet.headers["cache-control"] == "no-store"
    assert "@media print" in sheet.text and sheet.text.count("<svg") == 1
    (link,) = set(LINK.findall(sheet.text))
    member = site.browser()
    assert (await open_link(member, link)).status_code == 303
    home = await member.get("/app/")
    assert home.status_code == 200 and "m2" in home.text


async def test_the_clerk_invites_everyone_not_yet_signed_in(site: Site) -> None:
    """ "Everyone not yet invited" makes links for each member without an open session or a
    live invitation, and no second one for those."""
    await site.signed_in("m1")
    site.invite("m2")
    clerk = await site.signed_in("k1")
    sheet = await submit(clerk, "/app/invitations", uninvited="1")
    invited = set(re.findall(r'id="link-([^"]+)"', sheet.text))
    assert invited == {"c1", "m3", "m4", "m5", "m6", "o1", "o2", "o3", "o4", "o5"}
    again = await submit(clerk, "/app/invitations", uninvited="1")
    assert 'id="link-' not in again.text


async def test_the_clerk_invites_ticked_members(site: Site) -> None:
    """Ticked members each get a link; a member not on the roll is refused in words."""
    clerk = await site.signed_in("k1")
    sheet = await clerk.post(
        "/app/invitations",
        data={"csrf": csrf_of(session_of(clerk)), "members": ["m3", "m4"]},
    )
    assert set(re.findall(r'id="link-([^"]+)"', sheet.text)) == {"m3", "m4"}
    before = site.events()
    refused = await submit(clerk, "/app/invitations", member="nobody")
    assert refused.status_code == 409 and "名册中没有此成员" in refused.text
    assert site.events() == before


async def test_my_sessions_show_the_current_one_and_end_another(site: Site) -> None:
    """A member sees their open sessions with this device marked, and ends another device's
    session; ending this one signs out."""
    phone = await site.signed_in("m5")
    tablet = await site.signed_in("m5")
    page = await phone.get("/app/sessions")
    assert page.status_code == 200 and page.text.count('class="card session"') == 2
    assert page.text.count("（当前设备）") == 1
    ends = re.findall(r'action="(/app/sessions/[0-9a-f-]+/end)"', page.text)
    current = re.search(
        r'（当前设备）</strong></p>\s*<form method="post" action="([^"]+)"', page.text
    )
    assert current is not None
    (other,) = [e for e in ends if e != current.group(1)]
    assert (await submit(phone, other)).headers["location"] == "/app/sessions"
    assert (await tablet.get("/app/")).status_code == 401
    answer = await submit(phone, current.group(1))
    assert answer.headers["location"] == "/app/sign-in"
    assert (await phone.get("/app/")).status_code == 401


async def test_the_clerk_sees_a_member_s_invitations_and_withdraws_one(site: Site) -> None:
    """The clerk's view of a member lists their invitations with a withdraw button for the
    live ones."""
    site.invite("m6")
    clerk = await site.signed_in("k1")
    page = await clerk.get("/app/sessions?member=m6")
    assert page.status_code == 200 and "有效" in page.text
    (revoke,) = re.findall(r'action="(/app/invitations/[0-9a-f-]+/revoke)"', page.text)
    answer = await submit(clerk, revoke, member="m6")
    assert answer.headers["location"] == "/app/sessions?member=m6"
    page = await clerk.get("/app/sessions?member=m6")
    assert "已收回" in page.text and "/revoke" not in page.text


async def test_the_policy_lets_people_end_their_own_sessions_and_the_clerk_anyone_s() -> None:
    """END_SESSION: one's own (same member id and enrolment, auditors too), the clerk any;
    never another member's or another enrolment's; integrations never."""

    def person(holder: str, *roles: str, enrolment: int = 3) -> Principal:
        return Principal(
            COUNCIL, holder, HolderKind.PERSON, roles=frozenset(roles), enrolment=enrolment
        )

    own = ("m1", 3)
    assert authorize(person("m1"), Action.END_SESSION, COUNCIL, owner=own) == "m1"
    assert authorize(person("m1", "auditor"), Action.END_SESSION, COUNCIL, owner=own)
    assert authorize(person("k1", "clerk"), Action.END_SESSION, COUNCIL, owner=own) == "k1"
    for who in (person("m2"), person("m1", enrolment=9)):
        with pytest.raises(ForbiddenError, match="themself or the clerk"):
            authorize(who, Action.END_SESSION, COUNCIL, owner=own)
    bot = Principal(COUNCIL, "bot", HolderKind.INTEGRATION)
    with pytest.raises(ForbiddenError, match="only a member"):
        authorize(bot, Action.END_SESSION, COUNCIL, owner=own)
