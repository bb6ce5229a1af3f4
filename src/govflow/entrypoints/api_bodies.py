"""Request bodies shared by the API's routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """A request body that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid")


class TextBody(Strict):
    text: str = Field(min_length=1, max_length=10_000)
