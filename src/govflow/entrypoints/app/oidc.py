"""Signing in with the city's identity provider (OpenID Connect), when one is configured.

The sign-in page then offers "用统一身份认证登录". ``/app/sign-in/oidc/start`` (after the person
chose their council, unless a claim names it) sends the browser to the provider's authorization
endpoint with a state, a nonce and a PKCE challenge, and keeps them, sealed (AES-GCM) so they
can be neither read nor forged, in a short-lived HttpOnly cookie. ``/app/sign-in/oidc/callback``
checks the state (once: a replayed callback is refused), exchanges the code (with the PKCE
verifier and the client's secret) for an ID token, verifies it (signature by the provider's
keys, issuer, audience, expiry, nonce), finds the member on the council's roll by the
configured claim and opens a session exactly as a redeemed invitation does (same token kind,
cookie and rotation). A refusal is a plain page in the person's language and records nothing.

The provider's discovery document and key set are fetched with httpx (short timeouts) and
cached; the key set is fetched again once when a token names a key it does not hold.
Unconfigured, every route here answers 404.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Annotated, Any

import httpx
import structlog
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.oidc import (
    PENDING_SECONDS,
    OidcConfig,
    OidcNotOnRollError,
    OidcRefusedError,
    Pending,
    UnknownKeyError,
    claim_text,
    seal,
    unseal,
    verify_id_token,
)
from govflow.domain.access import token_uuid
from govflow.domain.errors import GovflowError, NotFoundError, RuleViolationError
from govflow.entrypoints.app.render import Words, page
from govflow.entrypoints.app.session import session_token
from govflow.entrypoints.app.signin import _problem, _secure, session_opened
from govflow.orchestration.door import CommandDoor

logger = structlog.get_logger("govflow.oidc")

router = APIRouter(prefix="/app/sign-in/oidc", include_in_schema=False)

PENDING_COOKIE = "gf_oidc"
COOKIE_PATH = "/app/sign-in/oidc"
CALLBACK = "/app/sign-in/oidc/callback"
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
CACHE_SECONDS = 3600  # the discovery document and key set, before they are fetched again

WORDS: Words = {
    "zh": {
        "title": "统一身份认证登录",
        "go": "用统一身份认证登录",
        "choose": "请选择您所在的社区，然后用统一身份认证登录。",
        "council": "社区",
        "refused_title": "未能登录",
        "again": "重新登录",
        "other": "使用书记员发给您的登录链接",
    },
    "en": {
        "title": "Sign in with the city's identity provider",
        "go": "Sign in with the city's identity provider",
        "choose": "Choose your council, then sign in with the city's identity provider.",
        "council": "Council",
        "refused_title": "Not signed in",
        "again": "Try again",
        "other": "Use the sign-in link your clerk gave you",
    },
}


class OidcUnavailableError(GovflowError):
    code = "oidc.unavailable"
    status = 502


class Provider:
    """The identity provider as govflow sees it: its discovery document and keys (fetched
    and cached), its token endpoint, and the checks of what it returns."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: dict[str, Any] | None = None
        self._jwks_at = 0.0
        self._lock = asyncio.Lock()

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
                answer = await client.get(url, headers={"Accept": "application/json"})
            answer.raise_for_status()
            found = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            logger.warning("oidc_fetch_failed", url=url, error=type(error).__name__)
            raise OidcUnavailableError("the identity provider did not answer") from None
        if not isinstance(found, dict):
            raise OidcUnavailableError("the identity provider answered nonsense")
        return found

    async def metadata(self) -> dict[str, Any]:
        """``{issuer}/.well-known/openid-configuration``, checked (its issuer is ours, the
        endpoints are there) and kept for :data:`CACHE_SECONDS`."""
        async with self._lock:
            if self._metadata and time.monotonic() - self._metadata_at < CACHE_SECONDS:
                return self._metadata
            found = await self._get_json(f"{self.config.issuer}/.well-known/openid-configuration")
            if str(found.get("issuer", "")).rstrip("/") != self.config.issuer:
                raise OidcUnavailableError("the discovery document names another issuer")
            for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(found.get(needed), str):
                    raise OidcUnavailableError(f"the discovery document has no {needed}")
            self._metadata, self._metadata_at = found, time.monotonic()
            return found

    async def jwks(self, *, again: bool = False) -> dict[str, Any]:
        """The provider's key set, kept for :data:`CACHE_SECONDS` (``again``: fetched now)."""
        uri = (await self.metadata())["jwks_uri"]
        async with self._lock:
            fresh = time.monotonic() - self._jwks_at < CACHE_SECONDS
            if self._jwks and fresh and not again:
                return self._jwks
            found = await self._get_json(uri)
            if not isinstance(found.get("keys"), list):
                raise OidcUnavailableError("the provider's key set has no keys")
            self._jwks, self._jwks_at = found, time.monotonic()
            return found

    async def authorization_url(self, pending: Pending, redirect_uri: str) -> str:
        endpoint = (await self.metadata())["authorization_endpoint"]
        url: str = prepare_grant_uri(
            endpoint,
            client_id=self.config.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope="openid",
            state=pending.state,
            nonce=pending.nonce,
            code_challenge=create_s256_code_challenge(pending.verifier),
            code_challenge_method="S256",
        )
        return url

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        """The tokens for an authorization code (client_secret_basic, with the PKCE
        verifier)."""
        endpoint = (await self.metadata())["token_endpoint"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
                answer = await client.post(
                    endpoint,
                    data=form,
                    auth=(self.config.client_id, self.config.client_secret),
                    headers={"Accept": "application/json"},
                )
        except httpx.HTTPError as error:
            logger.warning("oidc_token_failed", error=type(error).__name__)
            raise OidcUnavailableError("the identity provider did not answer") from None
        try:
            tokens = answer.json()
        except ValueError:
            tokens = None
        if answer.status_code >= 500 or not isinstance(tokens, dict):
            raise OidcUnavailableError("the identity provider's token endpoint failed")
        if answer.status_code != 200 or not isinstance(tokens.get("id_token"), str):
            # e.g. invalid_grant: a code used twice, expired, or not this browser's (PKCE)
            raise OidcRefusedError(f"the identity provider refused ({tokens.get('error')})")
        return tokens

    async def verify(
        self, id_token: str, *, nonce: str, access_token: str | None
    ) -> dict[str, Any]:
        """The ID token's claims once it is verified; the key set is fetched again once when
        the token names a key not in it (the provider rotated its keys)."""
        metadata = await self.metadata()
        algorithms = tuple(metadata.get("id_token_signing_alg_values_supported") or ("RS256",))
        algorithms = tuple(a for a in algorithms if a != "none") or ("RS256",)

        def check(jwks: dict[str, Any]) -> dict[str, Any]:
            return verify_id_token(
                id_token,
                jwks,
                issuer=self.config.issuer,
                client_id=self.config.client_id,
                nonce=nonce,
                algorithms=algorithms,
                access_token=access_token,
            )

        try:
            return check(await self.jwks())
        except UnknownKeyError:
            return check(await self.jwks(again=True))


class SpentStates:
    """The states of callbacks already taken in this process, until they would have expired
    anyway: the same callback (state and code) replayed is refused before the provider is
    asked again."""

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}

    def spend(self, state: str, expires: float) -> None:
        now = time.time()
        self._spent = {s: e for s, e in self._spent.items() if e >= now}
        if state in self._spent:
            raise OidcRefusedError("this sign-in was completed already: start again")
        self._spent[state] = expires


def _config(request: Request) -> OidcConfig:
    config: OidcConfig | None = getattr(request.app.state, "oidc", None)
    if config is None:
        raise HTTPException(status_code=404)
    return config


def _provider(request: Request, config: OidcConfig) -> Provider:
    state = request.app.state
    provider: Provider | None = getattr(state, "oidc_provider", None)
    if provider is None or provider.config is not config:
        provider = state.oidc_provider = Provider(config)
        state.oidc_spent = SpentStates()
    return provider


def _spent(request: Request) -> SpentStates:
    spent: SpentStates = request.app.state.oidc_spent
    return spent


def _redirect_uri(request: Request) -> str:
    return f"{request.app.state.public_url}{CALLBACK}"  # never the request's Host


def _app(request: Request) -> Governance:
    app: Governance = request.app.state.governance
    return app


def _refused(request: Request, refused: GovflowError) -> HTMLResponse:
    """A plain page saying why, in the person's language; the pending sign-in is dropped."""
    logger.info("oidc_refused", code=refused.code, reason=refused.message)
    response = page(
        request,
        "app/signin_oidc.html",
        WORDS,
        status=refused.status,
        refused=True,
        problem=_problem(request, refused),
    )
    response.delete_cookie(PENDING_COOKIE, path=COOKIE_PATH)
    return response


@router.get("/start")
async def start(
    request: Request, council: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """To the provider; first the choice of council when no claim names it."""
    config = _config(request)
    provider = _provider(request, config)
    chosen: str | None = None
    if config.council_claim is None:
        councils = await run_in_threadpool(_app(request).list_councils)
        if council not in {row.code for row in councils}:
            return page(
                request,
                "app/signin_oidc.html",
                WORDS,
                councils=councils,
                problem=None
                if council is None
                else _problem(request, NotFoundError("no such council", council=council)),
            )
        chosen = council
    pending = Pending.new(chosen)
    try:
        url = await provider.authorization_url(pending, _redirect_uri(request))
    except GovflowError as refused:
        return _refused(request, refused)
    response = RedirectResponse(url, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        PENDING_COOKIE,
        seal(pending, config.state_key),
        max_age=PENDING_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",  # sent on the provider's redirect back (a top-level GET)
        secure=_secure(request),
    )
    return response


@router.get("/callback")
async def callback(
    request: Request,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    """Back from the provider: check everything, then open the session."""
    config = _config(request)
    provider = _provider(request, config)
    try:
        pending = unseal(request.cookies.get(PENDING_COOKIE), config.state_key)
        if not state or not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise OidcRefusedError("the sign-in did not come back as it left: start again")
        _spent(request).spend(pending.state, pending.expires)
        if error or not code:
            raise OidcRefusedError(f"the identity provider did not sign you in ({error})")
        redirect_uri = _redirect_uri(request)
        tokens = await provider.exchange(code, pending.verifier, redirect_uri)
        access = tokens.get("access_token")
        claims = await provider.verify(
            tokens["id_token"],
            nonce=pending.nonce,
            access_token=access if isinstance(access, str) else None,
        )
        member = claim_text(claims, config.member_claim)
        council = claim_text(claims, config.council_claim) if config.council_claim else None
        council = council or pending.council
        if council is None:
            raise OidcNotOnRollError("no council was chosen")
        try:
            token = await run_in_threadpool(
                lambda: _app(request).open_session_for(council, member, via="oidc")
            )
        except (NotFoundError, RuleViolationError):
            raise OidcNotOnRollError(f"{member} is not on the roll of {council}") from None
    except GovflowError as refused:
        return _refused(request, refused)
    logger.info("oidc_signed_in", council=council, member=member)
    await _end_replaced(request, token)
    response = session_opened(request, token)
    response.delete_cookie(PENDING_COOKIE, path=COOKIE_PATH)
    return response


async def _end_replaced(request: Request, token: str) -> None:
    """End the session the browser held, if any (rotation on sign-in), as
    :meth:`CommandDoor.redeem` does for a link: the new session stands all the same."""
    replaced = session_token(request)
    if not replaced or replaced == token:
        return
    try:
        old = await run_in_threadpool(_app(request).authenticate, replaced)
    except GovflowError:
        return  # not a working session: nothing to end
    if not old.is_person or old.token_id is None:
        return
    door: CommandDoor = request.app.state.door
    ending = c.EndSession(
        council=old.council,
        session_id=token_uuid(old.token_id),
        reason="replaced by a new sign-in",
    )
    try:
        await door.handle(ending, old)
    except GovflowError as kept:
        logger.warning("session_not_rotated", council=old.council, code=kept.code)


__all__ = ["PENDING_COOKIE", "Provider", "router"]
