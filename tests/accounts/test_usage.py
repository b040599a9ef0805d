"""The usage job: maildirsize first, a scan only without it, never touching mail."""

import json
import os
from io import StringIO

import pytest
from django.core.management import call_command

from accounts import usage
from accounts.models import Mailbox
from mailadmin.lib.sizes import MB
from tests import factories
from tests.dbutil import lookup
from tests.maildirs import make_maildir, tree


@pytest.fixture
def mailboxes(db):
    factories.domain("example.org")
    return {
        name: factories.mailbox(f"{name}@example.org", quota_bytes=1 * MB)
        for name in ("sized", "scanned", "full", "empty", "folders")
    }


def test_usage_reads_maildirsize_scans_without_it_and_sets_over_quota(store, mailboxes):
    # maildirsize is believed (it deliberately disagrees with the files: proof it was read).
    make_maildir(store / "example.org/sized", [b"x" * 100], maildirsize=False)
    (store / "example.org/sized/maildirsize").write_text("1048576S\n5000 7\n-1000 -1\n")
    make_maildir(store / "example.org/scanned", [b"a" * 10, b"b" * 20], maildirsize=False)
    make_maildir(store / "example.org/full", [b"z" * (MB + 1)])
    make_maildir(store / "example.org/folders", [b"1" * 5], folders={".Sent": [b"2" * 7, b"3" * 9]}, maildirsize=False)
    before = tree(store)

    result = usage.mailbox_usage_refresh(store=store)

    assert result == {"mailboxes": 5, "changed": 4, "maildirsize": 2, "scan": 2, "missing": 1}
    got = {m.local_part: (m.usage_bytes, m.message_count, m.over_quota) for m in Mailbox.objects.all()}
    assert got == {
        "sized": (4000, 6, False),
        "scanned": (30, 2, False),
        "full": (MB + 1, 1, True),
        "empty": (0, 0, False),
        "folders": (21, 3, False),
    }
    assert lookup("lookup_mailboxes_v1", "address", "full@example.org")["over_quota"] == 1
    assert lookup("lookup_mailboxes_v1", "address", "sized@example.org")["over_quota"] == 0
    sized = Mailbox.objects.get(local_part="sized")
    assert sized.inbox_changed_at is not None and sized.usage_updated_at is not None
    assert Mailbox.objects.get(local_part="empty").inbox_changed_at is None
    assert tree(store) == before  # never touches mail


def test_usage_rerun_changes_nothing_and_follows_changes(store, mailboxes):
    make_maildir(store / "example.org/full", [b"z" * (MB + 1)])
    usage.mailbox_usage_refresh(store=store)
    assert usage.mailbox_usage_refresh(store=store)["changed"] == 0
    # Dovecot expunged the big message: the flag clears at the next run.
    (store / "example.org/full/maildirsize").write_text(f"1048576S\n{MB + 1} 1\n-{MB + 1} -1\n")
    assert usage.mailbox_usage_refresh(store=store)["changed"] == 1
    assert lookup("lookup_mailboxes_v1", "address", "full@example.org")["over_quota"] == 0


def test_usage_inbox_changed_at_is_the_inbox_time(store, mailboxes):
    path = make_maildir(store / "example.org/sized", [b"x"])
    os.utime(path / "new", (1_700_000_000, 1_700_000_000))
    os.utime(path / "cur", (1_600_000_000, 1_600_000_000))
    usage.mailbox_usage_refresh(store=store)
    assert Mailbox.objects.get(local_part="sized").inbox_changed_at.timestamp() == 1_700_000_000


def test_usage_command_json_and_quiet(store, mailboxes):
    make_maildir(store / "example.org/sized", [b"x" * 3])
    out = StringIO()
    call_command("mailstore", "usage", "--json", stdout=out)
    assert json.loads(out.getvalue())["maildirsize"] == 1
    out = StringIO()
    call_command("mailstore", "usage", "--quiet", stdout=out)
    assert out.getvalue() == ""


def test_a_second_job_while_one_runs_does_nothing(store, mailboxes):
    from accounts.management.commands.mailstore import job_lock

    with job_lock("usage", store) as locked:
        assert locked
        out = StringIO()
        call_command("mailstore", "usage", "--json", stdout=out)
        assert json.loads(out.getvalue()) == {"skipped": "another usage job is running"}
    assert not Mailbox.objects.exclude(usage_updated_at=None).exists()


def test_scan_reads_only_ascii_sizes_in_file_names(tmp_path):
    from accounts.mailstore import scan

    (tmp_path / "cur").mkdir()
    (tmp_path / "cur" / "1.host,S=5:2,S").write_bytes(b"12345")
    (tmp_path / "cur" / "2.host,S=１２:2,S").write_bytes(b"abc")  # not a size Dovecot wrote: the file's own
    assert scan(tmp_path) == (8, 2)
