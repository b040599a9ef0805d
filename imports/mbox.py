"""Copying an mbox file into a mailbox's maildir (run as the mail store's owner).

Body lines the mbox's writer quoted (``>From ``) come back as they were written.
Python's ``mailbox`` module does the conversion Dovecot expects: ``Status`` and
``X-Status`` become maildir flags (R seen, O old -> cur/, A answered, F flagged,
D deleted, T draft) and the ``From_`` line's date becomes the file time, which Dovecot
shows as the received date (the ``Date:`` header is used when the ``From_``
line has none). Messages whose Message-ID (or, without one, content) is
already in the target folder are skipped, so a second run adds nothing.
"""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import mailbox as mailboxes
import os
import re
import sys
import time
from pathlib import Path

from tqdm import tqdm

from accounts.mailstore import make_parents


def _identity(data: bytes) -> str:
    head = data.split(b"\n\n", 1)[0]
    for line in head.splitlines():
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode(errors="replace").lower()
    return hashlib.sha256(data).hexdigest()


def _existing(folder: mailboxes.Maildir) -> set[str]:
    found = set()
    for key in folder.iterkeys():
        with folder.get_file(key) as handle:
            found.add(_identity(handle.read()))
    return found


def import_mbox(
    *, mbox_path: Path, store: Path, maildir: str, folder: str = "", dry_run: bool = False, progress=None
) -> dict:
    """Copy every message of ``mbox_path`` into ``maildir`` (or its ``folder``); returns counts."""
    source = mailboxes.mbox(str(mbox_path), create=False)
    result = {"messages": 0, "imported": 0, "skipped": 0, "bytes": 0}
    target, maildir = None, store / maildir
    if not dry_run:
        make_parents(store, maildir.parent)
        target = mailboxes.Maildir(str(maildir), create=True)
        if folder:
            target = target.get_folder(folder) if folder in target.list_folders() else target.add_folder(folder)
    known = _existing(target) if target is not None else set()
    keys = list(source.iterkeys())
    for key in tqdm(
        keys, desc=mbox_path.name, unit="msg", file=sys.stderr, disable=None if progress is None else not progress
    ):
        message = _unquoted(source, key)
        result["messages"] += 1
        converted = mailboxes.MaildirMessage(message)  # flags from Status/X-Status
        if "T" in (message.get("X-Status") or ""):  # draft (mutt, Dovecot); Python knows only A, F, D
            converted.add_flag("D")
        if converted.get_flags():
            converted.set_subdir("cur")  # flags live in cur/ only
        received = _received(message)
        if received is not None:
            converted.set_date(received)
        data = converted.as_bytes()
        identity = _identity(data)
        if identity in known:
            result["skipped"] += 1
            continue
        known.add(identity)
        if target is not None:
            target.add(converted)
        result["imported"] += 1
        result["bytes"] += len(data)
    if target is not None:
        _after_import(store, maildir, result)
    return result


FROM_QUOTE_RE = re.compile(rb"^>(>*From )", re.MULTILINE)


def _unquoted(source: mailboxes.mbox, key: str) -> mailboxes.mboxMessage:
    """A message as its sender wrote it: the writer of the mbox put a ``>`` before each body line that
    started with ``From `` (mboxo, mboxrd); one is taken away again (mboxrd's rule: ``>>From `` was
    ``>From ``). Headers are left as they are."""
    data = source.get_bytes(key)
    head, blank, body = data.partition(b"\n\n")
    message = mailboxes.mboxMessage(head + blank + FROM_QUOTE_RE.sub(rb"\1", body))
    message.set_from(source.get_message(key).get_from())
    return message


def _received(message: mailboxes.mboxMessage) -> float | None:
    """When it arrived: the From_ line's date, else the Date: header."""
    try:
        return calendar.timegm(time.strptime(" ".join(message.get_from().split()[-5:]), "%a %b %d %H:%M:%S %Y"))
    except (ValueError, OverflowError):
        pass
    try:
        return email.utils.parsedate_to_datetime(message["Date"]).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _after_import(store: Path, maildir: Path, result: dict) -> None:
    """Keep maildir++ quota right and the files owned by the store's owner."""
    size_file = maildir / "maildirsize"
    if size_file.exists() and result["imported"]:
        with open(size_file, "a") as handle:
            handle.write(f"{result['bytes']} {result['imported']}\n")
    if os.geteuid() == 0:
        owner = os.stat(store)
        for root, dirs, files in os.walk(maildir):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                if os.stat(name).st_uid != owner.st_uid:
                    os.chown(name, owner.st_uid, owner.st_gid)
