"""The usage job: each mailbox's storage and message count, read from the mail store.

``manage.py mailstore usage`` (cron, as the store's owner) fills in ``usage_bytes`` and the
``over_quota`` flag that Exim reads at RCPT. A measurement, not an administrative change:
no audit row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Sum
from django.utils import timezone

from accounts import mailstore
from accounts.models import DomainUsageDay, DomainUsageHour, Mailbox, MailboxUsageDay, MailboxUsageHour, maildir_of

USAGE_FIELDS = ["usage_bytes", "message_count", "inbox_changed_at", "over_quota"]


def mailbox_usage_refresh(*, store: Path, now=None, batch_size: int = 1000) -> dict:
    """Read every mailbox's usage from the mail store and store what changed.

    A measurement, not an administrative change: no audit row. Only changed rows
    are written (so a run every minute costs one read per maildir and one
    UPDATE for ``usage_updated_at``); ``over_quota`` is what Exim reads at RCPT.
    """
    now = now or timezone.now()
    rows = Mailbox.objects.filter(domain__isnull=False).values_list(
        "pk", "domain__name", "local_part", "quota_bytes", *USAGE_FIELDS
    )
    changed, sources = [], {"maildirsize": 0, "scan": 0, "missing": 0}
    for pk, domain, local_part, quota_bytes, *current in rows.iterator(chunk_size=2000):
        usage = mailstore.read_usage(store / maildir_of(domain, local_part))
        sources[usage.source] += 1
        inbox_changed = datetime.fromtimestamp(int(usage.inbox_changed), UTC) if usage.inbox_changed else None
        measured = [usage.bytes, usage.messages, inbox_changed, bool(quota_bytes) and usage.bytes >= quota_bytes]
        if measured != current:
            changed.append((pk, *measured))
    with transaction.atomic():
        _write_usage(changed, batch_size)
        Mailbox.objects.filter(domain__isnull=False).update(usage_updated_at=now)
        _keep_history(changed, now, batch_size)
    return {"mailboxes": sum(sources.values()), "changed": len(changed), **sources}


def _keep_history(changed: list[tuple], now, batch_size: int) -> None:
    """This run's point of the usage history, by day and by hour: each domain's totals, and the
    mailboxes that changed (a mailbox's series has a row only where it changed); older than
    MAIL_USAGE_HISTORY_DAYS (days) and MAIL_USAGE_HOURLY_DAYS (hours) goes."""
    today, hour = timezone.localdate(now), now.replace(minute=0, second=0, microsecond=0)
    # What goes is found by date over the whole table: only at the first run of a day (an hour).
    first_of_day = not DomainUsageDay.objects.filter(day=today).exists()
    first_of_hour = not DomainUsageHour.objects.filter(hour=hour).exists()
    totals = list(
        Mailbox.objects.filter(domain__isnull=False)
        .values("domain_id")
        .annotate(size=Sum("usage_bytes"), count=Sum("message_count"), boxes=Count("pk"))
        .order_by()
    )
    for period, value, mailbox_model, domain_model in (
        ("day", today, MailboxUsageDay, DomainUsageDay),
        ("hour", hour, MailboxUsageHour, DomainUsageHour),
    ):
        rows = [mailbox_model(mailbox_id=pk, usage_bytes=size, message_count=count) for pk, size, count, *_ in changed]
        _upsert(mailbox_model, "mailbox", period, value, rows, ["usage_bytes", "message_count"], batch_size)
        rows = [
            domain_model(
                domain_id=row["domain_id"],
                usage_bytes=row["size"] or 0,
                message_count=row["count"] or 0,
                mailboxes=row["boxes"],
            )
            for row in totals
        ]
        _upsert(domain_model, "domain", period, value, rows, ["usage_bytes", "message_count", "mailboxes"], batch_size)
    if first_of_day:
        oldest_day = today - timedelta(days=settings.MAIL_USAGE_HISTORY_DAYS)
        for model in (MailboxUsageDay, DomainUsageDay):
            model.objects.filter(day__lt=oldest_day).delete()
        _thin_out(today)
    if first_of_hour:
        oldest_hour = hour - timedelta(days=settings.MAIL_USAGE_HOURLY_DAYS)
        for model in (MailboxUsageHour, DomainUsageHour):
            model.objects.filter(hour__lt=oldest_hour).delete()


# A mailbox's rows by day are kept for this many days; before that, the last row of each month.
DAILY_DAYS = 92
MONTHS_THINNED_PER_RUN = 3


def _thin_out(today) -> None:
    """Keep a mailbox's history compact: older than DAILY_DAYS, only the last row of each month of
    each mailbox stays (a step line by month). The months just past that line are thinned every day
    (a no-op once done), so a job that did not run for a while catches up."""
    boundary = (today - timedelta(days=DAILY_DAYS)).replace(day=1)  # months before it are monthly
    month_end = boundary
    for _ in range(MONTHS_THINNED_PER_RUN):
        month_start = (month_end - timedelta(days=1)).replace(day=1)
        later = MailboxUsageDay.objects.filter(mailbox=OuterRef("mailbox"), day__gt=OuterRef("day"), day__lt=month_end)
        MailboxUsageDay.objects.filter(day__gte=month_start, day__lt=month_end).filter(Exists(later)).delete()
        month_end = month_start


def _upsert(model, owner: str, period: str, value, rows: list, fields: list[str], batch_size: int) -> None:
    """Insert ``rows`` at ``period`` = ``value``, or replace the figures of the one already there."""
    for row in rows:
        setattr(row, period, value)
    # (MariaDB/MySQL take no conflict target: ON DUPLICATE KEY UPDATE finds the unique key itself)
    target = [owner, period] if connection.features.supports_update_conflicts_with_target else None
    model.objects.bulk_create(
        rows, batch_size=batch_size, update_conflicts=True, unique_fields=target, update_fields=fields
    )


def _write_usage(rows: list[tuple], batch_size: int) -> None:
    """One prepared UPDATE by primary key, executed for many rows (far cheaper than bulk_update's CASE)."""
    ops, table = connection.ops, Mailbox._meta.db_table
    columns = ", ".join(f"{ops.quote_name(name)} = %s" for name in USAGE_FIELDS)
    sql = f"UPDATE {ops.quote_name(table)} SET {columns} WHERE {ops.quote_name('id')} = %s"
    params = [(size, count, ops.adapt_datetimefield_value(when), over, pk) for pk, size, count, when, over in rows]
    with connection.cursor() as cursor:
        for start in range(0, len(params), batch_size):
            cursor.executemany(sql, params[start : start + batch_size])
