"""Access tokens: per-person tokens and integration tokens with scopes, stored hashed.

A token reads ``gf_<token id>_<secret>``; only the sha256 of the secret is recorded, so the
event log never holds a usable credential.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import AuthenticationError, InvalidInputError
from govflow.domain.ids import NAMESPACE


class HolderKind(StrEnum):
    PERSON = "person"
    INTEGRATION = "integration"


class Scope(StrEnum):
    """What an integration token may do (person tokens act as their member)."""

    READ = "read"
    PROPOSE = "issues:propose"
    WEBHOOKS = "webhooks:manage"


class TokenIssued(DomainEvent):
    """A token was issued. ``secret_sha256`` is the secret's SHA-256, or with ``keyed`` its
    HMAC-SHA256 under the installation's token key (GOVFLOW_TOKEN_KEY), which never leaves the
    servers: the log alone then cannot be used to test guesses of a secret."""

    TOPIC = "govflow.access.token_issued"
    council: str
    holder: str
    kind: HolderKind
    scopes: tuple[Scope, ...] = ()
    secret_sha256: str
    keyed: bool = False
    # A person's token belongs to one enrolment (the council's version when they enrolled).
    enrolment: int | None = None


class TokenRevoked(DomainEvent):
    TOPIC = "govflow.access.token_revoked"
    reason: str


def token_uuid(token_id: str) -> UUID:
    return uuid5(NAMESPACE, f"token:{token_id}")


def digest(secret: str, key: bytes | None = None) -> str:
    """The stored form of a token's secret: HMAC-SHA256 under ``key``, or plain SHA-256."""
    if key is None:
        return hashlib.sha256(secret.encode()).hexdigest()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


class AccessToken(Aggregate):
    created_by = (TokenIssued,)

    @classmethod
    def issue(
        cls,
        token_id: str,
        secret: str,
        *,
        council: str,
        holder: str,
        kind: HolderKind,
        scopes: tuple[Scope, ...],
        at: datetime,
        actor: str,
        key: bytes | None = None,
        enrolment: int | None = None,
    ) -> AccessToken:
        if kind is HolderKind.PERSON and scopes:
            raise InvalidInputError("a person's token acts as that member: it takes no scopes")
        if kind is HolderKind.INTEGRATION and not scopes:
            raise InvalidInputError("an integration token needs at least one scope")
        return cls._create(
            TokenIssued,
            token_uuid(token_id),
            at=at,
            actor=actor,
            council=council,
            holder=holder,
            kind=kind,
            scopes=scopes,
            secret_sha256=digest(secret, key),
            keyed=key is not None,
            enrolment=enrolment,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case TokenIssued():
                self.council = event.council
                self.holder = event.holder
                self.kind = event.kind
                self.scopes = frozenset(event.scopes)
                self.secret_sha256 = event.secret_sha256
                self.keyed = event.keyed
                self.enrolment = event.enrolment
                self.issued_on = event.timestamp
                self.revoked = False
            case TokenRevoked():
                self.revoked = True

    def revoke(self, reason: str, *, at: datetime, actor: str) -> None:
        if not self.revoked:
            self._trigger(TokenRevoked, at=at, actor=actor, reason=reason)

    def check(self, secret: str, key: bytes | None = None) -> None:
        """Refuse a wrong secret or a revoked token (in constant time for the secret). A token
        issued under a key is checked with that key; one issued without, without."""
        if self.keyed and key is None:
            raise AuthenticationError("the token key (GOVFLOW_TOKEN_KEY) is not configured")
        stored = digest(secret, key if self.keyed else None)
        if not hmac.compare_digest(self.secret_sha256, stored) or self.revoked:
            raise AuthenticationError("the token is not valid")
