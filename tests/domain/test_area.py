"""The area parser: a household's exclusive area (an owner's voting weight, 民法典 Art. 278) in
square metres, in one unambiguous spelling, nothing else."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govflow.domain.area import MAX_AREA, InvalidAreaError, format_area, parse_area
from govflow.domain.errors import InvalidInputError


@pytest.mark.parametrize(
    ("value", "area"),
    [
        ("85", "85.00"),
        ("85.5", "85.50"),
        ("85.50", "85.50"),
        ("0.01", "0.01"),
        ("0.5", "0.50"),
        (" 89.50 ", "89.50"),
        ("89.50㎡", "89.50"),
        ("89.50 ㎡", "89.50"),
        ("89.50m2", "89.50"),
        ("89.50 m²", "89.50"),
        ("89.50平方米", "89.50"),
        ("100000", "100000.00"),
        (85, "85.00"),
        (Decimal("9.9"), "9.90"),
    ],
)
def test_accepts_exact_areas(value: object, area: str) -> None:
    """ASCII digits with at most two decimals (optionally ㎡, m², m2 or 平方米), JSON integers and
    Decimals parse to a two-place Decimal."""
    parsed = parse_area(value)
    assert parsed == Decimal(area) and parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "value",
    [
        "١٢٣",  # Arabic-Indic digits
        "１２",  # full-width digits
        "12_000",
        "1e2",
        "1E2",
        85.5,  # a JSON float
        85.0,
        float("nan"),
        True,
        False,
        None,
        [85],
        "NaN",
        "Infinity",
        "",
        " ",
        "0",
        "0.00",
        "-5",
        "+5",
        "085",
        "85.",
        ".5",
        "85.001",
        "85.500",
        "8,500",
        "85,5",
        "85 5",
        "100000.01",
        "1" * 41,
        "85 ft²",
        "85㎡㎡",
        "㎡",
        "85\u200b",
        Decimal("NaN"),
        Decimal("-1"),
        Decimal("1.001"),
        0,
        -1,
        10**20,
    ],
)
def test_refuses_ambiguous_or_out_of_range(value: object) -> None:
    """Non-ASCII digits, underscores, exponents, floats, booleans, zero, negatives, more than
    two decimals and areas past the bound are ``area.invalid`` with a message."""
    with pytest.raises(InvalidAreaError) as caught:
        parse_area(value)
    assert caught.value.code == "area.invalid"
    assert caught.value.status == 422 and caught.value.message


def test_the_messages_say_why() -> None:
    """The refusal names the reason a person can act on."""
    for value, words in (
        ("١٢٣", "ASCII"),
        (85.5, "floating-point"),
        ("85.001", "two decimal"),
        ("0", "positive"),
        ("100000.01", "100,000"),
        ("1e2", "square metres"),
    ):
        with pytest.raises(InvalidAreaError) as caught:
            parse_area(value)
        assert words in caught.value.message, (value, caught.value.message)


# -- properties ---------------------------------------------------------------------------

AREAS = st.decimals(min_value=Decimal("0.01"), max_value=MAX_AREA, places=2)
SUFFIXES = st.sampled_from(["", "㎡", " ㎡", "m2", " m2", "m²", " m²", "平方米", " 平方米"])
OTHER_DIGITS = st.characters(categories=["Nd"]).filter(lambda ch: not "0" <= ch <= "9")


def spellings(area: Decimal) -> list[str]:
    """Every way a clerk may write ``area``: with two, one or no decimals."""
    forms = [f"{area:.2f}"]
    if area == area.to_integral_value():
        forms.append(f"{area:.0f}")
    if area * 10 == (area * 10).to_integral_value():
        forms.append(f"{area:.1f}")
    return forms


@given(area=AREAS, suffix=SUFFIXES, data=st.data())
def test_every_valid_spelling_reads_back_exactly(
    area: Decimal, suffix: str, data: st.DataObject
) -> None:
    """Each accepted spelling of an area, with or without its unit, parses to that area."""
    text = data.draw(st.sampled_from(spellings(area))) + suffix
    parsed = parse_area(text)
    assert parsed == area and parsed.as_tuple().exponent == -2, text


@given(area=AREAS)
def test_the_format_round_trips(area: Decimal) -> None:
    """What :func:`format_area` writes, :func:`parse_area` reads back as the same area."""
    assert parse_area(format_area(area)) == area


@given(whole=st.integers(min_value=1, max_value=int(MAX_AREA)))
def test_whole_numbers_are_square_metres(whole: int) -> None:
    """A JSON integer in range is that many square metres."""
    assert parse_area(whole) == Decimal(whole)


@given(whole=st.integers().filter(lambda n: not 1 <= n <= MAX_AREA))
def test_whole_numbers_out_of_range_are_refused(whole: int) -> None:
    """Zero, negatives and integers past the bound (however large) are refused."""
    with pytest.raises(InvalidAreaError):
        parse_area(whole)


@given(area=AREAS, digit=OTHER_DIGITS, data=st.data())
def test_a_non_ascii_digit_is_refused(area: Decimal, digit: str, data: st.DataObject) -> None:
    """Full-width, Arabic-Indic or any other non-ASCII digit anywhere makes it no area."""
    text = data.draw(st.sampled_from(spellings(area)))
    at = data.draw(st.integers(0, len(text)))
    replace = data.draw(st.booleans()) and at < len(text)
    hostile = text[:at] + digit + text[at + 1 if replace else at :]
    with pytest.raises(InvalidAreaError):
        parse_area(hostile)


@given(area=AREAS, at=st.integers(1, 8), data=st.data())
def test_underscores_and_exponents_are_refused(area: Decimal, at: int, data: st.DataObject) -> None:
    """Python's ``12_000`` and ``1e2`` (which ``Decimal()`` would read) are never areas."""
    text = f"{area:.0f}"
    mark = data.draw(st.sampled_from(["_", "e", "E", "e+", "E-"]))
    hostile = text[:at] + mark + text[at:] if mark == "_" else text + mark + "2"
    with pytest.raises(InvalidAreaError):
        parse_area(hostile)


@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_floats_are_always_refused(value: float) -> None:
    """A binary float is never an area, however round it looks."""
    with pytest.raises(InvalidAreaError):
        parse_area(value)


@given(whole=st.integers(0, 10**6), frac=st.integers(0, 10**6), places=st.integers(3, 6))
def test_more_than_two_decimals_are_refused(whole: int, frac: int, places: int) -> None:
    """A third decimal, even a zero, is refused: areas are recorded to the hundredth of a m²."""
    with pytest.raises(InvalidAreaError):
        parse_area(f"{whole}.{frac % 10**places:0{places}d}")


@given(text=st.text(max_size=50))
def test_any_text_is_an_exact_area_or_a_stable_refusal(text: str) -> None:
    """Any string either is an area in range with two places, or is refused with
    ``area.invalid`` (never another exception)."""
    try:
        area = parse_area(text)
    except InvalidInputError as error:
        assert error.code == "area.invalid"
        return
    assert Decimal("0.01") <= area <= MAX_AREA and area.as_tuple().exponent == -2
    assert set(text) <= set("0123456789. ㎡m2²平方米")
