"""Listing every mailbox of a 10,000-mailbox domain through the REST API, page by page.

    nice -n 10 .venv/bin/python bench/api.py --db mariadb [--mailboxes 10000] [--repeat 5]

Self-contained (its own database ``mailadmin_bench_api``): one domain of ``--mailboxes`` mailboxes
(the bulk loader), a domain administrator whose grant covers it and a superuser, each with a
read-only token. Each run follows ``next`` from the first page to the last with Django's test
client (the whole stack of middleware, token check and rate-limit count included, no network),
for page sizes 100 and 500, as both roles; the figure is the median of ``--repeat`` runs of the
whole list, and the SQL statements of every page are counted (the first page's, the last page's:
the same at any depth is the goal). The baseline in the same run: the same number of requests
to ``GET /api/v1/me`` (the cost of a request with nothing listed). Goal: the whole list in at most
2 s; Modoboa's API took 51.7 s and 30,007 queries for the same list on this machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import arguments, median, recreate_database, save, setup_django  # noqa: E402
from bench.generate import analyze  # noqa: E402

NAME = "mailadmin_bench_api"
GOAL_S = 2.0


def prepare(count: int) -> dict:
    from django.core.management import call_command

    from accounts.bulk import mailbox_bulk_load
    from accounts.services import mailbox_create, superuser_create
    from api import tokens
    from domains import services

    call_command("migrate", verbosity=0)
    big = services.domain_create(acting_user=None, name="big.example", origin="bench")
    mailbox_bulk_load(
        acting_user=None,
        rows=[{"domain": big.name, "local_part": f"user{i:05d}"} for i in range(count)],
        password_hash="{PLAIN}unused",
        origin="bench",
    )
    password = "a bench password 7"  # noqa: S105
    admin = mailbox_create(
        origin="bench", acting_user=None, domain=big, local_part="admin", password=password, welcome=False
    )
    services.grant_set(origin="bench", acting_user=None, admin=admin, domains=[big])
    root = mailbox_create(
        origin="bench", acting_user=None, domain=big, local_part="root", password=password, welcome=False
    )
    root = superuser_create(origin="bench", address=root.address, password=None)
    analyze()  # fresh statistics, as autovacuum gives a production database after a bulk load
    shown = {}
    for role, owner in (("superuser", root), ("domain admin", admin)):
        _, shown[role] = tokens.create(acting_user=owner, owner=owner, name="bench", origin="bench", days=1)
    return shown


def list_all(client, limit: int) -> tuple[float, int, list[int]]:
    """(seconds, mailboxes, statements per page) for one walk through every page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    after, seen, per_page = "", 0, []
    started = time.perf_counter()
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/domains/big.example/mailboxes?limit={limit}&after={after}")
        assert response.status_code == 200, response.content[:300]
        page = response.json()
        per_page.append(len(queries))
        seen += len(page["items"])
        if page["next"] is None:
            return time.perf_counter() - started, seen, per_page
        after = page["next"]


def baseline(client, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        assert client.get("/api/v1/me").status_code == 200
    return time.perf_counter() - started


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.set_defaults(name=NAME)
    parser.add_argument("--mailboxes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    recreate_database(options.db, options.name)
    setup_django(options.db, options.name)
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's response.json(); DEBUG stays off
    settings.API_RATE_LIMIT_PER_MINUTE = 10**9  # measure the listing, not the limit
    shown = prepare(options.mailboxes)
    runs = {}
    for role, token in shown.items():
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        for limit in (100, 500):
            times, base = [], []
            for _ in range(options.repeat):
                seconds, seen, per_page = list_all(client, limit)
                times.append(seconds)
                base.append(baseline(client, len(per_page)))
            runs[f"{role}, pages of {limit}"] = {
                "mailboxes_listed": seen,
                "pages": len(per_page),
                "seconds": round(median(times), 3),
                "runs_s": [round(t, 3) for t in times],
                "ms_per_page": round(median(times) / len(per_page) * 1000, 2),
                "statements_first_last_page": [per_page[0], per_page[-1]],
                "statements_constant": len(set(per_page)) == 1,
                "baseline_me_s": round(median(base), 3),
                "ratio_to_baseline": round(median(times) / median(base), 2),
                "goal_met": median(times) <= GOAL_S and len(set(per_page)) == 1,
            }
            print(role, limit, runs[f"{role}, pages of {limit}"], flush=True)
    data = {"mailboxes": options.mailboxes, "repeat": options.repeat, "goal_s": GOAL_S, "runs": runs}
    save("api", options.db, data, options.tag)


if __name__ == "__main__":
    main()
