"""How much memory the directory wants, and how many connections a mail host opens.

    nice -n 10 .venv/bin/python bench/sizing.py --db mariadb|postgresql [--tag NAME]

Run after bench/generate.py. Reads the size of every table of the generated directory as the
server stores it (MariaDB: InnoDB's own statistics after ANALYZE TABLE, i.e. the pages allocated
to each table's clustered index and to its other indexes; PostgreSQL: pg_table_size and
pg_indexes_size after VACUUM ANALYZE), grouped as

- the lookup tables of contract v2 (what Exim and Dovecot read at every message and login: the
  set that should stay in the buffer pool / shared buffers and the OS cache);
- the directory's base tables (what the panel, the CLI and the triggers read and write);
- everything else (audit log, sessions, task queue ...);

and divides by the number of mailboxes, so the figures read "per million mailboxes" (the tables
grow linearly with the rows of the generator's fixed mix: per mailbox, 0.1 domains, 0.5 aliases,
0.05 vacations). The connections a mail host opens are read from the rendered configuration:
Exim opens one database connection per process that looks something up (receiving processes up to
smtp_accept_max, and their delivery processes), Dovecot one per auth worker (its process limit).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import arguments, save, setup_django  # noqa: E402

MB = 1024 * 1024


def table_sizes(db: str) -> dict[str, dict]:
    """{table: {rows, data_bytes, index_bytes}} of every table of the current database."""
    from django.db import connection

    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if db == "mariadb":
            for name in tables:
                cursor.execute(f"ANALYZE TABLE `{name}`")
                cursor.fetchall()
            cursor.execute("SELECT @@innodb_page_size")
            page = int(cursor.fetchone()[0])
            cursor.execute(
                "SELECT table_name, n_rows, clustered_index_size, sum_of_other_index_sizes"
                " FROM mysql.innodb_table_stats WHERE database_name = DATABASE()"
            )
            return {
                name: {"rows": rows, "data_bytes": data * page, "index_bytes": other * page}
                for name, rows, data, other in cursor.fetchall()
                if name in tables
            }
        connection.ensure_connection()
        connection.connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")
        found = {}
        for name in tables:
            cursor.execute(
                "SELECT c.reltuples::bigint, pg_table_size(c.oid), pg_indexes_size(c.oid) FROM pg_class c "
                "WHERE c.oid = %s::regclass",
                [name],
            )
            rows, data, index = cursor.fetchone()
            found[name] = {"rows": max(rows, 0), "data_bytes": data, "index_bytes": index}
        return found


def server_memory(db: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        if db == "mariadb":
            cursor.execute("SELECT @@innodb_buffer_pool_size")
            return {"innodb_buffer_pool_size_mb": int(cursor.fetchone()[0]) // MB}
        cursor.execute("SHOW shared_buffers")
        return {"shared_buffers": cursor.fetchone()[0]}


def connections_per_host() -> dict:
    """Upper bounds from the rendered configuration (deploy/), as a mail host runs it."""
    import subprocess

    from mailserver import config as mailconfig

    exim = mailconfig.render_exim(mailconfig.values())
    accept_max = int(re.search(r"^smtp_accept_max = (\d+)$", exim, re.M).group(1))
    queue_run = re.search(r"^queue_run_max = (\d+)$", exim, re.M)
    queue_run_max = int(queue_run.group(1)) if queue_run else 5  # Exim's default
    dovecot = subprocess.run(["doveconf", "-d", "default_process_limit"], capture_output=True, text=True)  # noqa: S603, S607
    workers = int(dovecot.stdout.split("=")[1]) if dovecot.returncode == 0 else 100
    return {
        "exim_receiving_max": accept_max,
        "exim_delivering_max": accept_max + queue_run_max,
        "exim_max": 2 * accept_max + queue_run_max,
        "dovecot_auth_workers_max": workers,
        "per_host_max": 2 * accept_max + queue_run_max + workers,
    }


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    options = parser.parse_args()
    setup_django(options.db, options.name)
    from accounts.models import Mailbox
    from mailserver.lookup import V2_TABLES

    sizes = table_sizes(options.db)
    mailboxes = Mailbox.objects.count()
    base = {"domains_domain", "domains_domainalias", "domains_admingrant", "domains_admingrant_domains",
            "accounts_mailbox", "aliases_alias", "vacation_vacation"}  # fmt: skip
    groups = {"lookup tables (v2)": set(V2_TABLES), "directory base tables": base}
    groups["everything else"] = set(sizes) - set().union(*groups.values())
    summary = {}
    for label, names in groups.items():
        data = sum(sizes[n]["data_bytes"] for n in names if n in sizes)
        index = sum(sizes[n]["index_bytes"] for n in names if n in sizes)
        summary[label] = {
            "data_mb": round(data / MB, 1),
            "index_mb": round(index / MB, 1),
            "total_mb": round((data + index) / MB, 1),
            "mb_per_million_mailboxes": round((data + index) / MB / mailboxes * 1_000_000, 1),
        }
        print(f"{label}: {summary[label]}", flush=True)
    connections = connections_per_host()
    print(f"connections per mail host: {connections}")
    save(
        "sizing",
        options.db,
        {
            "mailboxes": mailboxes,
            "server": server_memory(options.db),
            "groups": summary,
            "tables": {n: {**v, "mb": round((v["data_bytes"] + v["index_bytes"]) / MB, 1)} for n, v in sizes.items()},
            "connections": connections,
        },
        options.tag,
    )


if __name__ == "__main__":
    main()
