"""Frozen messages of a rectification order's workflow: its input, result, activities' inputs
and what its status query answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from govflow.orchestration.messages import Message, Ref


class OrderInput(Message):
    council: str
    number: int
    reminder_lead_hours: int = Field(default=24, ge=0)  # remind this long before a deadline
    history_limit: int = Field(default=2_000, ge=1)  # continue as new past this many events
    seq: int = 0  # carried across continue-as-new
    reminded: tuple[int, ...] = ()  # rounds whose reminders were addressed


class OrderResult(Message):
    status: str
    rounds: int


class OrderState(Message):
    """The order as the record says now: what the workflow waits for."""

    status: str
    round: int
    deadline: datetime
    escalated: bool


class OrderRoundInput(Message):
    ref: Ref
    round: int


class OrderStatus(Message):
    """What the workflow's ``status`` query answers."""

    council: str
    number: int
    status: str | None
    round: int | None
    deadline: datetime | None
    escalated: bool
    reminded: tuple[int, ...]
