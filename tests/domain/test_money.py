"""The money parser: exact yuan in the usual unambiguous spellings, nothing else."""

import string
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from govflow.domain.errors import InvalidAmountError, InvalidInputError, UnsupportedCurrencyError
from govflow.domain.money import MAX_AMOUNT, format_yuan, parse_yuan


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
        ("12,000元", "12000.00"),
        ("1,234,567.8", "1234567.80"),
        ("0.5", "0.50"),
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
        "1,5",
        "12,0,0,0",
        "1,2345",
        "12,000,00",
        "１２０００",
        "١٢٠٠٠",
        "012000",
        "12000.",
        ".5",
        "+12000",
        "12000.000",
        "1" * 41,
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


# -- properties ---------------------------------------------------------------------------

AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2)
PREFIXES = st.sampled_from(["", "¥", "￥", "CNY ", "CNY", "RMB ", "RMB"])
SUFFIXES = st.sampled_from(["", "元", " CNY", "CNY", " RMB", "RMB"])
OTHER_DIGITS = st.characters(categories=["Nd"]).filter(lambda ch: not "0" <= ch <= "9")


def spellings(amount: Decimal) -> list[str]:
    """Every way a person may write ``amount``: plain or grouped, with or without its fen."""
    plain, grouped = f"{amount:.2f}", format_yuan(amount)
    forms = [plain, grouped]
    if amount == amount.to_integral_value():
        forms += [f"{amount:.0f}", f"{amount:,.0f}"]
    if amount * 10 == (amount * 10).to_integral_value():
        forms += [f"{amount:.1f}", f"{amount:,.1f}"]
    return forms


@given(amount=AMOUNTS, prefix=PREFIXES, suffix=SUFFIXES, index=st.integers(0, 5))
def test_every_valid_spelling_reads_back_exactly(
    amount: Decimal, prefix: str, suffix: str, index: int
) -> None:
    """Each accepted spelling of an amount, decorated or not, parses to that amount."""
    forms = spellings(amount)
    text = prefix + forms[index % len(forms)] + suffix
    parsed = parse_yuan(text)
    assert parsed == amount and parsed.as_tuple().exponent == -2, text


@given(amount=AMOUNTS)
def test_the_format_round_trips(amount: Decimal) -> None:
    """What :func:`format_yuan` writes, :func:`parse_yuan` reads back as the same amount."""
    assert parse_yuan(format_yuan(amount)) == amount


@given(whole=st.integers(min_value=1, max_value=int(MAX_AMOUNT)))
def test_whole_numbers_are_yuan(whole: int) -> None:
    """A JSON integer is that many yuan."""
    assert parse_yuan(whole) == Decimal(whole)


@given(amount=AMOUNTS, digit=OTHER_DIGITS, data=st.data())
def test_a_non_ascii_digit_is_refused(amount: Decimal, digit: str, data: st.DataObject) -> None:
    """Full-width, Arabic-Indic or any other non-ASCII digit anywhere makes it no amount."""
    text = data.draw(st.sampled_from(spellings(amount)))
    at = data.draw(st.integers(0, len(text)))
    replace = data.draw(st.booleans()) and at < len(text) and text[at].isdigit()
    hostile = text[:at] + digit + text[at + 1 if replace else at :]
    with pytest.raises(InvalidAmountError) as caught:
        parse_yuan(hostile)
    assert "ASCII" in caught.value.message or "characters" in caught.value.message


@given(text=st.text(max_size=60), digit=OTHER_DIGITS, at=st.integers(0, 60))
def test_any_text_with_a_non_ascii_digit_is_refused(text: str, digit: str, at: int) -> None:
    """Whatever surrounds it, a non-ASCII digit is never read as a number."""
    with pytest.raises(InvalidAmountError):
        parse_yuan(text[:at] + digit + text[at:])


@given(
    first=st.integers(1, 999),
    groups=st.lists(st.integers(0, 99_999), min_size=1, max_size=3),
    widths=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    fen=st.sampled_from(["", ".5", ".50"]),
)
def test_bad_thousands_grouping_is_refused(
    first: int, groups: list[int], widths: list[int], fen: str
) -> None:
    """A comma that does not separate groups of exactly three digits (``1,5``, ``12,0,0,0``,
    ``1,2345``) is refused, never read by dropping the commas."""
    widths = (widths * len(groups))[: len(groups)]
    assume(any(w != 3 for w in widths))
    text = (
        str(first)
        + "".join(f",{g % 10**w:0{w}d}" for g, w in zip(groups, widths, strict=True))
        + fen
    )
    with pytest.raises(InvalidAmountError):
        parse_yuan(text)


@given(whole=st.integers(0, 10**6), fen=st.integers(0, 10**6), places=st.integers(3, 6))
def test_more_than_two_decimals_are_refused(whole: int, fen: int, places: int) -> None:
    """A third decimal, even a zero, is refused: a fen is the smallest unit."""
    with pytest.raises(InvalidAmountError):
        parse_yuan(f"{whole}.{fen % 10**places:0{places}d}")


@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_floats_are_always_refused(value: float) -> None:
    """A binary float is never money, however round it looks."""
    with pytest.raises(InvalidAmountError):
        parse_yuan(value)


@given(text=st.text(max_size=50))
def test_any_text_is_an_exact_amount_or_a_stable_refusal(text: str) -> None:
    """Any string either is an amount in range with two places, or is refused with a stable
    money code (never another exception)."""
    try:
        amount = parse_yuan(text)
    except InvalidInputError as error:
        assert error.code in ("money.invalid_amount", "money.unsupported_currency")
        return
    assert Decimal("0.01") <= amount <= MAX_AMOUNT and amount.as_tuple().exponent == -2
    assert text.isascii() or set(text) - set(string.printable) <= {"¥", "￥", "元"}
