"""Request bodies and parameters shared by the API's routes, bounded once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from govflow.application import commands
from govflow.application.commands import MAX_NUMBER, Name, Text

__all__ = [
    "Count",
    "EvidenceName",
    "Instant",
    "Name",
    "Number",
    "PathNumber",
    "Strict",
    "Text",
    "TextBody",
]

Number = Annotated[commands.Number, Field(strict=True)]
"""A number in a body: a JSON integer (``true`` is not 1, ``"2"`` is not 2)."""

Count = Annotated[commands.Count, Field(strict=True)]
"""A count in a body: a JSON integer (``false`` is not 0)."""


def _not_a_timestamp(value: Any) -> Any:
    try:
        float(value)
    except (TypeError, ValueError):
        return value
    raise ValueError("a date-time is ISO 8601 (2026-11-23T09:00:00+08:00), not a number")


Instant = Annotated[datetime, BeforeValidator(_not_a_timestamp)]
"""A date-time in a query: ISO 8601, as the schema says (not a Unix timestamp)."""

PathNumber = Annotated[
    int,
    Path(ge=1, le=MAX_NUMBER, description="a number of the council's record: 1 to 2**53-1"),
]
"""An item's, meeting's, spending's, objection's or disbursement's number in a path."""

EvidenceName = Annotated[
    Name, Path(min_length=1, max_length=200, pattern=r"^[^/\\]+$", description="the file's name")
]
"""An evidence file's name: one line, no slashes, no control or bidirectional characters."""


class Strict(BaseModel):
    """A request body that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid")


class TextBody(Strict):
    text: Text = Field(min_length=1, max_length=10_000)
