"""Fill a bench database with the synthetic directory of bench/directory.py, through the bulk path (mailadmin.bulk).

    nice -n 10 .venv/bin/python bench/generate.py --db mariadb [--scale 1.0]

Drops and re-creates the database ``mailadmin_bench`` (so a run can always start
again), migrates it, then loads domains, domain aliases, mailboxes, aliases and
vacations with the project's bulk loader, which validates every row. Records the
time and rows per second of each kind in bench/results/generate-<db>.json.

Every mailbox gets the same password hash: one {ARGON2ID} hash with the production
parameters, made once (hashing a million passwords would take a day of CPU; bench/
bulk_create.py measures hashing). The password is ``bench-password``.
"""

from __future__ import annotations

import sys  # noqa: E402
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import arguments, recreate_database, save, setup_django  # noqa: E402

PASSWORD = "bench-password"  # noqa: S105 - the known password of generated mailboxes
KINDS = ["domains", "domain_aliases", "mailboxes", "aliases", "vacations"]


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = a million mailboxes")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261121)
    options = parser.parse_args()
    recreate_database(options.db, options.name)
    setup_django(options.db, options.name)

    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.perf_counter() - started
    # A first load of a million rows is an initial import: the triggers of the lookup tables and of
    # the domains' totals are set aside and the tables filled once at the end (`manage.py
    # lookup_tables rebuild`), as an operator would; what the triggers cost per write is
    # bulk_create.py's to measure.
    from django.db import connection

    from accounts import totals
    from mailserver import lookup

    with connection.cursor() as cursor:
        for statement in lookup.drop_trigger_sql(connection.vendor) + totals.drop_trigger_sql(connection.vendor):
            cursor.execute(statement)
    result = load(options.scale, options.seed, options.batch_size)
    started = time.perf_counter()
    lookup.rebuild(connection)
    result["lookup_tables_seconds"] = round(time.perf_counter() - started, 1)
    print(f"lookup tables filled in {result['lookup_tables_seconds']} s", flush=True)
    analyze()
    save(
        "generate",
        options.db,
        {
            "scale": options.scale,
            "seed": options.seed,
            "batch_size": options.batch_size,
            "migrate_seconds": round(migrate_seconds, 1),
            **result,
        },
        options.tag,
    )


def load(scale: float, seed: int, batch_size: int, verbose: bool = True) -> dict:
    from django.conf import settings

    from accounts.bulk import mailbox_bulk_load
    from accounts.models import hash_policy
    from aliases.bulk import alias_bulk_load
    from bench.directory import Directory
    from domains.bulk import domain_alias_bulk_load, domain_bulk_load
    from mailadmin.lib.passwords import hash_password
    from vacation.bulk import vacation_bulk_load

    directory = Directory(scale=scale, seed=seed)
    policy = hash_policy()
    password_hash = hash_password(PASSWORD, policy)
    loaders = {
        "domains": lambda rows, **kw: len(domain_bulk_load(rows=rows, **kw)),
        "domain_aliases": lambda rows, **kw: len(domain_alias_bulk_load(rows=rows, **kw)),
        "mailboxes": lambda rows, **kw: len(mailbox_bulk_load(rows=rows, password_hash=password_hash, **kw)),
        "aliases": lambda rows, **kw: len(alias_bulk_load(rows=rows, **kw)),
        "vacations": lambda rows, **kw: len(vacation_bulk_load(rows=rows, **kw)),
    }
    phases, total_rows, total_seconds = {}, 0, 0.0
    for kind in KINDS:
        bar = _progress(kind, directory.counts[kind]) if verbose else None
        started = time.perf_counter()
        rows = loaders[kind](
            getattr(directory, kind)(),
            acting_user=None,
            origin="bench",
            batch_size=batch_size,
            progress=bar.update if bar else None,
        )
        seconds = time.perf_counter() - started
        if bar:
            bar.close()
        phases[kind] = {"rows": rows, "seconds": round(seconds, 1), "rows_per_second": round(rows / seconds)}
        total_rows, total_seconds = total_rows + rows, total_seconds + seconds
        if verbose:
            print(f"{kind}: {rows} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)", flush=True)
    return {
        "counts": directory.counts,
        "big_domain_mailboxes": directory.big,
        "password_hash_scheme": f"{settings.MAIL_PASSWORD_SCHEME} m={policy.argon2_memory_kib} KiB "
        f"t={policy.argon2_time_cost} (one hash shared by every generated mailbox)",
        "phases": phases,
        "total": {
            "rows": total_rows,
            "seconds": round(total_seconds, 1),
            "rows_per_second": round(total_rows / total_seconds),
        },
    }


def _progress(kind: str, total: int):
    import sys

    from tqdm import tqdm

    return tqdm(total=total, desc=kind, unit="rows", mininterval=5, file=sys.stderr)


def analyze() -> None:
    """Fresh statistics, as a production database would have (the planner's choices depend on them);
    on PostgreSQL also the visibility map, which autovacuum sets after a bulk insert (PostgreSQL 13
    and later: ``autovacuum_vacuum_insert_threshold``): without it an index-only scan reads the table
    too, and the last page of the big domain took 9.4 ms instead of 1.8 for its ids (sorted in memory
    instead of read from the index)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            for table in (
                "domains_domain",
                "domains_domainalias",
                "accounts_mailbox",
                "aliases_alias",
                "vacation_vacation",
            ):
                cursor.execute(f"ANALYZE TABLE {table}")
                cursor.fetchall()
        else:
            cursor.execute("VACUUM ANALYZE")


if __name__ == "__main__":
    main()
