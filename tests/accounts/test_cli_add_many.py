"""``manage.py mailbox add-many DOMAIN``: many mailboxes from lines on stdin in one process, the
panel's line format, all or none, through the panel's bulk path."""

import json

import pytest

from accounts.models import Mailbox
from mailadmin.lib.sizes import MB
from mailadmin.models import AuditEntry
from tests import factories
from tests.dbutil import login_ok, run_cli_inprocess, table_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def domain():
    return factories.domain("example.org", max_mailboxes=200)


def test_lines_on_stdin_become_mailboxes_with_passwords_shown_once(domain):
    lines = 'ann\nbob,2G,Bob,Builder\n"carl",500M,Carl,"Smith, Jr."\n\n'
    done = run_cli_inprocess("mailbox", "add-many", "example.org", "--json", stdin=lines)
    assert done.returncode == 0, done.stderr
    created = {row["address"]: row["password"] for row in json.loads(done.stdout)}
    assert sorted(created) == ["ann@example.org", "bob@example.org", "carl@example.org"]
    assert all(login_ok(address, password) for address, password in created.items())
    bob, carl = Mailbox.objects.get(local_part="bob"), Mailbox.objects.get(local_part="carl")
    assert (bob.quota_bytes, bob.first_name, bob.last_name) == (2048 * MB, "Bob", "Builder")
    assert (carl.quota_bytes, carl.last_name) == (500 * MB, "Smith, Jr.")
    assert AuditEntry.objects.filter(action="mailbox.bulk_load").count() == 1


def test_more_lines_than_the_panel_takes_at_once(domain):
    lines = "".join(f"user{n}\n" for n in range(150))
    done = run_cli_inprocess("mailbox", "add-many", "example.org", "--json", stdin=lines)
    assert done.returncode == 0, done.stderr
    assert Mailbox.objects.filter(domain=domain).count() == 150


def test_given_passwords_pass_the_same_policy_and_are_never_printed(domain):
    good = "ann,a long enough secret 1\nbob,another long secret 2,1G\n"
    done = run_cli_inprocess("mailbox", "add-many", "example.org", "--given-passwords", "--json", stdin=good)
    assert done.returncode == 0, done.stderr
    assert "secret" not in done.stdout
    assert login_ok("bob@example.org", "another long secret 2")
    assert Mailbox.objects.get(local_part="bob").quota_bytes == 1024 * MB


@pytest.mark.parametrize(
    ("lines", "options", "message"),
    [
        ("ann\nbob,lots\ncarl\n", [], "Line 2: quota: "),
        ("ann,short\n", ["--given-passwords"], "Line 1 (ann): This password is too short"),
        ("ann,ann@example.org!!\n", ["--given-passwords"], "Line 1 (ann): The password is too similar"),
        ("ann\n", ["--given-passwords"], "Line 1: no password"),
        ("ann\nbad name\n", [], "Line 2 (bad name): 'bad name' is not a valid local part"),
        ("", [], "No lines on stdin."),
    ],
    ids=["bad-quota", "weak-password", "like-the-address", "no-password", "bad-name", "empty"],
)
def test_one_bad_line_writes_nothing_and_names_its_line(domain, lines, options, message):
    before = table_snapshot()
    done = run_cli_inprocess("mailbox", "add-many", "example.org", *options, stdin=lines)
    assert done.returncode == 1
    assert message in done.stderr
    assert table_snapshot() == before


def test_the_domains_limit_holds(domain):
    factories.domain("small.example", max_mailboxes=2)
    done = run_cli_inprocess("mailbox", "add-many", "small.example", stdin="a1\na2\na3\n")
    assert done.returncode == 1 and "Line 3 (a3)" in done.stderr
    assert not Mailbox.objects.filter(domain__name="small.example").exists()
