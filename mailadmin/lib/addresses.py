"""Parsing and validation of domain names, local parts and mail addresses.

Django-agnostic: raises ``AddressError`` with a message naming the reason, so
forms, the CLI and (later) the API can show it as it is.

Rules:
- Domain names are stored as lower-case A-labels (IDNA 2008 via ``idna``),
  at most 253 octets, labels of 1-63 octets, letters/digits/hyphens, no
  leading or trailing hyphen, at least two labels, a top-level label that is
  not all digits.
- Local parts are RFC 5321 dot-atoms of at most 64 octets, ASCII only, stored
  lower-case. Four atext characters are refused because the mail system gives
  them a meaning: ``/`` (the local part names a directory in the mail store),
  ``|`` (a pipe in an Exim redirect list), ``%`` and ``!`` (source-routing
  hacks that relays still honour).
"""

from __future__ import annotations

import re

import idna

from mailadmin.lib.messages import HelperError, gettext_noop

MAX_DOMAIN_OCTETS = 253
MAX_LABEL_OCTETS = 63
MAX_LOCAL_PART_OCTETS = 64
MAX_ADDRESS_OCTETS = 254  # RFC 5321 path limit (256) less the angle brackets

_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# RFC 5322 atext, less the four characters described above.
_ATEXT = r"A-Za-z0-9#$&'*+\-=?^_`{}~"
_DOT_ATOM_RE = re.compile(rf"^[{_ATEXT}]+(?:\.[{_ATEXT}]+)*$")
_REFUSED = {
    "/": gettext_noop("A local part cannot contain a slash."),
    "|": gettext_noop("A local part cannot contain a pipe (|)."),
    "%": gettext_noop("A local part cannot contain a percent sign."),
    "!": gettext_noop("A local part cannot contain an exclamation mark."),
}


class AddressError(HelperError):
    """An invalid domain name, local part or address; the message says why."""


def normalize_domain(value: str) -> str:
    """Return the A-label form of a domain name, or raise AddressError."""
    if not isinstance(value, str):
        raise AddressError(gettext_noop("A domain name must be text."))
    name = value.strip().rstrip(".")
    if not name:
        raise AddressError(gettext_noop("A domain name is required."))
    if any(ord(ch) < 33 or ch in "\x7f@" for ch in name):
        raise AddressError(gettext_noop("A domain name cannot contain spaces, control characters or @."))
    if any(not label for label in name.split(".")):
        raise AddressError(gettext_noop("'%(name)s' has an empty label (two dots in a row)."), name=_shorten(name))
    if name.isascii():
        ascii_name = name
        if "xn--" in name.lower():  # an A-label must decode to a valid U-label
            try:
                idna.decode(name.lower())
            except (idna.IDNAError, UnicodeError):
                raise AddressError(
                    gettext_noop("'%(name)s' has an invalid internationalised (xn--) label."), name=_shorten(name)
                ) from None
    else:
        try:
            ascii_name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise AddressError(
                gettext_noop("'%(name)s' is not a valid internationalised domain name: %(reason)s."),
                name=_shorten(name),
                reason=exc,
            ) from None
    ascii_name = ascii_name.lower()
    if len(ascii_name) > MAX_DOMAIN_OCTETS:
        raise AddressError(gettext_noop("A domain name is at most %(n)s characters long."), n=MAX_DOMAIN_OCTETS)
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise AddressError(
            gettext_noop("'%(name)s' needs at least two labels (like example.org)."), name=_shorten(name)
        )
    for label in labels:
        if len(label) > MAX_LABEL_OCTETS:
            raise AddressError(gettext_noop("A domain label is at most %(n)s characters long."), n=MAX_LABEL_OCTETS)
        if not _LABEL_RE.match(label):
            raise AddressError(
                gettext_noop(
                    "'%(name)s' is not a valid domain name: labels use letters, "
                    "digits and hyphens, and do not start or end with a hyphen."
                ),
                name=_shorten(name),
            )
    if labels[-1].isdigit():
        raise AddressError(gettext_noop("'%(name)s' has an all-numeric top-level label."), name=_shorten(name))
    return ascii_name


def display_domain(ascii_name: str) -> str:
    """The U-label form of a stored A-label domain name, for people."""
    try:
        return idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError):
        return ascii_name


def normalize_local_part(value: str, *, allow_empty: bool = False) -> str:
    """Return the canonical (lower-case) local part, or raise AddressError.

    ``allow_empty`` admits the empty local part of a catch-all alias.
    """
    if not isinstance(value, str):
        raise AddressError(gettext_noop("A local part must be text."))
    local = value.strip()
    if not local:
        if allow_empty:
            return ""
        raise AddressError(gettext_noop("A local part (the name before the @) is required."))
    if not local.isascii():
        raise AddressError(gettext_noop("A local part must use ASCII characters only."))
    for char, refusal in _REFUSED.items():
        if char in local:
            raise AddressError(refusal)
    if len(local.encode()) > MAX_LOCAL_PART_OCTETS:
        raise AddressError(gettext_noop("A local part is at most %(n)s characters long."), n=MAX_LOCAL_PART_OCTETS)
    if not _DOT_ATOM_RE.match(local):
        raise AddressError(
            gettext_noop(
                "'%(name)s' is not a valid local part: use letters, digits and "
                "#$&'*+-=?^_`{}~, with single dots between them (not at either end)."
            ),
            name=_shorten(local),
        )
    return local.lower()


def split_address(value: str) -> tuple[str, str]:
    """Split and normalise an address into (local part, A-label domain)."""
    if not isinstance(value, str):
        raise AddressError(gettext_noop("An address must be text."))
    text = value.strip()
    if "@" not in text:
        raise AddressError(gettext_noop("'%(name)s' is not a mail address (no @)."), name=_shorten(text))
    local, _, domain = text.rpartition("@")
    address = f"{normalize_local_part(local)}@{normalize_domain(domain)}"
    if len(address) > MAX_ADDRESS_OCTETS:
        raise AddressError(gettext_noop("An address is at most %(n)s characters long."), n=MAX_ADDRESS_OCTETS)
    return address.split("@", 1)[0], address.split("@", 1)[1]


def normalize_address(value: str) -> str:
    """Return the canonical form of a full address, or raise AddressError."""
    local, domain = split_address(value)
    return f"{local}@{domain}"


def normalize_destination(value: str, default_domain: str) -> str:
    """A destination of an alias: a full address, or a bare name in ``default_domain``."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text and "@" not in text:
        text = f"{text}@{default_domain}"
    return normalize_address(text)


def parse_destinations(value: str | list[str], default_domain: str) -> list[str]:
    """Parse destinations given as a list or as text split on commas, spaces or lines.

    Returns the canonical addresses in the order given, without duplicates;
    raises AddressError naming the first bad one.
    """
    items = re.split(r"[\s,;]+", value) if isinstance(value, str) else list(value)
    result: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            continue
        try:
            address = normalize_destination(item, default_domain)
        except AddressError as exc:
            raise AddressError(
                gettext_noop("Destination '%(name)s': %(reason)s"), name=_shorten(item.strip()), reason=exc
            ) from None
        if address not in result:
            result.append(address)
    if not result:
        raise AddressError(gettext_noop("At least one destination is required."))
    return result


def _shorten(text: str, limit: int = 80) -> str:
    """Keep error messages short and printable whatever the input was."""
    printable = "".join(ch if ch.isprintable() else "\ufffd" for ch in text)
    return printable if len(printable) <= limit else printable[: limit - 1] + "\u2026"
