"""Shared base of the administrative commands (``manage.py domain|mailbox|alias|...``).

Each command has verbs (``add``, ``list``, ``show``, ``set``, ``delete`` ...)
as sub-commands. A verb returns data; the base prints it as a table or, with
``--json``, as JSON for scripts. Every error (bad input, unknown objects,
limits) is one clear message on stderr and exit status 1, and the service
layer's transaction guarantees nothing was half-written. The command line acts
as the system (``acting_user=None``), which is why only it can grant superuser
status.
"""

from __future__ import annotations

import argparse
import json
import sys

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from mailadmin.lib.numbers import NumberError, parse_int
from mailadmin.lib.sizes import SizeError, parse_size


def format_error(exc: ValidationError, separator: str = "\n") -> str:
    """A ValidationError as text: one problem per line (or per ``separator``), each naming its field.

    The one home of this wording: the command line, the importers' reports and the mail-store
    job's notes all say errors this way."""
    if hasattr(exc, "error_dict"):
        lines = []
        for field, errors in exc.message_dict.items():
            prefix = "" if field == "__all__" else f"{field}: "
            lines.extend(prefix + message for message in errors)
        return separator.join(lines)
    return separator.join(exc.messages)


def flag(parser, name: str, help_text: str) -> None:
    """--name / --no-name, left unset (None) when not given."""
    parser.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=None, help=help_text)


def size_option(parser, name: str, dest: str, help_text: str) -> None:
    """``--NAME SIZE`` (500M, 2G; ``mailadmin.lib.sizes``) into ``dest`` in bytes, and the older
    ``--NAME-mb N`` (whole MB) kept for existing scripts."""
    parser.add_argument(f"--{name}", dest=dest, type=_size, metavar="SIZE", help=f"{help_text} (such as 500M or 2G)")
    parser.add_argument(f"--{name}-mb", dest=dest, type=_megabytes, metavar="MB", help="the same in whole MB (older)")


def _size(text: str) -> int:
    try:
        return parse_size(text, bare="refuse")
    except SizeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _megabytes(text: str) -> int:
    try:
        return parse_size(f"{parse_int(text, minimum=0)}M")
    except NumberError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def whole_number(*, minimum: int = 0, maximum: int):
    """An argparse ``type=``: the digits 0-9 only, within the range (``mailadmin.lib.numbers``).

    A refused value is argparse's usage error naming the option: ``argument --max-mailboxes: ...``.
    """

    def parse(text: str) -> int:
        try:
            return parse_int(text, minimum=minimum, maximum=maximum)
        except NumberError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = "whole number"
    return parse


def given(options: dict, *names: str) -> dict:
    """The options among ``names`` that were given on the command line."""
    return {name: options[name] for name in names if options.get(name) is not None}


class VerbCommand(BaseCommand):
    """A command whose first argument is a verb, handled by ``verb_<name>``."""

    verbs: dict[str, str] = {}

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
        for verb, help_text in self.verbs.items():
            verb_parser = sub.add_parser(verb, help=help_text, description=help_text)
            verb_parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
            getattr(self, f"args_{verb.replace('-', '_')}", lambda p: None)(verb_parser)

    def handle(self, *args, **options):
        handler = getattr(self, f"verb_{options['verb'].replace('-', '_')}")
        try:
            result = handler(options)
        except ValidationError as exc:
            raise CommandError(format_error(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "Not allowed.") from None
        if result is not None:
            self.emit(result, as_json=options["json"])

    def emit(self, result, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(result, indent=2, sort_keys=True, default=str))
            return
        rows = result if isinstance(result, list) else [result]
        if not rows:
            self.stdout.write("(none)")
            return
        if isinstance(rows[0], dict):
            for row in rows:
                self.stdout.write("  ".join(f"{k}={_show(v)}" for k, v in row.items()))
        else:
            for row in rows:
                self.stdout.write(str(row))

    @staticmethod
    def read_secret(label: str) -> str:
        """One line from stdin (a password must never be an argument: ps shows those)."""
        line = sys.stdin.readline()
        if not line:
            raise CommandError(f"Expected the {label} on standard input.")
        return line.rstrip("\r\n")


def _show(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)
