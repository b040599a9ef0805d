"""Shared base of the administrative commands (``manage.py domain|mailbox|alias|...``).

Each command has verbs (``add``, ``list``, ``show``, ``set``, ``delete`` ...)
as sub-commands. A verb returns data; the base prints it as a table or, with
``--json``, as JSON for scripts. Every error (bad input, unknown objects,
limits) is one clear message on stderr and exit status 1, and the service
layer's transaction guarantees nothing was half-written. The command line acts
as the system (``acting_user=None``), which is why only it can grant superuser
status.

Every command of the project (``ProjectCommand``) speaks the language the environment asks
for, as other command-line programs do (``language_from_environment``); the ``--json`` output
is the same in every language.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from mailadmin.lib.numbers import NumberError, parse_int
from mailadmin.lib.sizes import SizeError, parse_size


def language_from_environment(environ: Mapping[str, str] = os.environ) -> str:
    """The language a command speaks, read from the environment as GNU gettext reads it.

    The locale is LC_ALL, else LC_MESSAGES, else LANG (``de_DE.UTF-8`` is German). LANGUAGE, a
    list in order of preference (``fr:de``), comes before it unless the locale is C or POSIX
    (which asks for the program's own words: ``LC_ALL=C`` in a script). The first of them the
    project has (settings.LANGUAGES) is chosen; none (C, POSIX, nothing set, a language the project
    lacks) is English, the language the messages are written in."""
    locale = environ.get("LC_ALL") or environ.get("LC_MESSAGES") or environ.get("LANG") or "C"
    wanted = environ.get("LANGUAGE") if locale not in ("C", "POSIX") else None
    for name in (wanted or locale).split(":"):
        code = name.partition(".")[0].partition("@")[0].replace("_", "-").lower()
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return "en"


class ProjectCommand(BaseCommand):
    """The base of every command of the project's apps: it speaks the environment's language."""

    def run_from_argv(self, argv):
        # Django reads neither LANGUAGE nor LANG: with no language activated, a command speaks
        # settings.LANGUAGE_CODE (English). The environment's language is activated here, where the
        # command line enters, rather than in execute(): argparse builds the help and checks the
        # arguments (--help, a refused value) before execute() runs, and call_command (another
        # command, a test) keeps the language of its caller, not the process environment's.
        with translation.override(language_from_environment()):
            super().run_from_argv(argv)

    def print_help(self, prog_name, subcommand):
        # ``manage.py help COMMAND`` comes here without run_from_argv.
        with translation.override(language_from_environment()):
            super().print_help(prog_name, subcommand)

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.description = str(self.help) or None  # argparse wraps a str, not a lazy translation
        return parser


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
    parser.add_argument(
        f"--{name}",
        dest=dest,
        type=_size,
        metavar="SIZE",
        help=_("%(help)s (such as 500M or 2G)") % {"help": help_text},
    )
    parser.add_argument(
        f"--{name}-mb", dest=dest, type=_megabytes, metavar="MB", help=_("the same in whole MB (older)")
    )


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


class VerbCommand(ProjectCommand):
    """A command whose first argument is a verb, handled by ``verb_<name>``."""

    verbs: dict[str, str] = {}

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
        for verb, help_text in self.verbs.items():
            verb_parser = sub.add_parser(verb, help=help_text, description=str(help_text))
            verb_parser.add_argument("--json", action="store_true", help=_("print machine-readable JSON"))
            getattr(self, f"args_{verb.replace('-', '_')}", lambda p: None)(verb_parser)

    def handle(self, *args, **options):
        handler = getattr(self, f"verb_{options['verb'].replace('-', '_')}")
        try:
            result = handler(options)
        except ValidationError as exc:
            raise CommandError(format_error(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc) or _("Not allowed.")) from None
        if result is not None:
            self.emit(result, as_json=options["json"])

    def emit(self, result, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(result, indent=2, sort_keys=True, default=str))
            return
        rows = result if isinstance(result, list) else [result]
        if not rows:
            self.stdout.write(_("(none)"))
            return
        if isinstance(rows[0], dict):
            for row in rows:
                self.stdout.write("  ".join(f"{k}={_show(v)}" for k, v in row.items()))
        else:
            for row in rows:
                self.stdout.write(str(row))

    @staticmethod
    def read_secret(label: str) -> str:
        """One line from stdin (a password must never be an argument: ps shows those); ``label``
        names it in the error, translated (``_("password")``)."""
        line = sys.stdin.readline()
        if not line:
            raise CommandError(_("Expected the %(secret)s on standard input.") % {"secret": label})
        return line.rstrip("\r\n")


def _show(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)
