"""Written consultation (书面征求意见) and the bar on a failed matter coming back.

指导规则 Art. 22: the consultation form is delivered to each owner, posted as a 公告 where it
cannot be delivered, and a vote counts with the owner's signature. Shenzhen's rules: the voting
period may be extended (up to three months), and a matter that failed may not be proposed again
within a year. How long, and whether at all, each procedure says.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Literal
from uuid import UUID, uuid5

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import RuleViolationError
from govflow.domain.ids import NAMESPACE


class MatterBarredError(RuleViolationError):
    """The same matter failed recently: its procedure bars it until the period has passed."""

    code = "issue.barred"


class ExtensionOverCapError(RuleViolationError):
    """An extension of a written consultation beyond what its procedure allows in total."""

    code = "consultation.extension_over_cap"


def matter_key(title: str) -> str:
    """What makes two items of a council the same matter: the same title, compared without
    regard to full/half width, case and white space (Chinese titles space words freely)."""
    return "".join(unicodedata.normalize("NFKC", title).casefold().split())


class SignatureRequiredError(RuleViolationError):
    """A written consultation counts only replies signed by the voter (指导规则 Art. 22)."""

    code = "consultation.signature_required"


class ReplySigned(DomainEvent):
    """A voter's signed reply to a written consultation, kept by the sha256 of the signed
    form's scan; entered by the voter in the app, or by the clerk from the paper form. The
    choice is in the ballot recorded with it, never here."""

    TOPIC = "govflow.consultation.reply_signed"
    council: str
    number: int
    issue_id: UUID
    ballot_key: str
    voter: str
    signature_sha256: str
    entered_by: Literal["voter", "clerk"]


def signed_reply_id(issue: UUID, ballot_key: str, voter: str) -> UUID:
    return uuid5(NAMESPACE, f"signed-reply:{issue}:{ballot_key}:{voter}")


class SignedReply(Aggregate):
    """One voter's signed reply in one consultation round: the store refuses a second."""

    created_by = (ReplySigned,)

    @classmethod
    def record(
        cls,
        council: str,
        number: int,
        issue: UUID,
        ballot_key: str,
        voter: str,
        signature_sha256: str,
        *,
        entered_by: Literal["voter", "clerk"],
        at: datetime,
        actor: str,
    ) -> SignedReply:
        return cls._create(
            ReplySigned,
            signed_reply_id(issue, ballot_key, voter),
            at=at,
            actor=actor,
            council=council,
            number=number,
            issue_id=issue,
            ballot_key=ballot_key,
            voter=voter,
            signature_sha256=signature_sha256,
            entered_by=entered_by,
        )

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, ReplySigned):
            self.council, self.number, self.voter = event.council, event.number, event.voter
            self.ballot_key, self.signature_sha256 = event.ballot_key, event.signature_sha256
            self.entered_by = event.entered_by
