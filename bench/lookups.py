"""Latency of every lookup the shipped Exim and Dovecot configuration runs, against SELECT 1.

    nice -n 10 .venv/bin/python bench/lookups.py --db mariadb [--keys 100000] [--runs 5]

Run after bench/generate.py. The queries are read from the rendered deploy/ templates
(bench/queries.py). The script (re)creates the two lookup users with
``manage.py lookup_users create --exim-user bench_exim --dovecot-user bench_dovecot``
and runs each query as its server's user (Exim's queries as bench_exim, Dovecot's as
bench_dovecot), over one persistent connection per user, as the servers do.

For each query: ``--keys`` random keys (half hits: existing keys of the view's kind;
half misses: unknown addresses in our domains, unknown domains), split into ``--runs``
runs. Each execution (execute + fetch of the whole result) is timed, and right before
it a ``SELECT 1`` on the same connection, so the baseline sees the same load. Reported:
p50 and p99 per run, the median over runs of each, and the ratio query/SELECT 1.
Also: the database's plan for each query at this scale (no full scan of a base table).

Both drivers send each lookup as Exim and Dovecot do: one SQL text with the key quoted into it (MySQLdb
always binds on the client; psycopg is told to, and never to prepare), so the server parses and plans every
lookup, as it does for the mail servers.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, arguments, database_url, median, mysql_socket, percentile, save, setup_django  # noqa: E402

TARGET_P99_MS = 1.0
TARGET_RATIO = 3.0


def mail_server_credentials(users: dict) -> dict:
    """The rendering's LOOKUP_* settings from ``lookup_users create --json``'s answer."""
    return {
        "LOOKUP_EXIM_USER": users["exim"]["user"],
        "LOOKUP_EXIM_PASSWORD": users["exim"]["password"],
        "LOOKUP_DOVECOT_USER": users["dovecot"]["user"],
        "LOOKUP_DOVECOT_PASSWORD": users["dovecot"]["password"],
        "LOOKUP_GREYLIST_USER": users["greylist"]["user"],
        "LOOKUP_GREYLIST_PASSWORD": users["greylist"]["password"],
    }


def lookup_users(db: str, name: str) -> dict:
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "lookup_users",
            "create",
            "--exim-user",
            "bench_exim",
            "--dovecot-user",
            "bench_dovecot",
            "--greylist-user",
            "bench_grey",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**__import__("os").environ, "DATABASE_URL": database_url(db, name)},
    )
    return json.loads(result.stdout)


def connect(db: str, name: str, user: str, password: str):
    if db == "mariadb":
        import MySQLdb

        return MySQLdb.connect(
            unix_socket=mysql_socket(name),
            user=user,
            passwd=password,
            db=name,
            charset="utf8mb4",
            autocommit=True,
        )
    import psycopg

    # As Exim and Dovecot send them: the key quoted into the SQL text (client-side binding), never a prepared
    # statement (psycopg would otherwise bind server-side and prepare a query after 5 executions, so the server
    # would skip parsing and planning, which Exim's and Dovecot's lookups never do).
    return psycopg.connect(
        host="localhost",
        user=user,
        password=password,
        dbname=name,
        autocommit=True,
        cursor_factory=psycopg.ClientCursor,
        prepare_threshold=None,
    )


def samples(lookup, count: int, rng: random.Random) -> list[tuple[str, str, bool]]:
    """(local_part, domain, is_hit) for ``count`` lookups, half hits and half misses, shuffled."""
    from django.db import connection

    hits_wanted, misses_wanted = count - count // 2, count // 2
    with connection.cursor() as cursor:
        if lookup.kinds == ("triplet",):  # (greylisting's, where the directory has any: else every key misses)
            cursor.execute("SELECT '', triplet FROM policy_greylist")
        elif lookup.kinds == ("domain",):
            cursor.execute("SELECT '', name FROM domains_domain UNION ALL SELECT '', name FROM domains_domainalias")
        elif lookup.view == "lookup_vacations_v1":
            cursor.execute("SELECT address FROM lookup_vacations_v1")
        elif lookup.kinds == ("catchall",):
            cursor.execute(
                "SELECT '', d.name FROM aliases_alias a JOIN domains_domain d ON d.id = a.domain_id "
                "WHERE a.local_part = ''"
            )
        elif lookup.view == "lookup_aliases_v1":
            cursor.execute("SELECT address FROM aliases_alias WHERE local_part <> ''")
        else:
            cursor.execute("SELECT address FROM accounts_mailbox WHERE domain_id IS NOT NULL")
        rows = [tuple(r[0].split("@", 1)) if len(r) == 1 else tuple(r) for r in cursor.fetchall()]
        cursor.execute(
            "SELECT name FROM domains_domain d WHERE NOT EXISTS (SELECT 1 FROM aliases_alias a "
            "WHERE a.domain_id = d.id AND a.local_part = '')"
        )
        plain_domains = [r[0] for r in cursor.fetchall()]
    hits = [(*rng.choice(rows), True) for _ in range(hits_wanted)] if rows else []
    if lookup.kinds == ("domain",) or lookup.kinds == ("triplet",):
        misses = [("", f"unknown-{rng.randrange(10**9)}.example.org", False) for _ in range(misses_wanted)]
    else:  # unknown recipients in our domains (domains without a catch-all, so nothing matches)
        misses = [(f"nobody-{rng.randrange(10**9)}", rng.choice(plain_domains), False) for _ in range(misses_wanted)]
    if lookup.kinds == ("catchall",):
        misses = [("", domain, False) for _, domain, _ in misses]
    keys = hits + misses
    rng.shuffle(keys)
    return keys


def measure(conn, lookup, keys) -> tuple[list[float], list[float], int]:
    """Per key: SELECT 1, then the lookup, on the same connection; times in ms and rows found."""
    cursor = conn.cursor()
    base, times, found = [], [], 0
    clock = time.perf_counter_ns
    for local_part, domain, _hit in keys:
        params = lookup.params(local_part, domain)
        t0 = clock()
        cursor.execute("SELECT 1")
        cursor.fetchall()
        t1 = clock()
        cursor.execute(lookup.sql, params)
        found += len(cursor.fetchall())
        t2 = clock()
        base.append((t1 - t0) / 1e6)
        times.append((t2 - t1) / 1e6)
    return base, times, found


def plan_check(lookup) -> list[str]:
    """Full scans of base tables in the database's plan for this lookup (empty = indexed)."""
    from django.db import connection

    from tests.mailserver.test_lookup_explain import _mysql_scans, _pg_scans

    params = lookup.params("x", "example.org")
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("EXPLAIN FORMAT=JSON " + lookup.sql, params)
            return _mysql_scans(json.loads(cursor.fetchone()[0]), [])
        cursor.execute("EXPLAIN (FORMAT JSON) " + lookup.sql, params)
        raw = cursor.fetchone()[0]
        return _pg_scans((raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"], [])


def server_settings() -> dict:
    """The database server settings the figures depend on most (its cache size)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("SELECT @@innodb_buffer_pool_size, @@innodb_flush_method")
            size, flush = cursor.fetchone()
            return {"innodb_buffer_pool_size_mb": int(size) // 1048576, "innodb_flush_method": flush}
        cursor.execute("SHOW shared_buffers")
        return {"shared_buffers": cursor.fetchone()[0], "note": "PostgreSQL reads through the OS page cache"}


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000, help="lookups per query (half hits, half misses)")
    parser.add_argument("--runs", type=int, default=5, help="the keys are split into this many runs")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    if options.db == "sqlite":
        sys.exit("SQLite has no lookup users or network round trip; use mariadb or postgresql.")
    setup_django(options.db, options.name)
    from accounts.models import Mailbox
    from bench.queries import shipped_lookups

    users = lookup_users(options.db, options.name)
    conns = {
        server: connect(options.db, options.name, users[server]["user"], users[server]["password"])
        for server in ("exim", "dovecot", "greylist")
    }
    rng = random.Random(options.seed)
    results = []
    for lookup in shipped_lookups():
        keys = samples(lookup, options.keys, rng)
        per_run = len(keys) // options.runs
        runs = []
        all_base, all_times, found = [], [], 0
        for r in range(options.runs):
            base, times, rows = measure(conns[lookup.server], lookup, keys[r * per_run : (r + 1) * per_run])
            runs.append(
                {
                    "p50_ms": percentile(times, 50),
                    "p99_ms": percentile(times, 99),
                    "base_p50_ms": percentile(base, 50),
                    "base_p99_ms": percentile(base, 99),
                }
            )
            all_base += base
            all_times += times
            found += rows
        figure = {key: median([run[key] for run in runs]) for key in runs[0]}
        entry = {
            "where": lookup.where,
            "server": lookup.server,
            "user": users[lookup.server]["user"],
            "sql": lookup.sql,
            "keys": len(all_times),
            "rows_found": found,
            **{k: round(v, 4) for k, v in figure.items()},
            "ratio_p50": round(figure["p50_ms"] / figure["base_p50_ms"], 2),
            "ratio_p99": round(figure["p99_ms"] / figure["base_p99_ms"], 2),
            "pooled_p50_ms": round(percentile(all_times, 50), 4),
            "pooled_p99_ms": round(percentile(all_times, 99), 4),
            "runs": [{k: round(v, 4) for k, v in run.items()} for run in runs],
            "full_scans_in_plan": plan_check(lookup),
        }
        entry["meets_target"] = entry["p99_ms"] <= TARGET_P99_MS and entry["ratio_p99"] <= TARGET_RATIO
        results.append(entry)
        print(
            f"{entry['p50_ms']:.3f}/{entry['p99_ms']:.3f} ms (SELECT 1 {entry['base_p50_ms']:.3f}/"
            f"{entry['base_p99_ms']:.3f}; x{entry['ratio_p99']}) {lookup.where}: {lookup.sql}",
            flush=True,
        )
    save(
        "lookups",
        options.db,
        {
            "mailboxes": Mailbox.objects.count(),
            "keys_per_query": options.keys,
            "runs": options.runs,
            "lookups": results,
            "server": server_settings(),
        },
        options.tag,
    )


if __name__ == "__main__":
    main()
