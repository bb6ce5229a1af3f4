"""Money is ``Decimal`` yuan with at most two places: never a float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from govflow.domain.errors import InvalidAmountError, UnsupportedCurrencyError

MAX_AMOUNT = Decimal("100000000.00")
DEFAULT_THRESHOLD = Decimal("10000.00")
_YUAN_MARKS = ("¥", "￥", "CNY", "RMB", "元")
_CURRENCY_LIKE = re.compile(r"^[A-Z]{3}(?![A-Za-z])|(?<![A-Za-z])[A-Z]{3}$|[$€£₩₹]")


def parse_yuan(value: Any) -> Decimal:
    """Parse an amount of yuan, refusing anything that could lose or invent a fen.

    Accepts ``Decimal``, ``int`` and strings such as ``"12000"``, ``"12,000.50"``,
    ``"¥12000"`` or ``"12000 CNY"``. Refuses floats, NaN, infinities, zero or negative
    amounts, more than two decimal places, amounts over ¥100,000,000.00 and other currencies.
    """
    if isinstance(value, (bool, float)):
        raise InvalidAmountError(
            'amounts must be exact: send a string such as "12000.00", not a floating-point number',
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
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidAmountError("an amount has at most two decimal places (fen)", value=str(value))
    if amount > MAX_AMOUNT:
        raise InvalidAmountError("an amount may not exceed ¥100,000,000.00", value=str(value))
    return amount.quantize(Decimal("0.01"))


def _parse_text(text: str) -> Decimal:
    cleaned = text.strip()
    for mark in _YUAN_MARKS:
        cleaned = cleaned.replace(mark, "")
    cleaned = cleaned.strip().replace(",", "")
    if _CURRENCY_LIKE.search(cleaned):
        raise UnsupportedCurrencyError("only yuan (CNY) amounts are accepted", value=text)
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", cleaned):
        raise InvalidAmountError("not an amount of yuan", value=text)
    try:
        return Decimal(cleaned)
    except InvalidOperation as error:  # pragma: no cover - the pattern above already guards
        raise InvalidAmountError("not an amount of yuan", value=text) from error


Yuan = Annotated[
    Decimal,
    BeforeValidator(parse_yuan),
    PlainSerializer(lambda amount: f"{amount:.2f}", return_type=str, when_used="json"),
]
"""A pydantic field type for money: validated by :func:`parse_yuan`, serialised as a string."""
