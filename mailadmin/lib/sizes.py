"""Storage sizes as people write them, stored as bytes.

Django-agnostic. Quotas are kept in bytes so any size can be set and an import keeps
the source's exact value; people write and read them in binary units: ``500M``,
``1.5 GB``, ``2GiB`` and ``10k`` are 500 × 1024², 1.5 × 1024³, 2 × 1024³ and 10 × 1024
bytes (K, M, G, T are powers of 1024, as Dovecot's quota rules read them); a bare number
is bytes. 0 means unlimited, as in Dovecot. Digits are ASCII only (``mailadmin.lib.numbers``).
"""

from __future__ import annotations

import re
from decimal import Decimal

from mailadmin.lib.messages import gettext_noop
from mailadmin.lib.numbers import NumberError

MB = 1024 * 1024
MAX_SIZE = 16 * 1024**4  # 16 TB for one quota is more than any real mail store holds
_UNITS = {"k": 1024, "m": MB, "g": 1024**3, "t": 1024**4}
_BARE_RE = re.compile(r"[0-9]+", re.ASCII)
_SIZE_RE = re.compile(r"([0-9]+)(?:\.([0-9]+))?\s*(?:([kmgt])(?:ib|b)?|b)", re.ASCII | re.IGNORECASE)


class SizeError(NumberError):
    """Text that is not a size in range; the message says why."""


def parse_size(text: str, *, maximum: int = MAX_SIZE, bare: str = "bytes") -> int:
    """``text`` as a whole number of bytes from 0 to ``maximum``.

    A number without a unit is bytes (``bare="bytes"``, as in a file of bytes); where people
    type sizes (``bare="refuse"``) only 0 may go without one: "1024" could mean MB as well.
    A size has no sign.
    """
    value = text.strip() if isinstance(text, str) else ""
    shown = value if len(value) <= 20 else value[:20] + "…"
    if _BARE_RE.fullmatch(value):
        if bare == "refuse" and value.strip("0"):
            raise SizeError(gettext_noop("Give a unit: %(shown)sM, %(shown)sG, or %(shown)sB for bytes."), shown=shown)
        whole, fraction, multiplier = value, "", 1
    elif match := _SIZE_RE.fullmatch(value):
        whole, fraction, unit = match.group(1), match.group(2) or "", match.group(3)
        multiplier = _UNITS[unit.lower()] if unit else 1
    else:
        raise SizeError(
            gettext_noop("%(shown)s is not a size: write a number with K, M, G or T (such as 500M or 1.5G)."),
            shown=repr(shown),
        )
    if len(whole.lstrip("0")) > 20 or len(fraction) > 20:
        raise SizeError(gettext_noop("Must be %(n)s or less."), n=format_size(maximum))
    size = Decimal(f"{whole}.{fraction or 0}") * multiplier
    if size != size.to_integral_value():
        raise SizeError(gettext_noop("%(shown)s is not a whole number of bytes."), shown=repr(shown))
    if size > maximum:
        raise SizeError(gettext_noop("Must be %(n)s or less."), n=format_size(maximum))
    return int(size)


UNIT_NAMES = {"TB": "TB", "GB": "GB", "MB": "MB", "KB": "KB", "bytes": "{} bytes"}


def format_size(size: int, *, zero: str = "unlimited", names=UNIT_NAMES, number=str) -> str:
    """Bytes as the panel shows them: ``512 MB``, ``1.5 GB``, ``900 bytes``; 0 is ``zero``.

    A language's own unit names (``names``, as ``UNIT_NAMES``) and way of writing a decimal
    (``number``, given the figure as ``"1.5"``) come from the caller (the panel's template filters).
    """
    if not size:
        return zero
    for unit, name in ((1024**4, "TB"), (1024**3, "GB"), (MB, "MB"), (1024, "KB")):
        if size >= unit:
            return number(f"{size / unit:.1f}".removesuffix(".0")) + f" {names[name]}"
    return names["bytes"].format(number(str(size)))


def size_input(size: int) -> str:
    """Bytes in the shortest form ``parse_size`` reads back exactly (for a form's initial value)."""
    for unit, suffix in ((1024**4, "T"), (1024**3, "G"), (MB, "M"), (1024, "K")):
        if size and size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)
