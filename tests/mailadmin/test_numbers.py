"""mailadmin.lib.numbers: whole numbers from text, ASCII digits only."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailadmin.lib.numbers import MAX_DIGITS, NumberError, parse_int

UNICODE_DIGITS = "²³¹⁰⁴₂٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９߀०১𝟎𝟗"
ASCII_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*")


def is_ascii_number(text: str) -> bool:
    """Digits 0-9 with a sign, white space around, and no control character but tab and line breaks."""
    controls = any(ch < " " and ch not in "\t\r\n" or ch == "\x7f" for ch in text)
    return bool(ASCII_NUMBER.fullmatch(text)) and not controls


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("42", 42), (" 7 ", 7), ("\t+5", 5), ("-3", -3), ("007", 7), ("0" * 50 + "1", 1), ("\u00a01\n", 1)],
)
def test_ascii_digits_are_numbers(text, expected):
    assert parse_int(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", " ", "10²", "²", "１０", "٣", "۵", "1_000", "1e3", "1.0", "1,000", "0x10", "--1", "+", "1 2", "\u00a0"],
)
def test_anything_else_is_refused_with_the_reason(text):
    with pytest.raises(NumberError, match="is not a whole number: use the digits 0-9"):
        parse_int(text)


def test_ranges():
    assert parse_int("5", minimum=0, maximum=5) == 5
    with pytest.raises(NumberError, match="^Must be 0 or more.$"):
        parse_int("-1", minimum=0)
    with pytest.raises(NumberError, match="^Must be 365 or less.$"):
        parse_int("366", maximum=365)
    with pytest.raises(NumberError, match="^Must be 365 or less.$"):
        parse_int("9" * 5000, maximum=365)  # past int()'s own digit limit: still a clear answer
    with pytest.raises(NumberError, match="^Must be 1 or more.$"):
        parse_int("-" + "9" * 5000, minimum=1)
    with pytest.raises(NumberError, match="^The number is too large.$"):
        parse_int("1" + "0" * MAX_DIGITS)


def test_a_long_bad_value_is_shortened_in_the_message():
    with pytest.raises(NumberError) as caught:
        parse_int("x" * 1000)
    assert len(str(caught.value)) < 80


@given(st.text(alphabet=st.sampled_from(list(UNICODE_DIGITS + "0123456789+- \t_.e")), max_size=12) | st.text())
def test_only_ascii_numbers_parse(text):
    try:
        value = parse_int(text, minimum=-(10**12), maximum=10**12)
    except NumberError as exc:
        assert str(exc)
        assert not is_ascii_number(text) or abs(int(text)) > 10**12
    else:
        assert is_ascii_number(text) and value == int(text)


@pytest.mark.parametrize("text", ["0\x1f", "\x1c7", "\x0b12", "5\x7f", "1\x002"])
def test_control_characters_around_a_number_are_refused(text):
    with pytest.raises(NumberError):
        parse_int(text)
