"""Money is ``Decimal`` yuan with at most two places: never a float.

One parser, :func:`parse_yuan`, reads every amount a person or an integration sends (the API's
bodies through :data:`Yuan`, the CLI before it sends); :func:`format_yuan` writes amounts the
way people read them, and the parser reads that back exactly.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Annotated, Any, NoReturn

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from govflow.domain.errors import InvalidAmountError, UnsupportedCurrencyError

MAX_AMOUNT = Decimal("100000000.00")
DEFAULT_THRESHOLD = Decimal("10000.00")
MAX_TEXT = 40  # "CNY 100,000,000.00" is 18 characters: anything much longer is not an amount
EXAMPLES = "12000, 12000.00, 12,000.00, ¥12,000.00 or 12000元"

# The only spellings accepted: ASCII digits, an integer part either plain (no leading zero) or
# grouped by thousands in groups of exactly three, at most two decimals, one optional yuan mark
# before and one after. "1,5" (a decimal comma) or "12,0,0,0" would otherwise read as 15 or 12000.
_WHOLE = r"0|[1-9][0-9]{0,2}(?:,[0-9]{3})+|[1-9][0-9]*"
_PREFIX = r"(?:[¥￥]|(?:CNY|RMB) ?)?"
_SUFFIX = r"(?:元| ?(?:CNY|RMB))?"
_AMOUNT = re.compile(
    rf"{_PREFIX}(?P<sign>-)?(?P<whole>{_WHOLE})(?:\.(?P<fen>[0-9]{{1,2}}))?{_SUFFIX}"
)
_CURRENCY_LIKE = re.compile(r"^[A-Z]{3}(?![A-Za-z])|(?<![A-Za-z])[A-Z]{3}$|[$€£₩₹]")

AMOUNT_PATTERN = rf"^{_PREFIX}(?:{_WHOLE})(?:\.[0-9]{{1,2}})?{_SUFFIX}$"
"""The spellings :func:`parse_yuan` accepts as text, for an OpenAPI schema (it also checks the
range)."""


def parse_yuan(value: Any) -> Decimal:
    """Parse an amount of yuan, refusing anything that could lose, invent or misread a fen.

    Accepts ``Decimal``, ``int`` and strings such as ``"12000"``, ``"12000.5"``,
    ``"12,000.50"``, ``"¥12000"``, ``"12000元"`` or ``"12000 CNY"``. Refuses floats, NaN,
    infinities, zero or negative amounts, more than two decimal places, amounts over
    ¥100,000,000.00, digits other than ASCII 0-9, thousands separators that do not group three
    digits, and other currencies (``money.unsupported_currency``).

    Raises:
        InvalidAmountError: ``money.invalid_amount``, with a message saying why.
        UnsupportedCurrencyError: another currency than yuan.
    """
    if isinstance(value, (bool, float)):
        raise InvalidAmountError(
            'amounts must be exact: send a string such as "12000.00" or a whole number, '
            "not a floating-point number",
            value=repr(value),
        )
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        amount = _parse_text(value)
    else:
        raise InvalidAmountError(f"not an amount of money: {type(value).__name__}")
    if not amount.is_finite():
        raise InvalidAmountError("an amount must be a finite number", value=str(value))
    if amount <= 0:
        raise InvalidAmountError("an amount must be positive", value=str(value))
    if amount > MAX_AMOUNT:
        raise InvalidAmountError("an amount may not exceed ¥100,000,000.00", value=str(value))
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidAmountError("an amount has at most two decimal places (fen)", value=str(value))
    return amount.quantize(Decimal("0.01"))


def _parse_text(text: str) -> Decimal:
    if len(text) > MAX_TEXT:
        raise InvalidAmountError(
            f"an amount is at most {MAX_TEXT} characters", value=text[:MAX_TEXT]
        )
    cleaned = text.strip(" ")
    found = _AMOUNT.fullmatch(cleaned)
    if found is None:
        _refuse(cleaned)
    whole, fen = found["whole"].replace(",", ""), found["fen"] or ""
    return Decimal(f"{found['sign'] or ''}{whole}.{fen or '0'}")


def _refuse(text: str) -> NoReturn:
    """Refuse ``text`` with the clearest reason it is not an amount."""
    if any(not ("0" <= ch <= "9") and unicodedata.category(ch) == "Nd" for ch in text):
        raise InvalidAmountError("write amounts with the ASCII digits 0-9", value=text)
    if _CURRENCY_LIKE.search(text):
        raise UnsupportedCurrencyError("only yuan (CNY) amounts are accepted", value=text)
    if re.search(r"\.[0-9]{3}", text):
        raise InvalidAmountError("an amount has at most two decimal places (fen)", value=text)
    if "," in text:
        raise InvalidAmountError(
            "a comma separates thousands, in groups of three digits (12,000.00); "
            "fen follow a point, not a comma",
            value=text,
        )
    raise InvalidAmountError(f"not an amount of yuan: write it as {EXAMPLES}", value=text)


def format_yuan(amount: Decimal) -> str:
    """``12,000.00``: two places, thousands grouped; :func:`parse_yuan` reads it back exactly."""
    return f"{amount:,.2f}"


Yuan = Annotated[
    Decimal,
    BeforeValidator(parse_yuan),
    PlainSerializer(lambda amount: f"{amount:.2f}", return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": AMOUNT_PATTERN, "maxLength": MAX_TEXT},
                {"type": "integer", "minimum": 1, "maximum": int(MAX_AMOUNT)},
            ],
            "description": f"yuan, exact: {EXAMPLES} (at most two places; no floats)",
            "examples": ["12000.00"],
        },
        mode="validation",
    ),
]
"""A pydantic field type for money: validated by :func:`parse_yuan` (which raises
:class:`~govflow.domain.errors.InvalidAmountError`, answered as ``money.invalid_amount``),
serialised as a string with two places."""
