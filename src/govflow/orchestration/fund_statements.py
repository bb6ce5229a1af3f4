"""A fund's statements posted on its schedule (收支公开): the messages, activities and client
of :mod:`govflow.orchestration.fund_workflow`.

The workflow asks which period is due next and when (its end, 01:00 in the council's time
zone), waits for that time, and posts the statement at its own time; a period that cannot be
stated yet (an expense dated in it awaits its second keyholder) is tried again a day later.
Posting is the same use case a keyholder or the clerk calls, once per period, so a posting by
hand and the workflow's never double up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from pydantic import Field

from govflow.application import Governance
from govflow.domain.errors import FundStateError
from govflow.orchestration.activities import defn
from govflow.orchestration.messages import Message, Ref

FUND_ID_PREFIX = "fund"
logger = structlog.get_logger("govflow.funds")


def fund_workflow_id(council: str, number: int) -> str:
    """Funds' workflow ids never collide with items' (``issue-…``) or orders'."""
    return f"{FUND_ID_PREFIX}-{council}-{number}"


class FundInput(Message):
    council: str
    number: int
    retry_hours: int = Field(default=24, ge=1)  # a period not yet statable is tried again
    history_limit: int = Field(default=1_000, ge=1)  # continue as new past this many events
    seq: int = 0  # carried across continue-as-new


class DueStatement(Message):
    period: str
    due_at: datetime


class PeriodInput(Message):
    ref: Ref
    period: str


class Posted(Message):
    period: str
    posted: bool
    why: str | None = None  # why not (the refusal's code)


class FundActivities:
    def __init__(self, app: Governance) -> None:
        self.app = app

    def all(self) -> list[Callable[..., Any]]:
        return [self.due_statement, self.post_statement]

    @defn("fund.due_statement")
    def due_statement(self, ref: Ref) -> DueStatement:
        period, due_at = self.app.due_fund_statement(ref.council, ref.number)
        return DueStatement(period=period, due_at=due_at)

    @defn("fund.post_statement")
    def post_statement(self, i: PeriodInput) -> Posted:
        """Post the period's statement at the workflow's time, as the system; a period that
        cannot be stated yet is answered, not raised (the workflow tries again later)."""
        with self.app.acting_at(i.ref.at):
            try:
                self.app.post_fund_statement(
                    i.ref.council, i.ref.number, i.period, actor=i.ref.actor
                )
            except FundStateError as refused:
                logger.info(
                    "fund_statement_not_yet",
                    council=i.ref.council,
                    fund=i.ref.number,
                    period=i.period,
                    why=refused.message,
                )
                return Posted(period=i.period, posted=False, why=refused.code)
        return Posted(period=i.period, posted=True)
