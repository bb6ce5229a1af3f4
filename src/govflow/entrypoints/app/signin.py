"""Signing in: invitation links and QR codes, sessions, signing out.

A sign-in link (``/app/sign-in/gi_…``) shows a page with one button; only the button's POST
redeems it, so link previewers and scanners that fetch the link consume nothing. Redeeming
opens a session (a person's token) kept in the ``gf_session`` cookie: HttpOnly, SameSite=Lax,
``Path=/app``, ``Secure`` when the server's public URL is https; a session the browser already
held is ended (rotation). The sign-in form carries its own CSRF nonce (a cookie of the
sign-in pages echoed in the form), so another site cannot sign a browser in as someone else.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

import segno
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.invitations import NewInvitation, session_id_of
from govflow.domain.errors import GovflowError
from govflow.domain.policy import Principal
from govflow.entrypoints.app.problems import problem_text
from govflow.entrypoints.app.render import Words, lang_of, page, when
from govflow.entrypoints.app.session import (
    CSRF_FIELD,
    SESSION_COOKIE,
    AppCaller,
    CsrfError,
    Form,
    csrf,
    session_token,
)
from govflow.orchestration.door import CommandDoor

router = APIRouter(prefix="/app", include_in_schema=False)

SIGN_IN_COOKIE = "gf_signin"  # the sign-in form's CSRF nonce (no session yet)
SESSION_DAYS = 180  # how long a phone keeps the cookie; the session lasts until ended

WORDS: Words = {
    "zh": {
        "title": "登录",
        "how": "议事通不用密码。请向社区书记员索取您的登录链接或二维码：用手机打开链接或扫码，"
        "再点下面的“登录”按钮即可。每个链接只能使用一次，过期后请索取新的链接。",
        "link_title": "使用登录链接",
        "link_how": "点击下面的按钮登录议事通。此链接只能使用一次；登录后，本设备会保持登录状态，"
        "直到您退出登录。",
        "go": "登录",
        "sign_out_title": "退出登录",
        "sign_out_how": "退出后，本设备需要新的登录链接才能再次登录。",
        "sign_out_go": "确认退出",
        "sessions": "登录设备",
        "my_sessions": "我的登录设备",
        "opened": "登录时间",
        "current": "（当前设备）",
        "end": "结束",
        "none": "没有其他登录。",
        "invitations": "邀请成员登录",
        "invitations_how": "为成员生成一次性登录链接和二维码，打印后交给没有电子邮箱的成员。"
        "链接只显示一次，请当场打印或发送。",
        "invite_one": "邀请一名成员",
        "member": "成员",
        "invite": "生成登录链接",
        "invite_several": "邀请多名成员",
        "invite_ticked": "为勾选的成员生成链接",
        "invite_rest": "为所有尚未登录、也没有有效邀请的成员生成链接",
        "days": "有效天数",
        "status": "状态",
        "signed_in": "已登录",
        "invited": "已邀请",
        "not_invited": "未邀请",
        "sheet": "登录链接（请打印）",
        "sheet_how": "用手机相机扫描二维码，或在浏览器中输入链接，然后点“登录”。"
        "链接只能使用一次，请妥善保管，不要转给他人。",
        "expires": "有效期至",
        "print": "打印",
        "back": "返回",
        "member_access": "成员的登录与邀请",
        "invitation_list": "邀请",
        "issued": "发出时间",
        "revoke": "收回",
        "used": "已使用",
        "revoked": "已收回",
        "expired": "已过期",
        "live": "有效",
        "nobody": "没有需要邀请的成员。",
        "manage": "管理邀请与登录",
        "oidc_or": "也可以使用本市的统一身份认证登录：",
        "oidc_go": "用统一身份认证登录",
    },
    "en": {
        "title": "Sign in",
        "how": "govflow has no passwords. Ask your council's clerk for your sign-in link or QR "
        "code: open the link or scan the code on your phone, then press “Sign in”. Each link "
        "works once; when it has expired, ask for a new one.",
        "link_title": "Your sign-in link",
        "link_how": "Press the button to sign in. The link works once; this device then stays "
        "signed in until you sign out.",
        "go": "Sign in",
        "sign_out_title": "Sign out",
        "sign_out_how": "After signing out, this device needs a new sign-in link to sign in again.",
        "sign_out_go": "Sign out",
        "sessions": "Sessions",
        "my_sessions": "My sessions",
        "opened": "Signed in",
        "current": " (this device)",
        "end": "End",
        "none": "No other sessions.",
        "invitations": "Invite members",
        "invitations_how": "Make one-time sign-in links and QR codes for members; print them "
        "for members without e-mail. Links are shown once: print or send them now.",
        "invite_one": "Invite one member",
        "member": "Member",
        "invite": "Make a sign-in link",
        "invite_several": "Invite several members",
        "invite_ticked": "Make links for the ticked members",
        "invite_rest": "Make links for everyone not signed in and without a live invitation",
        "days": "Valid for (days)",
        "status": "Status",
        "signed_in": "signed in",
        "invited": "invited",
        "not_invited": "not invited",
        "sheet": "Sign-in links (print this)",
        "sheet_how": "Scan the QR code with the phone's camera, or type the link into a "
        "browser, then press “Sign in”. The link works once: keep it to yourself.",
        "expires": "Valid until",
        "print": "Print",
        "back": "Back",
        "member_access": "A member's sessions and invitations",
        "invitation_list": "Invitations",
        "issued": "Issued",
        "revoke": "Withdraw",
        "used": "used",
        "revoked": "withdrawn",
        "expired": "expired",
        "live": "live",
        "nobody": "Nobody to invite.",
        "manage": "Invitations and sessions",
        "oidc_or": "Or sign in with the city's identity provider:",
        "oidc_go": "Sign in with the city's identity provider",
    },
}


def _app(request: Request) -> Governance:
    app: Governance = request.app.state.governance
    return app


def _door(request: Request) -> CommandDoor:
    door: CommandDoor = request.app.state.door
    return door


def _secure(request: Request) -> bool:
    return str(request.app.state.public_url).startswith("https://")


@dataclass(frozen=True)
class Refusal:
    """Why a form was refused: the sentence for the person, the code for support."""

    text: str
    code: str


def _problem(request: Request, error: GovflowError) -> Refusal:
    return Refusal(problem_text(error, lang_of(request)), error.code)


def sign_in_required(request: Request, status: int = 401) -> HTMLResponse:
    """The page a person without a (working) session is shown on any app page (with the
    identity provider's button when one is configured)."""
    oidc = getattr(request.app.state, "oidc", None) is not None
    return page(request, "app/signin.html", WORDS, status=status, oidc=oidc)


# -- signing in ------------------------------------------------------------------------------


@router.get("/sign-in")
async def sign_in(request: Request) -> HTMLResponse:
    return sign_in_required(request, status=200)


def _link_page(
    request: Request, invitation: str, *, problem: Refusal | None = None, status: int = 200
) -> HTMLResponse:
    nonce = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(24)
    response = page(
        request,
        "app/signin_link.html",
        WORDS,
        status=status,
        action=f"/app/sign-in/{invitation}",
        nonce=nonce,
        problem=problem,
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL holds the link's secret
    response.set_cookie(
        SIGN_IN_COOKIE,
        nonce,
        max_age=3600,
        path="/app/sign-in",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


@router.get("/sign-in/{invitation}")
async def sign_in_link(request: Request, invitation: str) -> HTMLResponse:
    """One button: nothing is redeemed by fetching the link."""
    return _link_page(request, invitation)


@router.post("/sign-in/{invitation}")
async def redeem(request: Request, invitation: str) -> Response:
    form = await request.form()
    sent, nonce = form.get(CSRF_FIELD), request.cookies.get(SIGN_IN_COOKIE)
    if not (isinstance(sent, str) and nonce and hmac.compare_digest(sent, nonce)):
        error: GovflowError = CsrfError("open the sign-in link again and press the button")
        return _link_page(request, invitation, problem=_problem(request, error), status=403)
    try:
        command = c.RedeemInvitation(invitation=invitation, replaces=session_token(request))
        token = await _door(request).redeem(command)
    except GovflowError as refused:
        return _link_page(
            request, invitation, problem=_problem(request, refused), status=refused.status
        )
    return session_opened(request, token)


def session_opened(request: Request, token: str) -> Response:
    """To the app with a new session (``token``) in its cookie; the sign-in nonce dropped.
    Every way of signing in (a link, the identity provider) lands here."""
    response = RedirectResponse("/app/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_DAYS * 24 * 3600,
        path="/app",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/app/sign-in")
    response.headers["Cache-Control"] = "no-store"
    return response


# -- signing out and sessions ----------------------------------------------------------------


def _signed_out() -> Response:
    response = RedirectResponse("/app/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/app")
    return response


@router.get("/sign-out")
async def sign_out_page(request: Request, caller: AppCaller) -> HTMLResponse:
    return page(request, "app/signin_out.html", WORDS, caller=caller, csrf=csrf(request))


@router.post("/sign-out")
async def sign_out(request: Request, caller: AppCaller, form: Form) -> Response:
    session = session_id_of(caller.token_id)
    if session is not None:
        command = c.EndSession(council=caller.council, session_id=session)
        await _door(request).handle(command, caller)
    return _signed_out()


@router.get("/sessions")
async def sessions(
    request: Request,
    caller: AppCaller,
    member: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """My sessions; with ``?member=`` a member's sessions and invitations (the clerk)."""
    return await _sessions_page(request, caller, member)


def _back_to(member: str | None, default: str) -> str:
    return f"/app/sessions?{urlencode({'member': member})}" if member else default


async def _sessions_page(
    request: Request,
    caller: Principal,
    member: str | None,
    *,
    problem: Refusal | None = None,
    status: int = 200,
) -> HTMLResponse:
    access = await run_in_threadpool(
        _app(request).member_access, caller, caller.council, member or caller.holder
    )
    council = await run_in_threadpool(_app(request).council_to_read, caller.council)
    return page(
        request,
        "app/sessions.html",
        WORDS,
        status=status,
        caller=caller,
        csrf=csrf(request),
        access=access,
        mine=access.member_id == caller.holder,
        current=session_id_of(caller.token_id),
        now=_app(request).now(),
        when=lambda value: when(value, council.timezone),
        problem=problem,
    )


@router.post("/sessions/{session}/end")
async def end_session(request: Request, session: UUID, caller: AppCaller, form: Form) -> Response:
    command = c.EndSession(council=caller.council, session_id=session)
    member = form.get("member") or None
    try:
        await _door(request).handle(command, caller)
    except GovflowError as refused:
        return await _sessions_page(
            request, caller, member, problem=_problem(request, refused), status=refused.status
        )
    if session == session_id_of(caller.token_id):
        return _signed_out()
    return RedirectResponse(_back_to(member, "/app/sessions"), status_code=303)


# -- invitations (the clerk) -----------------------------------------------------------------


async def _invitations_page(
    request: Request, caller: Principal, *, problem: Refusal | None = None, status: int = 200
) -> HTMLResponse:
    rows = await run_in_threadpool(_app(request).roll_access, caller, caller.council)
    now = _app(request).now()
    standing = {
        row.member_id: "signed_in"
        if row.sessions
        else "invited"
        if any(i.live(now) for i in row.invitations)
        else "not_invited"
        for row in rows
    }
    return page(
        request,
        "app/invitations.html",
        WORDS,
        status=status,
        caller=caller,
        csrf=csrf(request),
        rows=rows,
        standing=standing,
        problem=problem,
    )


@router.get("/invitations")
async def invitations(request: Request, caller: AppCaller) -> HTMLResponse:
    return await _invitations_page(request, caller)


def _qr(url: str) -> Markup:
    # segno writes the SVG itself; the URL is ours (public URL and a URL-safe link)
    return Markup(segno.make(url, error="m").svg_inline(scale=4))


@router.post("/invitations")
async def invite(request: Request, caller: AppCaller, form: Form) -> HTMLResponse:
    """Make the links and show them once, with their QR codes, as a printable sheet."""
    posted = await request.form()  # the same form, already checked: the ticked members
    ticked = [m for m in posted.getlist("members") if isinstance(m, str) and m]
    if form.get("member"):
        ticked = [form["member"]]
    command = c.InviteMembers.model_validate(
        {
            "council": caller.council,
            "member_ids": ticked,
            "uninvited": form.get("uninvited") == "1",
            "days": form.get("days") or 7,
        }
    )
    try:
        made: list[NewInvitation] = await _door(request).handle(command, caller)
    except GovflowError as refused:
        return await _invitations_page(
            request, caller, problem=_problem(request, refused), status=refused.status
        )
    council = await run_in_threadpool(_app(request).council_to_read, caller.council)
    base = str(request.app.state.public_url)
    sheet = [
        {
            "member_id": new.member_id,
            "name": new.name,
            "url": (url := f"{base}/app/sign-in/{new.link}"),
            "qr": _qr(url),
            "expires": when(new.expires_at, council.timezone),
        }
        for new in made
    ]
    response = page(
        request, "app/invitations_sheet.html", WORDS, caller=caller, sheet=sheet, council=council
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/invitations/{invitation}/revoke")
async def revoke_invitation(
    request: Request, invitation: UUID, caller: AppCaller, form: Form
) -> Response:
    command = c.RevokeInvitation(council=caller.council, invitation_id=invitation)
    member = form.get("member") or None
    try:
        await _door(request).handle(command, caller)
    except GovflowError as refused:
        return await _sessions_page(
            request, caller, member, problem=_problem(request, refused), status=refused.status
        )
    return RedirectResponse(_back_to(member, "/app/invitations"), status_code=303)
