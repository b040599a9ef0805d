"""What every benchmark shares: which database, Django set-up, the machine, results files.

``--db mariadb|postgresql|sqlite`` picks the server; the database is always one named
``mailadmin_bench*`` (``--name``), so a benchmark never touches another database.
Servers are reached as in scripts/test (MariaDB's socket as root, PostgreSQL on
localhost as postgres); ``BENCH_MARIADB_URL`` / ``BENCH_POSTGRESQL_URL`` (with a
``{name}`` placeholder) point elsewhere.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
URLS = {
    "mariadb": os.environ.get("BENCH_MARIADB_URL", "mysql://root@localhost/{name}?unix_socket=/run/mysqld/mysqld.sock"),
    "postgresql": os.environ.get("BENCH_POSTGRESQL_URL", "postgres://postgres@localhost/{name}"),
    "sqlite": "sqlite:///" + str(ROOT / "var" / "{name}.sqlite3"),
}


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", choices=list(URLS), default="mariadb")
    parser.add_argument("--name", default="mailadmin_bench", help="database name (must start with mailadmin_bench)")
    parser.add_argument("--tag", default="", help="results go to <benchmark>-<db>-<tag>.json (a variant of the setup)")
    return parser


def database_url(db: str, name: str) -> str:
    if not name.startswith("mailadmin_bench"):
        sys.exit(f"Refusing database {name!r}: benchmarks use only databases named mailadmin_bench*.")
    return URLS[db].format(name=name)


def mysql_socket(name: str) -> str:
    """The MariaDB socket of the bench URL (BENCH_MARIADB_URL may name a private server's)."""
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(database_url("mariadb", name)).query)
    return query.get("unix_socket", ["/run/mysqld/mysqld.sock"])[0]


def setup_django(db: str, name: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url(db, name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    import django

    django.setup()


def recreate_database(db: str, name: str) -> None:
    """Drop and create the bench database (before Django connects to it)."""
    database_url(db, name)
    if db == "mariadb":
        import MySQLdb

        conn = MySQLdb.connect(unix_socket=mysql_socket(name), user="root")
        cursor = conn.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        conn.close()
    elif db == "postgresql":
        import psycopg

        with psycopg.connect("host=localhost user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        path = Path(URLS["sqlite"].format(name=name).removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


def _run(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return ""


def _version(text: str, pattern: str, prefix: str) -> str:
    import re

    match = re.search(pattern, text)
    return prefix + match.group(1) if match else text


def machine() -> dict:
    """What the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    load = os.getloadavg()
    import django

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": _run("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME") or platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "mariadb": _version(_run("mariadb", "--version"), r"Distrib ([^,]+)", "MariaDB "),
        "postgresql": _version(_run("psql", "--version"), r"\) ([0-9.]+)", "PostgreSQL "),
        "load_average": [round(x, 2) for x in load],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def save(kind: str, db: str, data: dict, tag: str = "") -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{kind}-{db}{'-' + tag if tag else ''}.json"
    data = {
        "kind": kind,
        "db": db,
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "machine": machine(),
        **data,
    }
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of unsorted values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    return statistics.median(values)
