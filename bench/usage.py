"""Benchmark of the usage job (``manage.py mailstore usage``).

Builds N mailboxes (default 10,000) in a scratch database and N generated
maildirs (10 messages each, two folders), then times ``mailbox_usage_refresh``:
- with ``maildirsize`` in every maildir, and without it (a full scan of each);
- "first": every row's usage changes (all rows written), "steady": nothing
  changed since the last run (the every-minute case).
Each figure is the median of 3 runs. Usage:

    DATABASE_URL=sqlite:////tmp/bench-usage.sqlite3 .venv/bin/python bench/usage.py [N]

The database named by DATABASE_URL is flushed and filled; use a scratch one.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.gettempdir()}/bench-usage.sqlite3")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Mailbox  # noqa: E402
from accounts.usage import mailbox_usage_refresh  # noqa: E402
from domains.models import Domain  # noqa: E402
from mailadmin.lib.sizes import MB  # noqa: E402

MESSAGES = 10


def build(store: Path, count: int) -> None:
    call_command("migrate", verbosity=0)
    Mailbox.objects.all().delete()
    Domain.objects.all().delete()
    domains = Domain.objects.bulk_create([Domain(name=f"d{i}.example") for i in range(count // 100 + 1)])
    Mailbox.objects.bulk_create(
        [
            Mailbox(
                domain=domains[i // 100],
                local_part=f"user{i}",
                address=f"user{i}@d{i // 100}.example",
                password="{PLAIN}x",  # noqa: S106  never used to log in
                quota_bytes=1 * MB,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    body = b"Subject: x\n\n" + b"y" * 2000
    for i in range(count):
        path = store / f"d{i // 100}.example" / f"user{i}"
        for folder in (path, path / ".Sent"):
            for sub in ("cur", "new", "tmp"):
                (folder / sub).mkdir(parents=True)
        for n in range(MESSAGES):
            folder = path if n % 2 else path / ".Sent"
            (folder / "cur" / f"17000000{n:02d}.M{n}P1.bench,S={len(body)}:2,S").write_bytes(body)
        (path / "maildirsize").write_text(f"1048576S\n{len(body) * MESSAGES} {MESSAGES}\n")


def timed(store: Path, *, reset: bool) -> float:
    if reset:
        Mailbox.objects.update(usage_bytes=0, message_count=0, inbox_changed_at=None, over_quota=False)
    start = time.perf_counter()
    result = mailbox_usage_refresh(store=store)
    elapsed = time.perf_counter() - start
    assert result["mailboxes"] == Mailbox.objects.count()
    return elapsed


def median_of_3(store: Path, *, reset: bool) -> float:
    return statistics.median(timed(store, reset=reset) for _ in range(3))


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    store = Path(tempfile.mkdtemp(prefix="bench-usage-"))
    try:
        t0 = time.perf_counter()
        build(store, count)
        print(f"{connection.vendor}: built {count} mailboxes and maildirs in {time.perf_counter() - t0:.1f} s")
        figures = {}
        for mode in ("maildirsize", "scan"):
            if mode == "scan":
                for path in store.glob("*/*/maildirsize"):
                    path.unlink()
            figures[(mode, "first")] = median_of_3(store, reset=True)
            figures[(mode, "steady")] = median_of_3(store, reset=False)
        for (mode, case), seconds in figures.items():
            print(f"{mode:12s} {case:7s} {seconds:6.2f} s  (median of 3, {count} mailboxes)")
    finally:
        shutil.rmtree(store)


if __name__ == "__main__":
    main()
