"""Server time and SQL query count of the panel's pages on the generated directory.

    nice -n 10 .venv/bin/python bench/pages.py --db mariadb [--repeat 11]

Run after bench/generate.py. Each page is requested through Django's test client
(the whole request: middleware, views, templates; no network, no browser) as a
superuser, once to warm up and then ``--repeat`` times; the figure is the median.
The baseline, measured in the same run, is the page of a small domain (about 10
mailboxes): the ratio says what the size of the directory costs. The query count is
taken with CaptureQueriesContext.
"""

from __future__ import annotations

import sys  # noqa: E402
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import arguments, median, save, setup_django  # noqa: E402

TARGET_DOMAIN_PAGE_MS = 100.0


def measure(client, url: str, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up (caches, connection)
    times, counts = [], set()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        counts.add(len(queries))
    return {
        "url": url,
        "median_ms": round(median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "queries": sorted(counts),
        "bytes": len(response.content),
    }


def superuser():
    from accounts import services
    from accounts.models import Mailbox

    address = "bench-admin@bench-admin.example"
    return Mailbox.objects.filter(address=address).first() or services.superuser_create(
        origin="bench",
        address=address,
        password="never used: the pages log in with force_login",  # noqa: S106 (passes the password policy)
    )


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    options = parser.parse_args()
    setup_django(options.db, options.name)
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from accounts.models import Mailbox
    from bench.directory import BIG_DOMAIN
    from domains.models import Domain

    settings.AXES_ENABLED = False  # force_login's request has no client address for the login log
    client = Client()
    client.force_login(superuser())
    big = Domain.objects.annotate(n=Count("mailboxes")).get(name=BIG_DOMAIN)
    small = (
        Domain.objects.filter(name__startswith="harbour-")
        .annotate(n=Count("mailboxes"))
        .filter(n__gte=8, n__lte=12)
        .first()
    )
    domains = Domain.objects.count()
    last_list_page = (domains + 49) // 50
    last_big_page = (big.n + 49) // 50
    pages = {
        "baseline: domain page, small domain": reverse("domains:detail", args=[small.pk]),
        "domain list": reverse("domains:list"),
        "domain list, last page": reverse("domains:list") + f"?page={last_list_page}",
        "domain list, search": reverse("domains:list") + "?q=" + small.name.split(".")[0],
        "domain page, big domain": reverse("domains:detail", args=[big.pk]),
        "domain page, big domain, last page": reverse("domains:detail", args=[big.pk]) + f"?page={last_big_page}",
        "domain page, big domain, search": reverse("domains:detail", args=[big.pk]) + "?q=anna.berg",
    }
    results = {}
    for label, url in pages.items():
        results[label] = measure(client, url, options.repeat)
        print(f"{label}: {results[label]}", flush=True)
    base = results["baseline: domain page, small domain"]["median_ms"]
    for entry in results.values():
        entry["ratio"] = round(entry["median_ms"] / base, 2)
    save(
        "pages",
        options.db,
        {
            "domains": domains,
            "mailboxes": Mailbox.objects.count(),
            "big_domain_mailboxes": big.n,
            "small_domain_mailboxes": small.n,
            "repeat": options.repeat,
            "pages": results,
        },
    )


if __name__ == "__main__":
    main()
