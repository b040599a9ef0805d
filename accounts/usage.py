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
from django.db.models import Count, Sum
from django.utils import timezone

from accounts import mailstore
from accounts.models import DomainUsageDay, Mailbox, MailboxUsageDay, maildir_of

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
        _keep_history(changed, timezone.localdate(now), batch_size)
    return {"mailboxes": sum(sources.values()), "changed": len(changed), **sources}


def _keep_history(changed: list[tuple], today, batch_size: int) -> None:
    """Today's point of the usage history: each domain's totals, and the mailboxes that changed
    (a mailbox's series has a row only on the days it changed); older than
    MAIL_USAGE_HISTORY_DAYS goes."""
    MailboxUsageDay.objects.bulk_create(
        [
            MailboxUsageDay(mailbox_id=pk, day=today, usage_bytes=size, message_count=count)
            for pk, size, count, *_ in changed
        ],
        batch_size=batch_size,
        update_conflicts=True,
        unique_fields=["mailbox", "day"],
        update_fields=["usage_bytes", "message_count"],
    )
    totals = (
        Mailbox.objects.filter(domain__isnull=False)
        .values("domain_id")
        .annotate(size=Sum("usage_bytes"), count=Sum("message_count"), boxes=Count("pk"))
        .order_by()
    )
    DomainUsageDay.objects.bulk_create(
        [
            DomainUsageDay(
                domain_id=row["domain_id"],
                day=today,
                usage_bytes=row["size"] or 0,
                message_count=row["count"] or 0,
                mailboxes=row["boxes"],
            )
            for row in totals.iterator(chunk_size=2000)
        ],
        batch_size=batch_size,
        update_conflicts=True,
        unique_fields=["domain", "day"],
        update_fields=["usage_bytes", "message_count", "mailboxes"],
    )
    oldest = today - timedelta(days=settings.MAIL_USAGE_HISTORY_DAYS)
    MailboxUsageDay.objects.filter(day__lt=oldest).delete()
    DomainUsageDay.objects.filter(day__lt=oldest).delete()


def _write_usage(rows: list[tuple], batch_size: int) -> None:
    """One prepared UPDATE by primary key, executed for many rows (far cheaper than bulk_update's CASE)."""
    ops, table = connection.ops, Mailbox._meta.db_table
    columns = ", ".join(f"{ops.quote_name(name)} = %s" for name in USAGE_FIELDS)
    sql = f"UPDATE {ops.quote_name(table)} SET {columns} WHERE {ops.quote_name('id')} = %s"
    params = [(size, count, ops.adapt_datetimefield_value(when), over, pk) for pk, size, count, when, over in rows]
    with connection.cursor() as cursor:
        for start in range(0, len(params), batch_size):
            cursor.executemany(sql, params[start : start + batch_size])
