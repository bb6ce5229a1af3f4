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
    TOPIC = "govflow.access.token_issued"
    council: str
    holder: str
    kind: HolderKind
    scopes: tuple[Scope, ...] = ()
    secret_sha256: str


class TokenRevoked(DomainEvent):
    TOPIC = "govflow.access.token_revoked"
    reason: str


def token_uuid(token_id: str) -> UUID:
    return uuid5(NAMESPACE, f"token:{token_id}")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


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
            secret_sha256=digest(secret),
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case TokenIssued():
                self.council = event.council
                self.holder = event.holder
                self.kind = event.kind
                self.scopes = frozenset(event.scopes)
                self.secret_sha256 = event.secret_sha256
                self.revoked = False
            case TokenRevoked():
                self.revoked = True

    def revoke(self, reason: str, *, at: datetime, actor: str) -> None:
        if not self.revoked:
            self._trigger(TokenRevoked, at=at, actor=actor, reason=reason)

    def check(self, secret: str) -> None:
        """Refuse a wrong secret or a revoked token (in constant time for the secret)."""
        if not hmac.compare_digest(self.secret_sha256, digest(secret)) or self.revoked:
            raise AuthenticationError("the token is not valid")
