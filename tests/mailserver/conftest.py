"""The directory the lookup tests read: built from the CLI alone."""

import datetime

import pytest
from django.core.management import call_command


def cli(*args, stdin=None):
    import io
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        call_command(*args, stdout=io.StringIO())
    finally:
        sys.stdin = old


@pytest.fixture
def directory():
    today = datetime.date.today()
    cli("domain", "add", "example.org", "--max-quota-mb", "1000", "--default-quota-mb", "100")
    cli("domain", "add", "quiet.example", "--no-logins-enabled")
    cli("domain", "add", "off.example", "--no-active")
    cli("domainalias", "add", "example.net", "example.org")
    cli("domainalias", "add", "paused.example", "example.org", "--no-active")
    cli("mailbox", "add", "alice@example.org", "--password-stdin", stdin="alice password\n")
    cli("mailbox", "add", "bob@example.org", "--quota-mb", "250", "--no-may-relay", "--no-filtering")
    cli("mailbox", "add", "gone@example.org", "--no-active")
    cli("mailbox", "add", "carol@quiet.example", "--quota-mb", "0")
    cli("mailbox", "add", "dave@off.example")
    cli("alias", "add", "info@example.org", "alice", "bob@example.org")
    cli("alias", "add", "@example.org", "alice")
    cli("alias", "add", "old@example.org", "bob", "--no-active")
    cli("vacation", "set", "alice@example.org", "--mode", "custom", "--subject", "Weg", "--body", "Zurück am Montag")
    cli(
        "vacation",
        "set",
        "bob@example.org",
        "--mode",
        "default",
        "--first-day",
        str(today - datetime.timedelta(1)),
        "--last-day",
        str(today + datetime.timedelta(1)),
    )
    cli(
        "vacation", "set", "carol@quiet.example", "--mode", "default", "--first-day", str(today + datetime.timedelta(3))
    )
    cli("mailbox", "add", "ann@example.org")
    cli("vacation", "set", "ann@example.org", "--mode", "custom", "--subject", "s", "--body", "b")
    cli("vacation", "set", "ann@example.org", "--mode", "off")
    cli("grant", "set", "alice@example.org", "--domain", "example.org", "--domain", "quiet.example")
    return today
