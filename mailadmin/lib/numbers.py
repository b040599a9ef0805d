"""Whole numbers typed as text: ASCII digits only, with a reason when refused.

Django-agnostic. Python's ``int()`` takes more than an administrator means by a number:
full-width and Arabic-Indic digits, underscores (``1_000``); and ``str.isdigit()`` is
true for superscripts (``²``) that ``int()`` then refuses with a ValueError. Every number
the project reads from text (forms, bulk lines, CSV files, importers, command-line
options) goes through ``parse_int``: an optional sign and the digits 0-9, with white
space around them ignored, nothing else. ``NumberError`` says why a text was refused;
callers prefix the field's name.
"""

from __future__ import annotations

import re

from mailadmin.lib.messages import HelperError, gettext_noop

MAX_DIGITS = 30  # far beyond any column; keeps int() away from its 4300-digit limit
_NUMBER_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)


class NumberError(HelperError):
    """Text that is not a whole number in range; the message says why."""


def parse_int(text: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``text`` (surrounding white space allowed) as an int within ``minimum``..``maximum``.

    White space includes a pasted no-break space, but no control character other than tab and line
    breaks: ``str.strip`` counts U+001C-U+001F as white space, so '0\x1f' would pass as 0 (found by
    Hypothesis)."""
    if isinstance(text, str) and any(ch < " " and ch not in "\t\r\n" or ch == "\x7f" for ch in text):
        raise NumberError(gettext_noop("A number cannot contain control characters."))
    value = text.strip() if isinstance(text, str) else ""
    if not _NUMBER_RE.fullmatch(value):
        shown = value if len(value) <= 20 else value[:20] + "…"
        raise NumberError(gettext_noop("%(shown)s is not a whole number: use the digits 0-9."), shown=repr(shown))
    negative = value.startswith("-")
    if len(value.lstrip("+-").lstrip("0")) > MAX_DIGITS:
        if maximum is not None and not negative:
            raise NumberError(gettext_noop("Must be %(n)s or less."), n=maximum)
        if minimum is not None and negative:
            raise NumberError(gettext_noop("Must be %(n)s or more."), n=minimum)
        raise NumberError(gettext_noop("The number is too large."))
    number = int(value)
    if minimum is not None and number < minimum:
        raise NumberError(gettext_noop("Must be %(n)s or more."), n=minimum)
    if maximum is not None and number > maximum:
        raise NumberError(gettext_noop("Must be %(n)s or less."), n=maximum)
    return number
