"""Building Dovecot-style maildirs for tests and the benchmark (no Dovecot needed)."""

from __future__ import annotations

import os
from pathlib import Path


def make_maildir(
    path: Path, messages: list[bytes] = (), *, folders: dict | None = None, maildirsize: bool = True, limit: int = 0
) -> Path:
    """A maildir with ``messages`` in the INBOX (``new/``) and optional other folders.

    File names carry ``,S=<size>`` as Dovecot's do; ``maildirsize`` holds the
    limits line and one "<bytes> <count>" line per folder, as maildir++ does.
    """
    lines = []
    for folder, items in {"": messages, **(folders or {})}.items():
        base = path / folder if folder else path
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        for number, body in enumerate(items):
            name = f"1700000000.M{number}P1.host,S={len(body)}"
            (base / "new" / name).write_bytes(body)
        if items:
            lines.append(f"{sum(len(b) for b in items)} {len(items)}")
    if maildirsize:
        (path / "maildirsize").write_text(f"{limit}S\n" + "".join(line + "\n" for line in lines))
    return path


def tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` (relative name -> content), to compare maildirs."""
    result = {}
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = Path(root) / name
            result[str(full.relative_to(path))] = full.read_bytes()
    return result
