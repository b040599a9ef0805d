"""Server time and SQL query count of the panel's pages on the generated directory.

    nice -n 10 .venv/bin/python bench/pages.py --db mariadb [--repeat 11] [--tag NAME]

Run after bench/generate.py. Each page is requested through Django's test client
(the whole request: middleware, views, templates; no network, no browser), once to
warm up and then ``--repeat`` times; the figure is the median. The baseline is an
empty logged-in page (``/bench/empty/`` of bench/urls.py: middleware, session and user,
nothing else), requested by the same client before each request of every page
(alternating), so a page and its baseline see the same machine; the ratio is page
median over baseline median: what a page costs beyond any request. The domain page of
``big.example`` (10,000 mailboxes: first page, last page, a search) is measured as a
superuser and as a domain admin whose grant covers it (target: <= 5x the empty page,
the same query count for both roles); the domain list and a small domain's page as a
superuser. The query count is taken with CaptureQueriesContext.
"""

from __future__ import annotations

import sys  # noqa: E402
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import arguments, median, save, setup_django  # noqa: E402

TARGET_RATIO = 5.0  # the domain page against the empty page, both roles
EMPTY = "empty logged-in page"


def measure(client, url: str, repeat: int, baseline: str | None = None) -> dict:
    """Median server time of ``url``; with ``baseline``, that page is requested before each one
    (alternating, the same client) and the ratio is to its median: both see the same machine."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up (caches, connection)
    times, base_times, counts = [], [], set()
    for _ in range(repeat):
        if baseline:
            started = time.perf_counter()
            assert client.get(baseline).status_code == 200
            base_times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        counts.add(len(queries))
    result = {
        "url": url,
        "median_ms": round(median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "queries": sorted(counts),
        "bytes": len(response.content),
    }
    if baseline:
        result["baseline_ms"] = round(median(base_times), 2)
        result["ratio"] = round(median(times) / median(base_times), 2)
    return result


def superuser():
    from accounts import services
    from accounts.models import Mailbox

    address = "bench-admin@bench-admin.example"
    return Mailbox.objects.filter(address=address).first() or services.superuser_create(
        origin="bench",
        address=address,
        password="never used: the pages log in with force_login",  # noqa: S106 (passes the password policy)
    )


def domain_admin(big, small):
    """A mailbox of the small domain whose grant covers it and the big domain (created once)."""
    from accounts import services
    from accounts.models import Mailbox
    from domains import services as domains

    address = f"bench-domain-admin@{small.name}"
    admin = Mailbox.objects.filter(address=address).first() or services.mailbox_create(
        origin="bench",
        acting_user=None,
        domain=small,
        local_part="bench-domain-admin",
        password="never used: the pages log in with force_login",  # noqa: S106 (passes the password policy)
        welcome=False,
    )
    domains.grant_set(origin="bench", acting_user=None, admin=admin, domains=[small, big])
    return Mailbox.objects.get(pk=admin.pk)


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
    settings.ROOT_URLCONF = "bench.urls"  # the panel's URLs plus the empty page
    assert Client().get("/bench/empty/").status_code == 302  # private: anonymous goes to the login page
    big = Domain.objects.annotate(n=Count("mailboxes")).get(name=BIG_DOMAIN)
    small = (
        Domain.objects.filter(name__startswith="harbour-")
        .annotate(n=Count("mailboxes"))
        .filter(n__gte=8, n__lte=12)
        .order_by("pk")
        .first()
    )
    clients = {"superuser": Client(), "domain admin": Client()}
    clients["superuser"].force_login(superuser())
    clients["domain admin"].force_login(domain_admin(big, small))
    small.n = Mailbox.objects.filter(domain=small).count()
    domains = Domain.objects.count()
    last_list_page = (domains + 49) // 50
    last_big_page = (big.n + 49) // 50
    detail = reverse("domains:detail", args=[big.pk])
    pages = [
        ("superuser", EMPTY, "/bench/empty/"),
        ("superuser", "domain page, big domain", detail),
        ("superuser", "domain page, big domain, last page", f"{detail}?page={last_big_page}"),
        ("superuser", "domain page, big domain, search", f"{detail}?q=anna.berg"),
        ("domain admin", EMPTY, "/bench/empty/"),
        ("domain admin", "domain page, big domain", detail),
        ("domain admin", "domain page, big domain, last page", f"{detail}?page={last_big_page}"),
        ("domain admin", "domain page, big domain, search", f"{detail}?q=anna.berg"),
        ("superuser", "domain page, small domain", reverse("domains:detail", args=[small.pk])),
        ("superuser", "domain list", reverse("domains:list")),
        ("superuser", "domain list, last page", reverse("domains:list") + f"?page={last_list_page}"),
        ("superuser", "domain list, search", reverse("domains:list") + "?q=" + small.name.split(".")[0]),
    ]
    results = {}
    for role, label, url in pages:
        baseline = None if label == EMPTY else "/bench/empty/"
        entry = {"role": role, "page": label, **measure(clients[role], url, options.repeat, baseline)}
        if label == EMPTY:
            entry["ratio"] = 1.0
        if label.startswith("domain page, big domain"):
            entry["meets_target"] = entry["ratio"] <= TARGET_RATIO
        results[f"{role}: {label}"] = entry
        print(f"{role}: {label}: {entry}", flush=True)
    save(
        "pages",
        options.db,
        {
            "domains": domains,
            "mailboxes": Mailbox.objects.count(),
            "big_domain_mailboxes": big.n,
            "small_domain_mailboxes": small.n,
            "repeat": options.repeat,
            "target_ratio": TARGET_RATIO,
            "baseline": EMPTY,
            "pages": results,
        },
        options.tag,
    )


if __name__ == "__main__":
    main()
