"""Signing in with a city's identity provider (OIDC), against a real one on 127.0.0.1.

The provider is a small HTTP server in a thread (discovery, keys, an authorization endpoint
that signs in whoever the test says and redirects back with a code, a token endpoint checking
the client's secret, the code (once) and PKCE, and returning an RS256 ID token). The browser
is an httpx client on the app; it follows the redirects by hand, to the provider over HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import ValidationError

from govflow.application import Governance
from govflow.application.oidc import OidcConfig, Pending, seal
from govflow.bootstrap import Settings, build_oidc
from govflow.entrypoints.api import create_api
from govflow.entrypoints.app.oidc import PENDING_COOKIE
from govflow.entrypoints.app.session import SESSION_COOKIE, csrf_of
from tests.orchestration.conftest import COUNCIL, enroll_council
from tests.security.test_sessions import PUBLIC_URL, open_link, refused_code, set_cookie

pytestmark = pytest.mark.asyncio(loop_scope="session")

CLIENT_ID = "govflow-test"
CLIENT_SECRET = "s3cret-of-the-client"
OTHER = "qinghe"


def rsa_key(kid: str) -> RSAKey:
    """A fresh RSA key (made with cryptography) as a JWK."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return RSAKey.import_key(pem, {"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class IdentityProvider:
    """The provider's state; the test changes who signs in and how it misbehaves."""

    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: rsa_key("k1"))
    signing_key: RSAKey | None = None  # sign with another key than the published one
    claims: dict[str, Any] = field(default_factory=lambda: {"preferred_username": "m1"})
    tamper: dict[str, Any] = field(default_factory=dict)  # claims overridden in the ID token
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    jwks_fetches: int = 0
    token_requests: int = 0

    def id_token(self, grant: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "person-" + str(self.claims.get("preferred_username")),
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **self.claims,
            **self.tamper,
        }
        key = self.signing_key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._json(
                        200,
                        {
                            "issuer": idp.issuer,
                            "authorization_endpoint": f"{idp.issuer}/authorize",
                            "token_endpoint": f"{idp.issuer}/token",
                            "jwks_uri": f"{idp.issuer}/jwks",
                            "response_types_supported": ["code"],
                            "id_token_signing_alg_values_supported": ["RS256"],
                            "code_challenge_methods_supported": ["S256"],
                        },
                    )
                elif url.path == "/jwks":
                    idp.jwks_fetches += 1
                    self._json(200, {"keys": [idp.key.as_dict(private=False)]})
                elif url.path == "/authorize":
                    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
                    assert query["code_challenge_method"] == "S256"
                    assert "openid" in query["scope"].split()
                    code = secrets.token_urlsafe(16)
                    idp.codes[code] = query
                    back = urlencode({"code": code, "state": query["state"]})
                    self.send_response(302)
                    self.send_header("Location", f"{query['redirect_uri']}?{back}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                idp.token_requests += 1
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {basic}":
                    self._json(401, {"error": "invalid_client"})
                    return
                grant = idp.codes.pop(form.get("code", ""), None)  # a code works once
                verifier = form.get("code_verifier", "").encode()
                challenge = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier).digest())
                    .rstrip(b"=")
                    .decode()
                )
                if (
                    grant is None
                    or form.get("grant_type") != "authorization_code"
                    or form.get("redirect_uri") != grant["redirect_uri"]
                    or challenge != grant["code_challenge"]
                ):
                    self._json(400, {"error": "invalid_grant"})
                    return
                self._json(
                    200,
                    {
                        "access_token": secrets.token_urlsafe(16),
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": idp.id_token(grant),
                    },
                )

        return Handler


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), provider.handler())
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider
    server.shutdown()
    server.server_close()
    thread.join(5)


@dataclass
class Site:
    app: Governance
    idp: IdentityProvider
    transport: httpx.ASGITransport
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def browser(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=self.transport, base_url=PUBLIC_URL)
        self.clients.append(client)
        return client

    def events(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    async def to_provider(self, browser: httpx.AsyncClient, council: str = COUNCIL) -> str:
        """Start signing in and let the provider sign the person in: the callback's path and
        query, where the provider sends the browser back."""
        start = await browser.get("/app/sign-in/oidc/start", params={"council": council})
        assert start.status_code == 303, start.text
        assert start.headers["location"].startswith(f"{self.idp.issuer}/authorize?")
        async with httpx.AsyncClient() as real:
            at_provider = await real.get(start.headers["location"])
        assert at_provider.status_code == 302
        back = urlsplit(at_provider.headers["location"])
        assert f"{back.scheme}://{back.netloc}" == PUBLIC_URL
        return f"{back.path}?{back.query}"

    async def sign_in(
        self, browser: httpx.AsyncClient | None = None, council: str = COUNCIL
    ) -> httpx.Response:
        browser = browser or self.browser()
        return await browser.get(await self.to_provider(browser, council))


def _site(tmp_path: Path, idp: IdentityProvider, oidc: OidcConfig | None) -> Site:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        token_key="0" * 64,
    )
    enroll_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    app.register_council(OTHER, "清河社区", actor="clerk")
    app.enroll_member(OTHER, "q2", "清河成员", actor="clerk")
    api = create_api(app, evidence_dir=tmp_path / "evidence", public_url=PUBLIC_URL, oidc=oidc)
    return Site(app, idp, httpx.ASGITransport(app=api))


def config_of(idp: IdentityProvider, **changes: Any) -> OidcConfig:
    return OidcConfig(
        issuer=idp.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **changes
    )


@pytest_asyncio.fixture(loop_scope="session")
async def site(tmp_path: Path, idp: IdentityProvider) -> AsyncIterator[Site]:
    built = _site(tmp_path, idp, config_of(idp))
    yield built
    for client in built.clients:
        await client.aclose()
    built.app.close()


# -- signing in ------------------------------------------------------------------------------


async def test_the_sign_in_page_offers_the_identity_provider(site: Site) -> None:
    """The sign-in page (and the 401 page of any app page) carries the button; with no council
    claim configured, the person chooses their council first."""
    browser = site.browser()
    for path, status in (("/app/sign-in", 200), ("/app/sessions", 401)):
        shown = await browser.get(path)
        assert shown.status_code == status and "用统一身份认证登录" in shown.text
        assert 'href="/app/sign-in/oidc/start"' in shown.text
    choose = await browser.get("/app/sign-in/oidc/start")
    assert choose.status_code == 200 and '<option value="xinhua">新华社区</option>' in choose.text
    assert PENDING_COOKIE not in browser.cookies
    unknown = await browser.get("/app/sign-in/oidc/start", params={"council": "nowhere"})
    assert unknown.status_code == 200 and refused_code(unknown) == "not_found"


async def test_signing_in_opens_a_session_like_a_link(site: Site) -> None:
    """The provider's sign-in opens a person's session: the same cookie as a link's
    (HttpOnly, Lax, /app, Secure), the pending sign-in dropped; /app/ shows the member and
    the session is listed among theirs."""
    browser = site.browser()
    callback = await site.to_provider(browser)
    pending = [c for c in browser.cookies.jar if c.name == PENDING_COOKIE]
    assert pending and pending[0].path == "/app/sign-in/oidc"
    assert pending[0].has_nonstandard_attr("HttpOnly")
    before = site.events()
    answer = await browser.get(callback)
    assert answer.status_code == 303 and answer.headers["location"] == "/app/"
    cookie = set_cookie(answer, SESSION_COOKIE).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "path=/app;" in cookie + ";" and "; secure" in cookie
    assert PENDING_COOKIE not in browser.cookies
    assert site.events() == before + 1  # the session's token, nothing else
    home = await browser.get("/app/")
    assert home.status_code == 200 and "m1" in home.text
    principal = site.app.authenticate(browser.cookies[SESSION_COOKIE])
    assert principal.is_person and principal.holder == "m1" and principal.council == COUNCIL
    sessions = await browser.get("/app/sessions")
    assert sessions.text.count('class="card session"') == 1


async def test_the_session_is_a_person_s_forms_need_its_csrf_token(site: Site) -> None:
    """The session acts as the member in the app's forms: with its CSRF token a form works
    (signing out ends it); without, 403."""
    browser = site.browser()
    assert (await site.sign_in(browser)).status_code == 303
    token = browser.cookies[SESSION_COOKIE]
    assert (await browser.post("/app/sign-out", data={})).status_code == 403
    out = await browser.post("/app/sign-out", data={"csrf": csrf_of(token)})
    assert out.status_code == 303 and out.headers["location"] == "/app/sign-in"
    again = site.browser()
    again.cookies.set(SESSION_COOKIE, token)
    assert (await again.get("/app/")).status_code == 401


async def test_signing_in_ends_the_session_the_browser_held(site: Site) -> None:
    """Rotation, as for a link: the session this browser held before is ended."""
    browser = site.browser()
    (made,) = site.app.invite_members(COUNCIL, ("m2",), actor="clerk")
    assert (await open_link(browser, made.link)).status_code == 303
    old = browser.cookies[SESSION_COOKIE]
    site.idp.claims = {"preferred_username": "m2"}
    assert (await site.sign_in(browser)).status_code == 303
    assert browser.cookies[SESSION_COOKIE] != old
    stale = site.browser()
    stale.cookies.set(SESSION_COOKIE, old)
    assert (await stale.get("/app/")).status_code == 401
    assert (await browser.get("/app/")).status_code == 200


async def test_a_council_claim_names_the_council(tmp_path: Path, idp: IdentityProvider) -> None:
    """With GOVFLOW_OIDC_COUNCIL_CLAIM the provider says the council (no choice shown) and a
    member claim other than preferred_username finds the member."""
    site = _site(tmp_path, idp, config_of(idp, member_claim="staff_no", council_claim="org"))
    idp.claims = {"staff_no": "q2", "org": OTHER}
    try:
        browser = site.browser()
        start = await browser.get("/app/sign-in/oidc/start")
        assert start.status_code == 303
        answer = await site.sign_in(browser)
        assert answer.status_code == 303
        principal = site.app.authenticate(browser.cookies[SESSION_COOKIE])
        assert (principal.council, principal.holder) == (OTHER, "q2")
    finally:
        for client in site.clients:
            await client.aclose()
        site.app.close()


async def test_new_provider_keys_are_fetched_once(site: Site) -> None:
    """The key set is cached; a token signed with a key it does not hold makes the app fetch
    the set once more (the provider rotated its keys)."""
    assert (await site.sign_in()).status_code == 303
    assert (await site.sign_in()).status_code == 303
    assert site.idp.jwks_fetches == 1
    site.idp.key = rsa_key("k2")
    assert (await site.sign_in()).status_code == 303
    assert site.idp.jwks_fetches == 2


# -- refusals --------------------------------------------------------------------------------


REFUSALS: dict[str, tuple[dict[str, Any], str]] = {
    "wrong audience": ({"tamper": {"aud": "another-client"}}, "oidc.invalid"),
    "wrong issuer": ({"tamper": {"iss": "https://impostor.example"}}, "oidc.invalid"),
    "expired": (
        {"tamper": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}},
        "oidc.invalid",
    ),
    "nonce mismatch": ({"tamper": {"nonce": "not-the-one-sent"}}, "oidc.invalid"),
    "bad signature": ({"signing_key": "other"}, "oidc.invalid"),
    "not on the roll": ({"claims": {"preferred_username": "nobody"}}, "oidc.not_on_roll"),
    "no member claim": ({"claims": {}}, "oidc.not_on_roll"),
}


def _assert_refused(answer: httpx.Response, code: str, browser: httpx.AsyncClient) -> None:
    assert answer.status_code == 403, answer.text
    assert "text/html" in answer.headers["content-type"]
    assert refused_code(answer) == code
    assert SESSION_COOKIE not in browser.cookies
    assert not any(
        h.startswith(f"{SESSION_COOKIE}=") for h in answer.headers.get_list("set-cookie")
    )


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_a_token_not_to_trust_is_refused_recording_nothing(site: Site, case: str) -> None:
    """A wrong audience or issuer, an expired token, another nonce, a signature by another
    key, or a person not on the roll: a plain refusal page, no session, no event."""
    changes, code = REFUSALS[case]
    for name, value in changes.items():
        setattr(site.idp, name, rsa_key("k1") if value == "other" else value)
    browser = site.browser()
    callback = await site.to_provider(browser)
    before = site.events()
    answer = await browser.get(callback)
    _assert_refused(answer, code, browser)
    assert site.events() == before
    english = await site.browser().get("/app/sign-in/oidc/callback?lang=en")
    assert english.status_code == 403 and "identity provider" in english.text


async def test_a_wrong_or_missing_state_is_refused(site: Site) -> None:
    """The callback must carry the state this browser left with, in its own sealed cookie:
    another state, no cookie (another browser: login CSRF) or a forged cookie are refused,
    and the provider is not even asked for the tokens."""
    browser = site.browser()
    callback = await site.to_provider(browser)
    before, asked = site.events(), site.idp.token_requests
    wrong = re.sub(r"state=[^&]+", "state=" + secrets.token_urlsafe(24), callback)
    _assert_refused(await browser.get(wrong), "oidc.invalid", browser)
    elsewhere = site.browser()
    _assert_refused(await elsewhere.get(callback), "oidc.invalid", elsewhere)
    forged = site.browser()
    state = parse_qs(urlsplit(callback).query)["state"][0]
    fake = Pending(state, "n", "v" * 64, COUNCIL, int(time.time()) + 600)
    forged.cookies.set(PENDING_COOKIE, seal(fake, b"k" * 32), path="/app/sign-in/oidc")
    _assert_refused(await forged.get(callback), "oidc.invalid", forged)
    assert site.events() == before and site.idp.token_requests == asked


async def test_a_replayed_callback_is_refused(site: Site) -> None:
    """A callback (state and code) taken once is refused the second time, even with the
    pending cookie put back; and the provider refuses a code used twice."""
    browser = site.browser()
    callback = await site.to_provider(browser)
    sealed = browser.cookies[PENDING_COOKIE]
    assert (await browser.get(callback)).status_code == 303
    before = site.events()
    thief = site.browser()
    thief.cookies.set(PENDING_COOKIE, sealed, path="/app/sign-in/oidc")
    _assert_refused(await thief.get(callback), "oidc.invalid", thief)
    assert site.events() == before
    # the provider's side: the same code exchanged twice
    code = parse_qs(urlsplit(callback).query)["code"][0]
    async with httpx.AsyncClient() as real:
        twice = await real.post(
            f"{site.idp.issuer}/token",
            data={"grant_type": "authorization_code", "code": code},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
    assert twice.status_code == 400 and twice.json()["error"] == "invalid_grant"


async def test_the_provider_unreachable_is_said_plainly(
    tmp_path: Path, idp: IdentityProvider
) -> None:
    """An issuer nobody answers at: the person is told, in their language, nothing recorded."""
    config = OidcConfig(issuer="http://127.0.0.1:9", client_id=CLIENT_ID, client_secret="x")
    site = _site(tmp_path, idp, config)
    try:
        browser = site.browser()
        answer = await browser.get("/app/sign-in/oidc/start", params={"council": COUNCIL})
        assert answer.status_code == 502 and refused_code(answer) == "oidc.unavailable"
    finally:
        for client in site.clients:
            await client.aclose()
        site.app.close()


# -- unconfigured, and the settings ------------------------------------------------------------


async def test_unconfigured_nothing_shows_and_the_routes_are_404(
    tmp_path: Path, idp: IdentityProvider
) -> None:
    site = _site(tmp_path, idp, None)
    try:
        browser = site.browser()
        page = await browser.get("/app/sign-in")
        assert page.status_code == 200 and "统一身份认证" not in page.text
        assert "/app/sign-in/oidc" not in page.text
        for path in ("/app/sign-in/oidc/start", "/app/sign-in/oidc/callback?code=x&state=y"):
            assert (await browser.get(path)).status_code == 404
    finally:
        for client in site.clients:
            await client.aclose()
        site.app.close()


async def test_the_settings_are_checked_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issuer, client id and secret together or none; the issuer https (http only on this
    machine); empty values mean unset; the state key follows GOVFLOW_TOKEN_KEY."""
    assert build_oidc(Settings()) is None
    assert build_oidc(Settings(oidc_issuer="", oidc_client_id="")) is None
    with pytest.raises(ValidationError, match="together"):
        Settings(oidc_issuer="https://id.example.org", oidc_client_id="c")
    with pytest.raises(ValidationError, match="https"):
        Settings(
            oidc_issuer="http://id.example.org",
            oidc_client_id="c",
            oidc_client_secret="s",  # type: ignore[arg-type]
        )
    full = {"oidc_issuer": "https://id.example.org/", "oidc_client_id": "c"}
    one = build_oidc(Settings(**full, oidc_client_secret="s", token_key="t" * 40))  # type: ignore[arg-type]
    two = build_oidc(Settings(**full, oidc_client_secret="s", token_key="t" * 40))  # type: ignore[arg-type]
    assert one is not None and two is not None
    assert one.issuer == "https://id.example.org" and one.member_claim == "preferred_username"
    assert one.state_key == two.state_key  # several processes share the key
    monkeypatch.setenv("GOVFLOW_OIDC_ISSUER", "http://127.0.0.1:8080")
    monkeypatch.setenv("GOVFLOW_OIDC_CLIENT_ID", "c")
    monkeypatch.setenv("GOVFLOW_OIDC_CLIENT_SECRET", "s")
    monkeypatch.setenv("GOVFLOW_OIDC_COUNCIL_CLAIM", "org")
    local = build_oidc(Settings())
    assert local is not None and local.council_claim == "org"
    assert "client_secret" not in repr(local) and "state_key" not in repr(local)
