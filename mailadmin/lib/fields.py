"""Keyword arguments left out: services take every settable field by name, and change only those given.

Django-agnostic. ``UNSET`` is the default of a field a caller may leave as it is;
``given(values, names)`` picks the fields that were given, by name, from a function's ``locals()``.
"""

from __future__ import annotations

from collections.abc import Iterable


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = _Unset()


def given(values: dict, names: Iterable[str]) -> dict:
    """``{name: value}`` of ``names`` whose value in ``values`` is not ``UNSET``, in the order of ``names``."""
    return {name: values[name] for name in names if values[name] is not UNSET}
