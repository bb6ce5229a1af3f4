"""Use cases: issuing, revoking and checking access tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from govflow.application.core import GovernanceCore
from govflow.domain.access import AccessToken, HolderKind, Scope, token_uuid
from govflow.domain.errors import AuthenticationError, NotFoundError


@dataclass(frozen=True)
class Principal:
    """Who is calling: a member (with their roles) or an integration (with its scopes)."""

    council: str
    holder: str
    kind: HolderKind
    roles: frozenset[str]
    scopes: frozenset[Scope]
    chairs: frozenset[str] = frozenset()  # the bodies a member chairs

    @property
    def is_auditor(self) -> bool:
        return "auditor" in self.roles

    @property
    def is_clerk(self) -> bool:
        """The council's clerk (书记员) keeps its roll: members, households, subscriptions."""
        return "clerk" in self.roles


class AccessCases(GovernanceCore):
    def issue_token(
        self,
        code: str,
        holder: str,
        *,
        kind: HolderKind = HolderKind.PERSON,
        scopes: tuple[Scope, ...] = (),
        actor: str,
    ) -> str:
        """A new token; the plaintext is returned once and never stored."""
        if kind is HolderKind.PERSON:
            self.council_to_read(code).member(holder)
        else:
            self.council_to_read(code)
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
        token = AccessToken.issue(
            token_id,
            secret,
            council=code,
            holder=holder,
            kind=kind,
            scopes=scopes,
            at=self.now(),
            actor=actor,
            key=self.token_key,
        )
        self._save_new(token, what="token")
        return f"gf_{token_id}_{secret}"

    def revoke_token(self, token_id: str, reason: str, *, actor: str) -> None:
        token = self._get(AccessToken, token_uuid(token_id), f"token {token_id}")
        token.revoke(reason, at=self.now(), actor=actor)
        self._save(token)

    def authenticate(self, presented: str) -> Principal:
        prefix, _, rest = presented.partition("_")
        token_id, _, secret = rest.partition("_")
        if prefix != "gf" or not token_id or not secret:
            raise AuthenticationError("expected a token like gf_<id>_<secret>")
        try:
            token = self._get(AccessToken, token_uuid(token_id), "token")
        except NotFoundError:
            raise AuthenticationError("the token is not valid") from None
        token.check(secret, self.token_key)
        roles: frozenset[str] = frozenset()
        chairs: frozenset[str] = frozenset()
        if token.kind is HolderKind.PERSON:
            member = self.council_to_read(token.council).members.get(token.holder)
            if member is None:
                raise AuthenticationError("the token's member has left the council")
            roles = frozenset(member.roles)
            chairs = frozenset(body.value for body in member.chairs)
        return Principal(
            token.council, token.holder, token.kind, roles, frozenset(token.scopes), chairs
        )
