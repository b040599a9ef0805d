"""Many mailboxes from the command line: one ``mailbox add-many`` process against single ``mailbox add`` calls.

    nice -n 10 .venv/bin/python bench/cli_many.py --db mariadb [--mailboxes 1000] [--singles 50]

Self-contained: drops and re-creates the database ``mailadmin_bench_cli`` (never another) and
migrates it. Both variants run as real processes (``manage.py``, the way a script calls it) with
the production password hashing, in the same run:

- **add-many**: ``mailbox add-many DOMAIN`` with ``--mailboxes`` lines on stdin, in one process
  (generated passwords, hashed over the cores before anything is locked, one batch);
- **single calls (baseline)**: ``mailbox add ADDRESS`` once per mailbox, each its own process, as a
  shell loop over a list does. ``--singles`` of them are timed and the per-call median is multiplied
  out to ``--mailboxes`` (1,000 calls take over ten minutes here; the figure says it is extrapolated);
- **start-up**: ``manage.py mailbox list --domain NONE`` (Django set up, nothing hashed), to show
  what share of one call is the interpreter and Django starting.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, arguments, database_url, median, recreate_database, save  # noqa: E402

NAME = "mailadmin_bench_cli"
DOMAIN = "cli.bench.example"


def manage(env: dict, *args: str, stdin: str = "") -> float:
    """Seconds one ``manage.py`` process took (it must succeed)."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed: {done.stderr}")
    return seconds


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=50)
    options = parser.parse_args()
    recreate_database(options.db, NAME)
    env = {**os.environ, "DATABASE_URL": database_url(options.db, NAME), "DJANGO_SETTINGS_MODULE": "mailadmin.settings"}
    env.pop("MAIL_WELCOME_SUBJECT", None)
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "domain", "add", DOMAIN)
    startup = [manage(env, "mailbox", "list", "--domain", DOMAIN) for _ in range(5)]
    many = manage(env, "mailbox", "add-many", DOMAIN, stdin="".join(f"many{i:05d}\n" for i in range(options.mailboxes)))
    singles = [manage(env, "mailbox", "add", f"single{i:05d}@{DOMAIN}") for i in range(options.singles)]
    per_single = median(singles)
    extrapolated = per_single * options.mailboxes
    result = {
        "mailboxes": options.mailboxes,
        "add_many_s": round(many, 2),
        "add_many_ms_per_mailbox": round(many / options.mailboxes * 1000, 1),
        "single_calls_timed": options.singles,
        "single_call_ms_median": round(per_single * 1000, 1),
        "single_calls_s_extrapolated": round(extrapolated, 1),
        "single_calls_s_timed_total": round(sum(singles), 1),
        "startup_ms_median": round(median(startup) * 1000, 1),
        "ratio_singles_to_add_many": round(extrapolated / many, 1),
    }
    save("cli_many", options.db, result, options.tag)
    print(result)


if __name__ == "__main__":
    main()
