"""Request bodies and parameters shared by the API's routes, bounded once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from govflow.application.commands import MAX_NUMBER, Count, Name, Number, Text

__all__ = ["Count", "EvidenceName", "Name", "Number", "PathNumber", "Strict", "Text", "TextBody"]

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
