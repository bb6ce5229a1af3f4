"""Written consultation (书面征求意见) and the bar on a failed matter coming back.

指导规则 Art. 22: the consultation form is delivered to each owner, posted as a 公告 where it
cannot be delivered, and a vote counts with the owner's signature. Shenzhen's rules: the voting
period may be extended (up to three months), and a matter that failed may not be proposed again
within a year. How long, and whether at all, each procedure says.
"""

from __future__ import annotations

import unicodedata

from govflow.domain.errors import RuleViolationError


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
