import pytest

from mailadmin.lib.addresses import (
    AddressError,
    display_domain,
    normalize_address,
    normalize_domain,
    normalize_local_part,
    parse_destinations,
)


@pytest.mark.parametrize(
    "given, stored",
    [
        ("Example.ORG", "example.org"),
        ("example.org.", "example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("a-b.c-d.example", "a-b.c-d.example"),
        ("x" * 63 + ".org", "x" * 63 + ".org"),
    ],
)
def test_domains_are_stored_as_lower_case_a_labels(given, stored):
    assert normalize_domain(given) == stored


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("", "required"),
        ("localhost", "two labels"),
        ("a..org", "empty label"),
        ("-a.org", "hyphen"),
        ("a-.org", "hyphen"),
        ("under_score.org", "not a valid domain"),
        ("x" * 64 + ".org", "63"),
        (".".join(["abcdefghi"] * 26) + ".org", "253"),
        ("example.123", "numeric"),
        ("exa mple.org", "spaces"),
        ("evil.org\r\nX-Header: 1", "control"),
        ("user@example.org", "@"),
        ("'; DROP TABLE domains_domain; --.org", "cannot contain"),
        ("x';drop.org", "labels use letters"),
    ],
)
def test_bad_domain_names_are_refused_with_the_reason(bad, reason):
    with pytest.raises(AddressError, match=reason):
        normalize_domain(bad)


def test_u_labels_are_shown_to_people():
    assert display_domain("xn--bcher-kva.example") == "bücher.example"


@pytest.mark.parametrize(
    "given, stored",
    [("Alice", "alice"), ("first.last", "first.last"), ("a+tag", "a+tag"), ("o'neil", "o'neil"), ("x" * 64, "x" * 64)],
)
def test_local_parts_are_dot_atoms_stored_lower_case(given, stored):
    assert normalize_local_part(given) == stored


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("", "required"),
        (".alice", "not a valid local part"),
        ("alice.", "not a valid local part"),
        ("a..b", "not a valid local part"),
        ('"quoted"', "not a valid local part"),
        ("a b", "not a valid local part"),
        ("x" * 65, "64"),
        ("ünïcode", "ASCII"),
        ("a/../b", "slash"),
        ("|cmd", "pipe"),
        ("a%b", "percent"),
        ("a!b", "exclamation"),
        ("a\r\nb", "not a valid local part"),
    ],
)
def test_bad_local_parts_are_refused_with_the_reason(bad, reason):
    with pytest.raises(AddressError, match=reason):
        normalize_local_part(bad)


def test_catchall_local_part_is_empty_only_when_allowed():
    assert normalize_local_part("", allow_empty=True) == ""
    with pytest.raises(AddressError):
        normalize_local_part("")


def test_addresses_normalise_both_halves():
    assert normalize_address(" Alice@Bücher.Example ") == "alice@xn--bcher-kva.example"
    with pytest.raises(AddressError, match="no @"):
        normalize_address("alice")


def test_destinations_expand_bare_names_in_the_same_domain_and_drop_duplicates():
    assert parse_destinations("bob, carol@example.net\nbob@example.org", "example.org") == [
        "bob@example.org",
        "carol@example.net",
    ]


def test_a_bad_destination_is_named():
    with pytest.raises(AddressError, match="Destination 'x@@y'"):
        parse_destinations(["bob", "x@@y"], "example.org")
    with pytest.raises(AddressError, match="At least one"):
        parse_destinations(" , ", "example.org")
