from decimal import Decimal

import pytest

from govflow.domain.errors import InvalidAmountError, UnsupportedCurrencyError
from govflow.domain.money import parse_yuan


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("12000", "12000.00"),
        ("12,000.50", "12000.50"),
        ("¥12000", "12000.00"),
        ("12000 CNY", "12000.00"),
        ("0.01", "0.01"),
        ("100000000.00", "100000000.00"),
        (12000, "12000.00"),
        (Decimal("9.9"), "9.90"),
        ("￥8,000元", "8000.00"),
    ],
)
def test_accepts_exact_yuan(text: object, amount: str) -> None:
    """Exact yuan amounts in the usual spellings parse to two-place Decimals."""
    assert parse_yuan(text) == Decimal(amount)
    assert parse_yuan(text).as_tuple().exponent == -2


@pytest.mark.parametrize(
    "value",
    [
        12000.0,
        0.1,
        float("nan"),
        float("inf"),
        True,
        "NaN",
        "Infinity",
        "-5",
        "0",
        "0.00",
        "1.001",
        "100000000.01",
        "1e5",
        "12 000",
        "",
        "abc",
        None,
        [1],
    ],
)
def test_refuses_inexact_or_out_of_range(value: object) -> None:
    """Floats, NaN, infinities, zero, negatives, extra places and huge amounts are refused."""
    with pytest.raises(InvalidAmountError):
        parse_yuan(value)


@pytest.mark.parametrize("value", ["USD 100", "$100", "100 EUR", "€5", "100 HKD"])
def test_refuses_other_currencies(value: str) -> None:
    """Only yuan are accepted; another currency gets its own error code."""
    with pytest.raises(UnsupportedCurrencyError) as caught:
        parse_yuan(value)
    assert caught.value.code == "money.unsupported_currency"
