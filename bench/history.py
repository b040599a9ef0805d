"""The usage history's size, and the statistics pages' time, with two years of history.

    nice -n 10 .venv/bin/python bench/history.py --db mariadb [--mailboxes 10000] [--days 730]

In a database of its own (recreated): ``--domains`` domains sharing ``--mailboxes`` mailboxes,
two years (``--days``) of history as the usage job keeps it: each domain a row a day, each
mailbox a row on the days it changed (``--change``: the share of days a mailbox gets or loses
mail; 0.5 by default, a busy directory) over the last three months and the last of each month
before (accounts.usage._thin_out), plus the hours of the last two days. The tables' rows
and bytes (with their indexes) as the server stores them, per million mailboxes by proportion.
Then the statistics pages (a domain's, a mailbox's, the whole host's) against an empty
logged-in page requested alternately by the same client (bench/pages.py's ``measure``).
"""

from __future__ import annotations

import random
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import arguments, recreate_database, save, setup_django  # noqa: E402

HISTORY_TABLES = ("accounts_domainusageday", "accounts_mailboxusageday", "accounts_domainusagehour",
                  "accounts_mailboxusagehour")  # fmt: skip


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--mailboxes", type=int, default=10_000)
    parser.add_argument("--domains", type=int, default=100)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--change", type=float, default=0.5)
    parser.add_argument("--repeat", type=int, default=11)
    options = parser.parse_args()
    if options.db == "sqlite":
        parser.error("--db mariadb or postgresql: the table sizes are read from the server's statistics")
    name = f"{options.name}_history"
    recreate_database(options.db, name)
    setup_django(options.db, name)
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import DomainUsageDay, DomainUsageHour, Mailbox, MailboxUsageDay, MailboxUsageHour
    from bench.pages import EMPTY, measure, superuser
    from bench.sizing import table_sizes
    from domains.models import Domain

    call_command("migrate", verbosity=0)
    rng = random.Random(18)  # noqa: S311 (a benchmark's data)
    domains = Domain.objects.bulk_create(Domain(name=f"history-{i}.example") for i in range(options.domains))
    per_domain = options.mailboxes // options.domains
    Mailbox.objects.bulk_create(
        (
            Mailbox(domain=d, local_part=f"m{j}", address=f"m{j}@{d.name}", password="{PLAIN}x")
            for d in domains
            for j in range(per_domain)
        ),
        batch_size=2000,
    )
    boxes = list(Mailbox.objects.filter(domain__in=domains).values_list("pk", flat=True))
    today = timezone.localdate()
    days = [today - timedelta(days=options.days - 1 - i) for i in range(options.days)]
    DomainUsageDay.objects.bulk_create(
        (DomainUsageDay(domain=d, day=day, usage_bytes=rng.randrange(1 << 34), mailboxes=per_domain)
         for d in domains for day in days),
        batch_size=5000,
    )  # fmt: skip
    hours = [timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=h) for h in range(48)]
    DomainUsageHour.objects.bulk_create(
        (DomainUsageHour(domain=d, hour=hour, usage_bytes=rng.randrange(1 << 34)) for d in domains for hour in hours),
        batch_size=5000,
    )
    size = {pk: rng.randrange(1 << 30) for pk in boxes}

    from accounts.usage import DAILY_DAYS

    boundary = (today - timedelta(days=DAILY_DAYS)).replace(day=1)  # before it, a row a month (usage._thin_out)

    def changes():
        pending = {}  # mailbox -> its last change in the month (before the boundary)
        for n, day in enumerate(days):
            for pk in boxes:
                if rng.random() < options.change:
                    size[pk] += rng.randrange(-(1 << 20), 1 << 22)
                    row = MailboxUsageDay(mailbox_id=pk, day=day, usage_bytes=max(size[pk], 0), message_count=9)
                    if day >= boundary:
                        yield row
                    else:
                        pending[pk] = row
            if pending and (n + 1 == len(days) or days[n + 1].month != day.month):
                yield from pending.values()
                pending = {}

    MailboxUsageDay.objects.bulk_create(changes(), batch_size=10_000)
    MailboxUsageHour.objects.bulk_create(
        (MailboxUsageHour(mailbox_id=pk, hour=hour, usage_bytes=size[pk]) for pk in boxes for hour in hours
         if rng.random() < options.change / 4),
        batch_size=10_000,
    )  # fmt: skip
    sizes = {t: s for t, s in table_sizes(options.db).items() if t in HISTORY_TABLES}
    scale = 1_000_000 / options.mailboxes
    total = sum(s["data_bytes"] + s["index_bytes"] for s in sizes.values())

    settings.AXES_ENABLED = False
    settings.ROOT_URLCONF = "bench.urls"
    client = Client()
    client.force_login(superuser())
    domain, box = domains[0], Mailbox.objects.filter(domain=domains[0]).order_by("pk").first()
    pages = [
        (EMPTY, "/bench/empty/"),
        ("a domain's statistics", reverse("mailserver:domain_statistics", args=[domain.pk])),
        ("a mailbox's statistics", reverse("mailserver:mailbox_statistics", args=[box.pk])),
        ("the whole host's statistics", reverse("mailserver:statistics")),
    ]
    measured = {
        label: measure(client, url, options.repeat, None if label == EMPTY else "/bench/empty/") for label, url in pages
    }
    data = {
        "mailboxes": len(boxes),
        "domains": len(domains),
        "days": options.days,
        "change": options.change,
        "tables": sizes,
        "bytes": total,
        "bytes_per_million_mailboxes": round(total * scale),
        "rows_per_million_mailboxes": round(sum(s["rows"] for s in sizes.values()) * scale),
        "pages": measured,
    }
    path = save("history", options.db, data, options.tag)
    print(f"{path}: {total / 2**20:.0f} MiB here, {total * scale / 2**30:.1f} GiB per million mailboxes")
    for label, result in measured.items():
        print(f"  {label}: {result['median_ms']} ms, {result.get('ratio', 1.0)}x, {result['queries']} queries")


if __name__ == "__main__":
    main()
