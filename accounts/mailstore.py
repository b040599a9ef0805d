"""Reading and moving maildirs in the mail store (run as the mail store's owner).

Dovecot's layout: a mailbox's maildir is ``<store>/<domain>/<local part>/`` with
``cur/ new/ tmp/`` for the INBOX, one ``.Folder/`` per other folder, and the
maildir++ quota file ``maildirsize`` that Dovecot keeps up to date. Nothing here
opens, changes or deletes a message except ``purge`` of an expired archive.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ARCHIVE_DIR = ".archive"
_SIZE_IN_NAME = re.compile(r",S=([0-9]+)")


@dataclass(frozen=True)
class Usage:
    bytes: int
    messages: int
    inbox_changed: float | None  # a POSIX time, or None when there is no INBOX yet
    source: str  # "maildirsize", "scan" or "missing"


def read_usage(maildir: Path) -> Usage:
    """The usage of one maildir: from ``maildirsize`` when present, else a full scan."""
    changed = _inbox_changed(maildir)
    if changed is None and not maildir.is_dir():
        return Usage(0, 0, None, "missing")
    try:
        with open(maildir / "maildirsize", "rb") as handle:
            size, count = parse_maildirsize(handle.read())
        return Usage(max(size, 0), max(count, 0), changed, "maildirsize")
    except (FileNotFoundError, ValueError):
        size, count = scan(maildir)
        return Usage(size, count, changed, "scan")


def parse_maildirsize(data: bytes) -> tuple[int, int]:
    """Sum the maildir++ lines after the first (the limits): "<bytes> <messages>" each."""
    lines = data.split(b"\n")
    size = count = 0
    for line in lines[1:]:
        parts = line.split()
        if not parts:
            continue
        size += int(parts[0])
        count += int(parts[1]) if len(parts) > 1 else 0
    return size, count


def scan(maildir: Path) -> tuple[int, int]:
    """Count every message of every folder (sizes from ``,S=`` in the name, else stat)."""
    size = count = 0
    folders = [maildir] + [maildir / e.name for e in _entries(maildir) if e.name.startswith(".") and e.is_dir()]
    for folder in folders:
        if folder.name in (".", "..", ARCHIVE_DIR):
            continue
        for sub in ("cur", "new"):
            for entry in _entries(folder / sub):
                if entry.name.startswith("."):
                    continue
                match = _SIZE_IN_NAME.search(entry.name)
                try:
                    size += int(match.group(1)) if match else entry.stat().st_size
                except FileNotFoundError:
                    continue  # moved by Dovecot while we looked
                count += 1
    return size, count


def _entries(path: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as it:
            return list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _inbox_changed(maildir: Path) -> float | None:
    """When the INBOX last changed: the later of new/ and cur/ directory times."""
    times = []
    for sub in ("new", "cur"):
        try:
            times.append(os.stat(maildir / sub).st_mtime)
        except FileNotFoundError:
            pass
    return max(times) if times else None


# --- archive, restore, purge ---------------------------------------------------------


def archive_path_for(store: Path, domain: str, local_part: str, when: datetime) -> str:
    """Where a deleted maildir goes, relative to the store."""
    stamp = when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{ARCHIVE_DIR}/{domain}/{local_part}-{stamp}"


def safe_join(store: Path, relative: str) -> Path:
    """``store/relative``, refusing anything that would leave the store."""
    path = (store / relative).resolve()
    root = store.resolve()
    if path == root or root not in path.parents:
        raise ValueError(f"{relative!r} is not inside the mail store.")
    return path


def move(store: Path, source: str, target: str) -> bool:
    """Rename ``source`` to ``target`` (both relative); False when ``source`` is missing.

    Refuses to overwrite. Directories it makes belong to the store's owner.
    """
    src, dst = safe_join(store, source), safe_join(store, target)
    if not src.exists():
        return False
    if dst.exists():
        raise FileExistsError(f"{target} already exists in the mail store.")
    make_parents(store, dst.parent)
    os.rename(src, dst)
    return True


def purge(store: Path, relative: str) -> None:
    """Delete an archived maildir for good (only ever under the archive directory)."""
    path = safe_join(store, relative)
    if safe_join(store, ARCHIVE_DIR) not in path.parents:
        raise ValueError(f"{relative!r} is not an archive.")
    if path.exists():
        shutil.rmtree(path)


def make_parents(store: Path, directory: Path) -> None:
    owner = os.stat(store)
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700)
        if os.geteuid() == 0:
            os.chown(path, owner.st_uid, owner.st_gid)
