"""mbox to maildir: flags from Status/X-Status, dates kept, a second run adds nothing."""

import json
import mailbox
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
    assert "\nFrom the start of a line\n" in body and ">From" not in body  # the writer's quoting taken away

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
    missing = target.with_name("no-such.mbox")
    with pytest.raises(CommandError, match="no-such.mbox: no such file") as refused:
        call_command("import_mbox", "user@example.com", str(missing), stdout=StringIO())
    assert refused.value.returncode == 1 and not missing.exists()
    with pytest.raises(CommandError, match="no such file"):  # a directory is not an mbox file
        call_command("import_mbox", "user@example.com", str(store), stdout=StringIO())


def written_by_python_mailbox(path):
    """An mbox as Python's mailbox module writes one (mboxo: a body line "From ..." gets a '>'; as in
    every mboxo file, a line that was ">From ..." already cannot be told apart, so there is none)."""
    box = mailbox.mbox(str(path))
    for subject, sender, flags, when, body in [
        ("seen and answered", "alice@example.net", "RA", (2020, 1, 2, 3, 4, 5), "From now on, write to me.\n"),
        ("flagged, unread", "bob@example.net", "F", (2020, 2, 3, 4, 5, 6), "hello\n\nFrom: a quoted header\n"),
        ("a reply", "carol@example.net", "RO", (2020, 3, 4, 5, 6, 7), "> quoted\nFrom the end\n"),
    ]:
        message = mailbox.mboxMessage()
        message["Subject"], message["Message-ID"] = subject, f"<{subject.split()[0]}@example.net>"
        message.set_payload(body)
        message.set_from(sender, when + (0, 1, -1))
        message.set_flags(flags)
        box.add(message)
    box.close()
    return path


def test_mbox_body_lines_starting_with_from_come_back_as_written(target, store):
    source = written_by_python_mailbox(target.with_name("python.mbox"))
    assert b"\n>From now on" in source.read_bytes()  # the writer quoted it
    out = StringIO()
    call_command("import_mbox", "user@example.com", str(source), "--json", "--no-progress", stdout=out)
    assert json.loads(out.getvalue())["imported"] == 3
    bodies = {}
    for path in (store / "example.com/user").glob("*/*"):
        text = path.read_text()
        bodies[text.split("Subject: ")[1].split("\n")[0]] = (path.name.partition(":2,")[2], text.split("\n\n", 1)[1])
    assert bodies["seen and answered"] == ("RS", "From now on, write to me.\n")
    assert bodies["flagged, unread"] == ("F", "hello\n\nFrom: a quoted header\n")
    assert bodies["a reply"] == ("S", "> quoted\nFrom the end\n")


def test_mbox_written_by_python_keeps_the_from_line_dates(target, store):
    source = written_by_python_mailbox(target.with_name("python.mbox"))
    call_command("import_mbox", "user@example.com", str(source), "--no-progress", stdout=StringIO())
    times = sorted(int(path.stat().st_mtime) for path in (store / "example.com/user").glob("*/*"))
    assert times == [1577934245, 1580702706, 1583298367]  # 2020-01-02 03:04:05 UTC ...
