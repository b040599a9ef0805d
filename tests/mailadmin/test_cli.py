"""The command line: every task, --json output, clear errors, exit status, nothing half-written.

The whole journey runs as real processes; the many bad-input cases run through
Django's same entry point in-process (ManagementUtility: the same argument
parsing, error printing and exit status, without a process start each).
"""

import json

import pytest

from mailadmin.lib.sizes import MB
from tests.dbutil import run_cli, run_cli_inprocess, table_snapshot, view_rows


def run_json(*args: str, stdin: str = ""):
    result = run_cli_inprocess(*args, "--json", stdin=stdin)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def run_cli_json(*args: str, stdin: str | None = None):
    """As a separate process (the data must be committed: transactional tests only)."""
    result = run_cli(*args, "--json", stdin=stdin)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def make_directory(run):
    run("domain", "add", "example.org", "--max-mailboxes", "3", "--max-quota-mb", "500", "--default-quota-mb", "100")
    run("mailbox", "add", "alice@example.org", "--password-stdin", stdin="a long password\n")
    run("grant", "set", "alice@example.org", "--domain", "example.org", "--quota-mb", "300")


@pytest.fixture
def directory(db):
    make_directory(run_json)


@pytest.mark.django_db(transaction=True)
def test_every_task_from_the_cli_alone():
    make_directory(run_cli_json)
    generated = run_cli_json("mailbox", "add", "bob@example.org", "--quota-mb", "50", "--first-name", "Bob")
    assert len(generated["password"]) >= 16  # printed once
    assert run_cli_json("domainalias", "add", "example.net", "example.org")["target"] == "example.org"
    assert run_cli_json("alias", "add", "info@example.org", "alice", "bob")["destinations"] == [
        "alice@example.org",
        "bob@example.org",
    ]
    assert run_cli_json("alias", "add", "@example.org", "alice")["catchall"] is True
    assert (
        run_cli_json(
            "vacation", "set", "bob@example.org", "--mode", "custom", "--subject", "Away", "--body", "Back soon"
        )["mode"]
        == "custom"
    )
    assert (
        run_cli_json("mailbox", "set", "bob@example.org", "--no-may-relay", "--quota-mb", "60")["quota_bytes"]
        == 60 * MB
    )
    assert run_cli_json("grant", "show", "alice@example.org")["used_quota_bytes"] == 160 * MB
    assert run_cli_json("superuser", "grant", "alice@example.org")["has_mailbox"] is True
    assert [d["name"] for d in run_cli_json("domain", "list")] == ["example.org"]
    assert {r["address"] for r in view_rows("lookup_mailboxes_v1")} == {"alice@example.org", "bob@example.org"}
    assert {r["address"] for r in view_rows("lookup_aliases_v1")} == {"info@example.org", "@example.org"}
    assert (
        run_cli_json("mailbox", "passwd", "bob@example.org", "--password-stdin", stdin="another long one\n")["password"]
        == "changed"
    )
    assert run_cli_json("alias", "delete", "@example.org") == {"deleted": "@example.org"}


def test_human_output_is_one_line_per_object(directory):
    result = run_cli_inprocess("mailbox", "list")
    assert result.returncode == 0
    assert result.stdout.startswith("address=alice@example.org")


BAD_COMMANDS = [
    (("domain", "add", "bad_name.org"), "labels use letters"),
    (("domain", "add", "example.org"), "already exists"),
    (("domain", "add", "EXAMPLE.ORG."), "already exists"),
    (("domain", "add", "new.example", "--max-quota-mb", "10", "--default-quota-mb", "20"), "cannot exceed"),
    (("domain", "add", "new.example", "--max-mailboxes", "-1"), "argument --max-mailboxes: Must be 0 or more"),
    (("mailbox", "add", "big@example.org", "--quota-mb", "10²"), "argument --quota-mb: '10²' is not a whole number"),
    (
        ("domain", "set", "example.org", "--max-mailboxes", "0", "--max-quota-mb", "1", "--default-quota-mb", "1"),
        "larger or unlimited",
    ),
    (("domain", "set", "unknown.example", "--no-active"), "No domain unknown.example"),
    (("domain", "delete", "example.org"), "still has 1 mailbox"),
    (("mailbox", "add", "x@unknown.example"), "No domain unknown.example"),
    (("mailbox", "add", "ALICE@example.org"), "already exists"),
    (("mailbox", "add", "a..b@example.org"), "not a valid local part"),
    (("mailbox", "add", "'; DROP TABLE accounts_mailbox; --@example.org"), "not a valid local part"),
    (("mailbox", "add", "big@example.org", "--quota-mb", "501"), "at most 500 MB"),
    (("mailbox", "add", "big@example.org", "--quota-mb", "250"), "300 MB for all its domains; 200 MB are left"),
    (("mailbox", "add", "nolimit@example.org", "--quota-mb", "0"), "unlimited"),
    (("mailbox", "set", "alice@example.org", "--quota-mb", "301"), "300 MB for all its domains"),
    (("mailbox", "show", "nobody@example.org"), "No mailbox nobody@example.org"),
    (("alias", "add", "alice@example.org", "bob"), "already exists as a mailbox"),
    (("alias", "add", "info@example.org", "not an address@"), "Destination"),
    (("alias", "add", "info@unknown.example", "alice@example.org"), "No domain unknown.example"),
    (("alias", "add", "loop@example.org", "loop"), "itself"),
    (("domainalias", "add", "example.org", "example.org"), "already a domain"),
    (("domainalias", "add", "alias.example", "unknown.example"), "No domain unknown.example"),
    (
        (
            "vacation",
            "set",
            "alice@example.org",
            "--mode",
            "custom",
            "--subject",
            "a\nBcc: x@evil.example",
            "--body",
            "b",
        ),
        "single line",
    ),
    (("vacation", "set", "alice@example.org", "--mode", "default", "--first-day", "2026-02-30"), "not a date"),
    (
        (
            "vacation",
            "set",
            "alice@example.org",
            "--mode",
            "default",
            "--first-day",
            "2026-05-02",
            "--last-day",
            "2026-05-01",
        ),
        "last day cannot be before",
    ),
    (("vacation", "set", "alice@example.org", "--mode", "default", "--language", "xx"), "not a language of this"),
    (("grant", "set", "nobody@example.org", "--domain", "example.org"), "No mailbox"),
    (("grant", "set", "alice@example.org", "--quota-mb", "50"), "already allocate 100 MB"),
    (("superuser", "revoke", "alice@example.org"), "not a superuser"),
]


@pytest.mark.parametrize(
    "args, message", BAD_COMMANDS, ids=[" ".join(a[:2]) + f" {i}" for i, (a, _) in enumerate(BAD_COMMANDS)]
)
def test_bad_input_exits_non_zero_names_the_problem_and_changes_nothing(directory, args, message):
    before = table_snapshot()
    result = run_cli_inprocess(*args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert table_snapshot() == before


def test_vacation_language_from_the_command_line(directory):
    """``vacation set --language``: the language Exim writes the default text in, as the panel's
    page and the API's Accept-Language set it; left out, it is kept; empty, the server's."""

    def looked_up():
        return {r["address"]: r["vacation_language"] for r in view_rows("lookup_addresses_v2")}["alice@example.org"]

    assert run_json("vacation", "set", "alice@example.org", "--mode", "default", "--language", "de")["language"] == "de"
    assert looked_up() == "de"
    run_json("vacation", "set", "alice@example.org", "--mode", "default", "--interval-days", "3")
    assert run_json("vacation", "show", "alice@example.org")["language"] == "de"  # left out: kept
    assert run_json("vacation", "set", "alice@example.org", "--mode", "default", "--language", "")["language"] == ""
    assert looked_up() == ""
    assert "default text (en, de, fr;" in " ".join(run_cli_inprocess("vacation", "set", "--help").stdout.split())


def test_limits_exceeded_by_count(directory):
    run_json("mailbox", "add", "b@example.org", "--quota-mb", "10")
    run_json("mailbox", "add", "c@example.org", "--quota-mb", "10")
    before = table_snapshot()
    result = run_cli_inprocess("mailbox", "add", "d@example.org", "--quota-mb", "10")
    assert result.returncode == 1 and "at most 3 mailboxes" in result.stderr
    assert table_snapshot() == before


def test_passwords_are_never_arguments_and_never_printed_when_given(directory):
    result = run_cli_inprocess("mailbox", "add", "e@example.org", "--password", "x")
    assert result.returncode != 0 and "unrecognized arguments" in result.stderr
    out = run_cli_inprocess("mailbox", "add", "e@example.org", "--password-stdin", stdin="my secret password\n")
    assert out.returncode == 0 and "my secret password" not in out.stdout + out.stderr
    empty = run_cli_inprocess("mailbox", "add", "f@example.org", "--password-stdin", stdin="")
    assert empty.returncode != 0 and "standard input" in empty.stderr


def test_imported_hash_of_unknown_scheme_is_refused(directory):
    before = table_snapshot()
    result = run_cli_inprocess("mailbox", "passwd", "alice@example.org", "--hash-stdin", stdin="{ROT13}frperg\n")
    assert result.returncode == 1 and "Unknown password scheme" in result.stderr
    assert table_snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_real_process_exits_1_with_the_message_on_stderr():
    result = run_cli("domain", "add", "bad_name.org")
    assert result.returncode == 1
    assert "labels use letters" in result.stderr and result.stdout == ""
