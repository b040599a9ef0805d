"""The command line in English, German and French: the language from the environment as GNU
gettext reads it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), the same --json output in every language,
the command-line reference always in English.

The commands run as real processes, as a user runs them (the catalogues must be compiled, as
scripts/install.sh does)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError
from django.utils import translation

from mailadmin.cli import ProjectCommand, language_from_environment
from tests.dbutil import ROOT, run_cli, run_cli_inprocess

# Every variable gettext reads, unset ("" counts as unset) unless a test gives it.
NO_LANGUAGE = {"LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}
NOTHING_TO_CHANGE = {
    "en": "Nothing to change: give at least one option.",
    "de": "Nichts zu ändern: Geben Sie mindestens eine Option an.",
    "fr": "Rien à modifier : donnez au moins une option.",
}


def run_in(environment: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """``manage.py ARGS`` as a process with these language variables (and wide help: no wrapping)."""
    return run_cli(*args, stdin=stdin, **{**NO_LANGUAGE, "COLUMNS": "250", **environment})


@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"LANG": "de_DE.UTF-8"}, "de"),
        ({"LANG": "de_AT"}, "de"),
        ({"LANG": "de_DE@euro"}, "de"),
        ({"LANG": "fr_CA.utf8"}, "fr"),
        ({"LC_MESSAGES": "fr_FR.UTF-8", "LANG": "de_DE.UTF-8"}, "fr"),
        ({"LC_ALL": "de_DE.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "de"),
        ({"LC_ALL": "", "LANG": "de_DE.UTF-8"}, "de"),  # empty is unset
        ({"LANGUAGE": "fr:de", "LANG": "de_DE.UTF-8"}, "fr"),
        ({"LANGUAGE": "eo:de_CH:fr", "LANG": "en_US.UTF-8"}, "de"),  # the first the project has
        ({"LANGUAGE": "fr", "LANG": "C.UTF-8"}, "fr"),
        ({"LANGUAGE": "eo", "LANG": "de_DE.UTF-8"}, "en"),  # LANGUAGE's list decides, as in gettext
        ({"LANGUAGE": "de", "LC_ALL": "C"}, "en"),  # C: the program's own words (LC_ALL=C in a script)
        ({"LANGUAGE": "de", "LANG": "POSIX"}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "xx_YY"}, "en"),
        ({"LANG": "pt_BR.UTF-8"}, "en"),  # a language the project does not have
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_language_comes_from_the_environment_as_gettext_reads_it(environment, language):
    assert language_from_environment(environment) == language


def test_every_command_of_the_project_speaks_the_environments_language():
    apps = {"mailadmin", "domains", "accounts", "aliases", "vacation", "policy", "mailserver", "imports", "api"}
    ours = {name: app for name, app in get_commands().items() if app in apps}
    assert len(ours) > 20
    assert [name for name, app in ours.items() if not isinstance(load_command_class(app, name), ProjectCommand)] == []


def make_mailbox() -> None:
    call_command("domain", "add", "example.org", stdout=StringIO())
    call_command("mailbox", "add", "alice@example.org", "--no-may-relay", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_command_speaks_the_language_of_lang():
    make_mailbox()
    german = {"LANG": "de_DE.UTF-8"}
    created = run_in(german, "bootstrap")
    assert created.returncode == 0, created.stderr
    assert "  Erster Superuser angelegt. Melden Sie sich an mit:\n    Adresse:  admin@example.com\n" in created.stdout
    assert "Das Passwort wird nur dieses eine Mal angezeigt" in created.stdout
    again = run_in(german, "bootstrap")
    assert again.stdout.startswith("Es gibt bereits einen Superuser;")
    refused = run_in(german, "mailbox", "set", "alice@example.org")
    assert (refused.returncode, refused.stderr) == (1, f"CommandError: {NOTHING_TO_CHANGE['de']}\n")
    shown = run_in(german, "superuser", "list")
    assert shown.stdout == "address=admin@example.com  has_mailbox=nein\n"  # the keys are the JSON's


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"LANGUAGE": "fr:de", "LANG": "de_DE.UTF-8"}, "fr"),
        ({"LC_ALL": "C", "LANGUAGE": "de"}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "xx_YY"}, "en"),
        ({}, "en"),
    ],
)
def test_languages_refused_or_preferred(environment, language):
    make_mailbox()
    refused = run_in(environment, "mailbox", "set", "alice@example.org")
    assert (refused.returncode, refused.stderr) == (1, f"CommandError: {NOTHING_TO_CHANGE[language]}\n")


@pytest.mark.django_db(transaction=True)
def test_json_output_is_the_same_in_every_language():
    make_mailbox()
    for args in (("mailbox", "list", "--json"), ("domain", "show", "example.org", "--json")):
        outputs = {
            language: run_in(environment, *args).stdout
            for language, environment in {
                "en": {"LANG": "C.UTF-8"},
                "de": {"LANG": "de_DE.UTF-8"},
                "fr": {"LANGUAGE": "fr", "LANG": "fr_FR.UTF-8"},
            }.items()
        }
        assert json.loads(outputs["en"]), args
        assert outputs["de"] == outputs["en"] and outputs["fr"] == outputs["en"], args
    # the same data as text: values in the language, keys as in the JSON
    assert "may_relay=non" in run_in({"LANG": "fr_FR.UTF-8"}, "mailbox", "list").stdout


def test_help_in_german():
    german = {"LANG": "de_DE.UTF-8"}
    helped = run_in(german, "mailbox", "add", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "\nein Postfach anlegen\n" in helped.stdout  # the verb's description
    assert "  --json                maschinenlesbares JSON ausgeben\n" in helped.stdout
    assert "das Passwort von stdin lesen (sonst wird eines erzeugt und einmalig ausgegeben)" in helped.stdout
    assert "--quota SIZE          0 = unbegrenzt (z. B. 500M oder 2G)" in helped.stdout
    overview = run_in(german, "help", "mailbox")  # manage.py help COMMAND: no run_from_argv
    assert (
        "\nPostfächer verwalten.\n" in overview.stdout and "    add-many            viele Postfächer" in overview.stdout
    )
    english = run_in({"LANG": "C.UTF-8"}, "mailbox", "add", "--help")
    assert "\ncreate a mailbox\n" in english.stdout and "  --json                print machine-readable JSON\n" in (
        english.stdout
    )


def test_the_reference_is_english_whatever_the_environment():
    """docs/cli.md is generated from the help: in a German environment it is the English text."""
    generated = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cli_reference.py")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, **NO_LANGUAGE, "LANGUAGE": "de", "LANG": "de_DE.UTF-8"},
        timeout=120,
    )
    assert generated.returncode == 0, generated.stderr
    assert generated.stdout == (ROOT / "docs" / "cli.md").read_text()


@pytest.mark.django_db
def test_the_command_line_language_ends_with_the_command(monkeypatch):
    """In-process (ManagementUtility, as manage.py): the environment's language while the command
    runs, the caller's again afterwards."""
    for name, value in {**NO_LANGUAGE, "LANG": "de_DE.UTF-8"}.items():
        monkeypatch.setenv(name, value)
    with translation.override("fr"):
        refused = run_cli_inprocess("domainalias", "set", "alias.example")
        assert translation.get_language() == "fr"
    assert refused.stderr == "CommandError: Nichts zu ändern: Geben Sie --active oder --no-active an.\n"


@pytest.mark.django_db
def test_call_command_keeps_the_callers_language(monkeypatch):
    """call_command (another command, a test) is not the command line: the caller's language holds,
    not the process environment's."""
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("LANGUAGE", "de")
    with translation.override("fr"), pytest.raises(CommandError, match="Rien à modifier : donnez --active"):
        call_command("domainalias", "set", "alias.example")
    with pytest.raises(CommandError, match="^Nothing to change: give --active or --no-active.$"):
        call_command("domainalias", "set", "alias.example")
