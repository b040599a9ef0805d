"""mbox to maildir: flags from Status/X-Status, dates kept, a second run adds nothing."""

import json
import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import usage
from accounts.models import Mailbox
from tests import factories

MBOX = b"""\
From alice@example.net Mon Mar  4 10:15:00 2019
Status: RO
X-Status: AF
Message-ID: <one@example.net>
Date: Mon, 4 Mar 2019 10:14:00 +0000
Subject: read, answered, flagged

first
>From the start of a line
From bob@example.net Tue Mar  5 11:00:00 2019
Status: O
Message-ID: <two@example.net>
Subject: old, unread

second
From carol@example.net Wed Mar  6 12:00:00 2019
Message-ID: <three@example.net>
Subject: new

third
From MAILER-DAEMON
Date: Thu, 7 Mar 2019 13:00:00 +0000
X-Status: T
Subject: draft without a From_ date and without a Message-ID

fourth
"""


@pytest.fixture
def target(db, store, tmp_path):
    factories.domain("example.com")
    factories.mailbox("user@example.com")
    path = tmp_path / "old.mbox"
    path.write_bytes(MBOX)
    return path


def messages(folder):
    """{subject: (subdir, flags, mtime)} of a maildir folder."""
    found = {}
    for sub in ("new", "cur"):
        for name in os.listdir(folder / sub):
            text = (folder / sub / name).read_text()
            subject = next(line[9:] for line in text.splitlines() if line.startswith("Subject: "))
            flags = name.split(":2,")[1] if ":2," in name else ""
            found[subject] = (sub, flags, int((folder / sub / name).stat().st_mtime))
            assert "Status:" not in text  # converted to flags, not left as headers
    return found


def test_mbox_import_keeps_flags_and_dates(target, store):
    out = StringIO()
    call_command("import_mbox", "user@example.com", str(target), "--json", "--no-progress", stdout=out)
    assert json.loads(out.getvalue())["imported"] == 4
    got = messages(store / "example.com/user")
    assert got == {
        "read, answered, flagged": ("cur", "FRS", 1551694500),
        "old, unread": ("cur", "", 1551783600),
        "new": ("new", "", 1551873600),
        "draft without a From_ date and without a Message-ID": ("cur", "D", 1551963600),
    }
    body = next((store / "example.com/user/cur").glob("*:2,FRS")).read_text()
    assert ">From the start of a line" in body

    out = StringIO()
    call_command("import_mbox", "user@example.com", str(target), "--json", "--no-progress", stdout=out)
    assert json.loads(out.getvalue()) | {"address": None} == {
        "messages": 4,
        "imported": 0,
        "skipped": 4,
        "bytes": 0,
        "address": None,
    }
    usage.mailbox_usage_refresh(store=store)
    assert Mailbox.objects.get(address="user@example.com").message_count == 4


def test_mbox_into_a_folder_and_dry_run(target, store):
    call_command("import_mbox", "user@example.com", str(target), "--dry-run", "--no-progress", stdout=StringIO())
    assert not (store / "example.com").exists()
    call_command("import_mbox", "user@example.com", str(target), "--folder", "Archive", stdout=StringIO())
    assert (store / "example.com/user/.Archive/maildirfolder").exists()
    assert len(messages(store / "example.com/user/.Archive")) == 4
    with pytest.raises(CommandError, match="No mailbox"):
        call_command("import_mbox", "nobody@example.com", str(target), stdout=StringIO())
