"""Bulk creation of 10,000 mailboxes through the panel's bulk path, and the share of password hashing.

    nice -n 10 .venv/bin/python bench/bulk_create.py --db mariadb [--mailboxes 10000] [--repeat 3]

Run after bench/generate.py (the new mailboxes go into a fresh domain of the full
directory, deleted again after each run). Measured in one run, each ``--repeat`` times:

- ``accounts.services.mailbox_bulk_create`` (what the domain page's "add many" form
  calls: one ``mailbox_create`` per row, each generating and hashing a password),
  with every ``hash_password`` call timed separately;
- the baseline: ``mailadmin.bulk.mailbox_bulk_load`` of the same rows with one
  precomputed hash (no hashing, batched INSERTs).

Hashing is run with cheap Argon2 parameters (m=1 MiB, t=1) for the whole batch, and
with the production parameters (settings: m=64 MiB, t=3 by default) for a sample of
``--production-sample`` passwords; the production figures for the whole batch are
that per-hash median times the number of mailboxes, added to the time without
hashing. ``--production-sample 0`` hashes every mailbox with the production
parameters (about 10,000 x 0.1 s of CPU: for a machine of your own).
"""

from __future__ import annotations

import sys  # noqa: E402
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import arguments, median, save, setup_django  # noqa: E402


class HashTimer:
    """Wraps mailadmin.lib.passwords.hash_password and adds up the time spent in it."""

    def __init__(self):
        from mailadmin.lib import passwords

        self.module, self.original, self.seconds, self.calls = passwords, passwords.hash_password, 0.0, 0

    def __enter__(self):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        self.module.hash_password = timed
        return self

    def __exit__(self, *exc):
        self.module.hash_password = self.original


def fresh_domain(n: int):
    from domains import services

    return services.domain_create(acting_user=None, name=f"bulk-bench-{n}.example", origin="bench")


def drop(domain) -> None:
    from accounts.models import Mailbox

    Mailbox.objects.filter(domain=domain).delete()
    domain.delete()


def rows(count: int) -> list[dict]:
    return [{"local_part": f"new.user{i:05d}", "first_name": "New", "last_name": f"User {i}"} for i in range(count)]


def run_service(count: int, n: int, memory_kib: int, time_cost: int) -> dict:
    from django.conf import settings

    from accounts.bulk import mailbox_bulk_create

    settings.MAIL_ARGON2_MEMORY_KIB, settings.MAIL_ARGON2_TIME_COST = memory_kib, time_cost
    domain = fresh_domain(n)
    with HashTimer() as hashing:
        started = time.perf_counter()
        created = mailbox_bulk_create(acting_user=None, domain=domain, rows=rows(count), origin="bench")
        total = time.perf_counter() - started
    assert len(created) == count and hashing.calls == count
    drop(domain)
    return {"total_s": total, "hashing_s": hashing.seconds, "without_hashing_s": total - hashing.seconds}


def run_loader(count: int, n: int, password_hash: str) -> float:
    from accounts.bulk import mailbox_bulk_load

    domain = fresh_domain(n)
    batch = [{"domain": domain.name, **row} for row in rows(count)]
    started = time.perf_counter()
    mailbox_bulk_load(acting_user=None, rows=batch, password_hash=password_hash, origin="bench")
    seconds = time.perf_counter() - started
    drop(domain)
    return seconds


def production_hash_seconds(sample: int, memory_kib: int, time_cost: int) -> list[float]:
    from mailadmin.lib.passwords import HashPolicy, hash_password

    policy = HashPolicy(argon2_memory_kib=memory_kib, argon2_time_cost=time_cost)
    times = []
    for i in range(sample):
        started = time.perf_counter()
        hash_password(f"Sample-password-{i}", policy)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--mailboxes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--production-sample", type=int, default=30)
    options = parser.parse_args()
    setup_django(options.db, options.name)
    from django.conf import settings

    from accounts.models import Mailbox
    from mailadmin.lib.passwords import HashPolicy, hash_password

    prod_m, prod_t = settings.MAIL_ARGON2_MEMORY_KIB, settings.MAIL_ARGON2_TIME_COST
    one_hash = hash_password("bench-password", HashPolicy(argon2_memory_kib=prod_m, argon2_time_cost=prod_t))
    count, runs, baselines = options.mailboxes, [], []
    full_production = options.production_sample == 0
    for n in range(options.repeat):
        baselines.append(run_loader(count, n, one_hash))
        m, t = (prod_m, prod_t) if full_production else (1024, 1)
        runs.append(run_service(count, n, m, t))
        print(f"run {n}: loader {baselines[-1]:.1f} s; service {runs[-1]}", flush=True)
    result = {key: median([run[key] for run in runs]) for key in runs[0]}
    baseline = median(baselines)
    if full_production:
        production = {"per_hash_ms": result["hashing_s"] / count * 1000, "measured": "every mailbox"}
        production["total_s"] = result["total_s"]
    else:
        sample = production_hash_seconds(options.production_sample, prod_m, prod_t)
        per_hash = median(sample)
        production = {
            "per_hash_ms": per_hash * 1000,
            "measured": f"median of {len(sample)} hashes, x {count}",
            "total_s": result["without_hashing_s"] + per_hash * count,
        }
    production["hashing_s"] = production["per_hash_ms"] / 1000 * count
    production["hashing_share"] = production["hashing_s"] / production["total_s"]
    cheap_share = result["hashing_s"] / result["total_s"]
    save(
        "bulk_create",
        options.db,
        {
            "mailboxes_in_directory": Mailbox.objects.count(),
            "created_per_run": count,
            "repeat": options.repeat,
            "production_argon2": f"ARGON2ID m={prod_m} KiB t={prod_t} p=1",
            "cheap_argon2": "ARGON2ID m=1024 KiB t=1 p=1" if not full_production else None,
            "service_cheap_hashes": {
                **{k: round(v, 2) for k, v in result.items()},
                "hashing_share": round(cheap_share, 3),
                "per_mailbox_ms": round(result["total_s"] / count * 1000, 2),
                "runs": [{k: round(v, 2) for k, v in run.items()} for run in runs],
            },
            "service_production_hashes": {k: round(v, 3) if isinstance(v, float) else v for k, v in production.items()},
            "baseline_bulk_load_s": round(baseline, 2),
            "baseline_runs_s": [round(b, 2) for b in baselines],
            "ratio_service_to_bulk_load": round(result["total_s"] / baseline, 1),
        },
    )


if __name__ == "__main__":
    main()
