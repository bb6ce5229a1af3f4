"""Signing in with a city's identity provider (OIDC): the checks, free of HTTP.

The app (``govflow.entrypoints.app.oidc``) runs the authorization-code flow (PKCE, state and
nonce) and fetches the provider's discovery document and keys; here are the parts that decide:
what the browser keeps between leaving for the provider and coming back (:class:`Pending`,
sealed with AES-GCM so it can be neither read nor forged), and whether an ID token is the
provider's, for this client, fresh and for this sign-in (:func:`verify_id_token`). The session
itself is opened as a redeemed invitation opens one
(:meth:`~govflow.application.invitations.InvitationCases.open_session_for`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from authlib.oidc.core import CodeIDToken
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from govflow.domain.errors import ForbiddenError, InvalidInputError

PENDING_SECONDS = 600  # how long the browser may take at the provider
LEEWAY_SECONDS = 60  # clock difference allowed with the provider (exp, iat, nbf)
DEFAULT_ALGORITHMS = ("RS256",)
_AAD = b"govflow-oidc-pending-v1"


class OidcRefusedError(ForbiddenError):
    """The sign-in did not come back as it left, or the ID token is not one to trust."""

    code = "oidc.invalid"


class OidcNotOnRollError(ForbiddenError):
    """The provider vouched for someone who is not on the chosen council's roll."""

    code = "oidc.not_on_roll"


class UnknownKeyError(OidcRefusedError):
    """The ID token is signed with a key not in the key set held (refetch the set once)."""


def check_issuer(issuer: str) -> str:
    """The issuer URL without its trailing slash: https, or http on this machine only (for
    tests and a provider running beside govflow)."""
    parts = urlsplit(issuer)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not parts.hostname or parts.query or parts.fragment:
        raise InvalidInputError("the OIDC issuer must be a URL like https://id.example.org")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise InvalidInputError("the OIDC issuer must be https (http only on 127.0.0.1)")
    return issuer.rstrip("/")


def state_key_of(token_key: str | None) -> bytes:
    """The AES key sealing the pending sign-ins: derived from GOVFLOW_TOKEN_KEY, or random
    for this process (then a sign-in must come back to the process it left: several API
    processes need GOVFLOW_TOKEN_KEY)."""
    if not token_key:
        return secrets.token_bytes(32)
    return hashlib.sha256(b"govflow-oidc-state\x00" + token_key.encode()).digest()


@dataclass(frozen=True)
class OidcConfig:
    """The identity provider govflow trusts, and how a member is found from its ID token."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    member_claim: str = "preferred_username"
    council_claim: str | None = None  # else the person chooses their council
    state_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "issuer", check_issuer(self.issuer))


@dataclass(frozen=True)
class Pending:
    """A sign-in gone to the provider: what the browser keeps (sealed) until it comes back."""

    state: str
    nonce: str
    verifier: str  # PKCE code verifier
    council: str | None
    expires: int  # Unix time

    @classmethod
    def new(cls, council: str | None, *, now: float | None = None) -> Pending:
        return cls(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),  # 64 characters (PKCE: 43 to 128)
            council=council,
            expires=int(now if now is not None else time.time()) + PENDING_SECONDS,
        )


def seal(pending: Pending, key: bytes) -> str:
    """``pending`` encrypted and authenticated under ``key`` (URL-safe, for a cookie)."""
    iv = secrets.token_bytes(12)
    data = json.dumps(asdict(pending), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(iv + AESGCM(key).encrypt(iv, data, _AAD)).decode()


def unseal(sealed: str | None, key: bytes, *, now: float | None = None) -> Pending:
    """The pending sign-in a cookie holds; refused if missing, forged or too old."""
    if not sealed:
        raise OidcRefusedError("no sign-in was started in this browser: start again")
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        data = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], _AAD))
        pending = Pending(**data)
    except (ValueError, TypeError, InvalidTag):
        raise OidcRefusedError("the sign-in could not be checked: start again") from None
    if pending.expires < (now if now is not None else time.time()):
        raise OidcRefusedError("the sign-in took too long: start again")
    return pending


def verify_id_token(
    id_token: str,
    jwks: dict[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS,
    access_token: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The claims of ``id_token`` once its signature (a key of ``jwks``), issuer, audience,
    expiry and nonce are right (OpenID Connect Core 3.1.3.7); else :class:`OidcRefusedError`
    (:class:`UnknownKeyError` for a key id not in ``jwks``)."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        token = jwt.decode(
            id_token,
            keys,
            registry=JWSRegistry(algorithms=list(algorithms), strict_check_header=False),
        )
    except InvalidKeyIdError:
        raise UnknownKeyError("the ID token is signed with an unknown key") from None
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise OidcRefusedError(f"the ID token is not valid ({type(error).__name__})") from None
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "exp": {"essential": True},
        "nonce": {"essential": True},
    }
    params: dict[str, Any] = {"nonce": nonce, "client_id": client_id}
    if access_token:
        params["access_token"] = access_token
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(now=int(now if now is not None else time.time()), leeway=LEEWAY_SECONDS)
    except JoseError as error:
        raise OidcRefusedError(f"the ID token is not for this sign-in ({error})") from None
    return dict(claims)


def claim_text(claims: dict[str, Any], name: str) -> str:
    """A claim naming a member or a council: a non-empty string (a number is read as text)."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise OidcNotOnRollError(f"the identity provider did not say who you are ({name})")
    return str(value).strip()


__all__ = [
    "OidcConfig",
    "OidcNotOnRollError",
    "OidcRefusedError",
    "Pending",
    "UnknownKeyError",
    "check_issuer",
    "claim_text",
    "seal",
    "state_key_of",
    "unseal",
    "verify_id_token",
]
