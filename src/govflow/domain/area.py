"""A household's exclusive area in square metres: its owner's weight in an owners' assembly
(民法典 Art. 278), so it is read exactly or not at all.

One parser, :func:`parse_area`, reads every area a clerk or an integration sends (the API's
bodies and commands through :data:`ExclusiveArea`, the CLI before it sends), in the style of
:func:`~govflow.domain.money.parse_yuan`: ASCII digits, at most two decimals, never a float.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Annotated, Any, NoReturn

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from govflow.domain.errors import InvalidInputError

MAX_AREA = Decimal("100000.00")
MAX_TEXT = 40  # "100000.00 平方米" is 14 characters: anything much longer is not an area
EXAMPLES = "89, 89.5, 89.50, 89.50㎡, 89.50 m2 or 89.50平方米"

# The only spelling accepted: ASCII digits without a leading zero (or a single 0 before the
# point), at most two decimals, one optional unit. No sign, exponent, underscore or grouping:
# Decimal() would read "1e2" as 100, "12_000" as 12000 and "١٢٣" as 123.
_UNIT = r"(?: ?(?:㎡|m2|m²|平方米))?"
_NUMBER = r"(?:0|[1-9][0-9]*)(?:\.[0-9]{1,2})?"
_AREA = re.compile(rf"(?P<number>{_NUMBER}){_UNIT}")

AREA_PATTERN = rf"^ *{_NUMBER}{_UNIT} *$"
"""The spellings :func:`parse_area` accepts as text, for an OpenAPI schema (it also checks the
range)."""


class InvalidAreaError(InvalidInputError):
    """An exclusive area that is not one unambiguous spelling of square metres in range."""

    code = "area.invalid"


def parse_area(value: Any) -> Decimal:
    """Parse an exclusive area in m², refusing anything that could misread an owner's weight.

    Accepts ``int`` (not ``bool``), finite ``Decimal`` and strings such as ``"89"``,
    ``"89.5"``, ``"89.50㎡"``, ``"89.50 m2"`` or ``"89.50平方米"``. Refuses floats, NaN,
    infinities, zero or negative areas, more than two decimals, areas over 100,000 m², digits
    other than ASCII 0-9, exponents, underscores, signs and thousands separators.

    Raises:
        InvalidAreaError: ``area.invalid``, with a message saying why.
    """
    if isinstance(value, (bool, float)):
        raise InvalidAreaError(
            'an area must be exact: send a string such as "89.50" or a whole number of square '
            "metres, not a floating-point number",
            value=repr(value),
        )
    if isinstance(value, int):
        area = Decimal(value)
    elif isinstance(value, Decimal):
        area = value
    elif isinstance(value, str):
        area = _parse_text(value)
    else:
        raise InvalidAreaError(f"not an area in square metres: {type(value).__name__}")
    if not area.is_finite():
        raise InvalidAreaError("an area must be a finite number", value=str(value))
    if area <= 0:
        raise InvalidAreaError("an area must be positive", value=str(value)[:MAX_TEXT])
    if area > MAX_AREA:
        raise InvalidAreaError(
            f"an exclusive area may not exceed {MAX_AREA:,.0f} m²",
            value=str(value)[:MAX_TEXT],
        )
    if area.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidAreaError("an area has at most two decimal places (0.01 m²)", value=str(value))
    return area.quantize(Decimal("0.01"))


def _parse_text(text: str) -> Decimal:
    if len(text) > MAX_TEXT:
        raise InvalidAreaError(f"an area is at most {MAX_TEXT} characters", value=text[:MAX_TEXT])
    cleaned = text.strip(" ")
    found = _AREA.fullmatch(cleaned)
    if found is None:
        _refuse(cleaned)
    return Decimal(found["number"])


def _refuse(text: str) -> NoReturn:
    """Refuse ``text`` with the clearest reason it is not an area."""
    if any(not ("0" <= ch <= "9") and unicodedata.category(ch) == "Nd" for ch in text):
        raise InvalidAreaError("write areas with the ASCII digits 0-9", value=text)
    if re.fullmatch(r"[0-9]*\.[0-9]{3,}\D*", text):
        raise InvalidAreaError("an area has at most two decimal places (0.01 m²)", value=text)
    raise InvalidAreaError(f"not an area in square metres: write it as {EXAMPLES}", value=text)


def format_area(area: Decimal) -> str:
    """``89.50``: two places, no grouping; :func:`parse_area` reads it back exactly."""
    return f"{area:.2f}"


ExclusiveArea = Annotated[
    Decimal,
    BeforeValidator(parse_area),
    PlainSerializer(format_area, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": AREA_PATTERN, "maxLength": MAX_TEXT},
                {"type": "integer", "minimum": 1, "maximum": int(MAX_AREA)},
            ],
            "description": f"square metres, exact: {EXAMPLES} (at most two places; no floats)",
            "examples": ["89.50"],
        },
        mode="validation",
    ),
]
"""A pydantic field type for an exclusive area: validated by :func:`parse_area` (which raises
:class:`InvalidAreaError`, answered as ``area.invalid``), serialised with two places."""
