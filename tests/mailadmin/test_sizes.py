"""Sizes as people write them: bytes stored, binary units, ASCII digits, clear refusals."""

import pytest

from mailadmin.lib.sizes import MB, SizeError, format_size, parse_size, size_input


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("1500000", 1_500_000),
        ("500M", 500 * MB),
        ("500 MB", 500 * MB),
        ("500 mib", 500 * MB),
        ("1.5G", 1536 * MB),
        ("2GiB", 2048 * MB),
        ("10k", 10240),
        ("1500000B", 1_500_000),
        ("16T", 16 * 1024**4),
        (" 2G ", 2048 * MB),
    ],
)
def test_sizes_people_write(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("17T", "Must be 16 TB or less."),
        ("-1", "is not a size"),
        ("+5M", "is not a size"),
        ("1e3", "is not a size"),
        ("５M", "is not a size"),
        ("10²", "is not a size"),
        ("1.3k", "is not a whole number of bytes"),
        ("5 megabytes", "is not a size"),
        ("9" * 5000, "Must be 16 TB or less."),
    ],
)
def test_sizes_refused_with_a_reason(text, reason):
    with pytest.raises(SizeError, match=reason):
        parse_size(text)


def test_where_people_type_a_bare_number_needs_a_unit_except_zero():
    with pytest.raises(SizeError, match="Give a unit: 1024M, 1024G, or 1024B for bytes."):
        parse_size("1024", bare="refuse")
    assert parse_size("0", bare="refuse") == 0 and parse_size("1024B", bare="refuse") == 1024


def test_shown_and_given_back():
    assert [format_size(n) for n in (0, 900, 1536, 512 * MB, 1536 * MB)] == [
        "unlimited",
        "900 bytes",
        "1.5 KB",
        "512 MB",
        "1.5 GB",
    ]
    assert format_size(0, zero="0 bytes") == "0 bytes"
    for size in (0, 1_500_000, 512 * MB, 2048 * MB, 1536 * MB, 1023):
        assert parse_size(size_input(size)) == size
