"""The statistics pages: storage over time (the usage job's history) and traffic over time (Exim's
log, mailserver.traffic) for a domain, a mailbox, and (superusers) the whole mail host."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.models import DomainUsageDay, DomainUsageHour, MailboxUsageDay, MailboxUsageHour
from accounts.shortcuts import get_mailbox_for
from domains.shortcuts import get_domain_for
from mailadmin import permissions
from mailadmin.lib.charts import Chart, line_chart
from mailadmin.shortcuts import require
from mailadmin.templatetags.panel import size_units
from mailserver import traffic
from mailserver.models import TrafficCount, TrafficParty

STORAGE_DAYS = 90
STORAGE_HOURS = 48
TRAFFIC_DAYS = 14
TOP_DAYS = 7
# What the traffic chart draws, from the kinds counted (mailserver.models.TrafficCount.KINDS).
TRAFFIC_SERIES = {
    gettext_lazy("Received"): ("received",),
    gettext_lazy("Delivered"): ("delivered",),
    gettext_lazy("Relayed out"): ("relayed",),
    gettext_lazy("Bounced"): ("bounced",),
    gettext_lazy("Rejected"): tuple(kind for kind, _kind in TrafficCount.KINDS if kind.startswith("rejected_")),
}


def chart(title: str, labels: list[str], series: dict, unit: str = "") -> Chart:
    """``line_chart`` with its figures (axis and table) written the active language's way: digits
    grouped as the language groups them (1,234 in English, 1.234 in German, 1 234 in French), its
    decimal separator and size units (the panel's: ``mailadmin.templatetags.panel``)."""
    return line_chart(title, labels, series, unit, number=_grouped, names=size_units())


def _grouped(figure: str) -> str:
    return formats.number_format(Decimal(figure), use_l10n=True, force_grouping=True)


def _last_hours_title() -> str:
    return _("Storage, last %(hours)s hours") % {"hours": STORAGE_HOURS}


def _days(count: int) -> list:
    today = timezone.localdate()
    return [today - timedelta(days=count - 1 - i) for i in range(count)]


def _hours(count: int) -> list:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    return [now - timedelta(hours=count - 1 - i) for i in range(count)]


def _hour_label(hour) -> str:
    return timezone.localtime(hour).strftime("%Y-%m-%d %H:00")


def _steps(days: list, known: dict, before=None) -> list:
    """One value per day: the last one known on or before it (a series written only on change);
    None before the first (not measured yet)."""
    values, last = [], before
    for day in days:
        last = known.get(day, last)
        values.append(last)
    return values


def storage_chart(title: str, days: list, per_day: dict[str, dict], before: dict[str, float]):
    return chart(
        title,
        [d.isoformat() for d in days],
        {name: _steps(days, known, before.get(name)) for name, known in per_day.items()},
        unit="bytes",
    )


def traffic_chart(domain: str, days: list):
    start = timezone.make_aware(datetime.combine(days[0], time.min))
    per_day: dict = defaultdict(lambda: defaultdict(int))
    for row in TrafficCount.objects.filter(domain=domain, hour__gte=start).only("hour", "kind", "count"):
        per_day[timezone.localdate(row.hour)][row.kind] += row.count
    series = {str(name): [sum(per_day[d][k] for k in kinds) for d in days] for name, kinds in TRAFFIC_SERIES.items()}
    return chart(_("Messages a day"), [d.isoformat() for d in days], series)


def _domain_storage(domain_ids, days, title):
    rows = (
        DomainUsageDay.objects.filter(day__gte=days[0], **({"domain__in": domain_ids} if domain_ids else {}))
        .values("day")
        .annotate(size=Sum("usage_bytes"))
    )
    return storage_chart(title, days, {_("Storage"): {r["day"]: r["size"] for r in rows}}, {})


def _domain_storage_hours(domain_ids, title):
    hours = _hours(STORAGE_HOURS)
    rows = (
        DomainUsageHour.objects.filter(hour__gte=hours[0], **({"domain__in": domain_ids} if domain_ids else {}))
        .values("hour")
        .annotate(size=Sum("usage_bytes"))
    )
    known = {r["hour"]: r["size"] for r in rows}
    return chart(title, [_hour_label(h) for h in hours], {_("Storage"): _steps(hours, known)}, unit="bytes")


@require_GET
def domain_statistics(request, pk):
    domain = get_domain_for(request, pk)
    since = timezone.localdate() - timedelta(days=TOP_DAYS - 1)
    context = {
        "subject": domain.display_name,
        "domain": domain,
        "storage": _domain_storage([domain.pk], _days(STORAGE_DAYS), _("Storage")),
        "storage_hours": _domain_storage_hours([domain.pk], _last_hours_title()),
        "traffic": traffic_chart(domain.name, _days(TRAFFIC_DAYS)),
        "top_days": TOP_DAYS,
        "top_senders": traffic.top(domain.name, "sender", since),
        "top_recipients": traffic.top(domain.name, "recipient", since),
    }
    return render(request, "mailserver/statistics.html", context)


@require_GET
def mailbox_statistics(request, pk):
    mailbox = get_mailbox_for(request, pk)
    days = _days(STORAGE_DAYS)
    rows = MailboxUsageDay.objects.filter(mailbox=mailbox)
    known = {r.day: r.usage_bytes for r in rows.filter(day__gte=days[0])}
    earlier = rows.filter(day__lt=days[0]).order_by("-day").first()
    # (no history yet: the figure measured last stands for the whole window)
    before = earlier.usage_bytes if earlier else (mailbox.usage_bytes if not known else None)
    hours = _hours(STORAGE_HOURS)
    hourly = MailboxUsageHour.objects.filter(mailbox=mailbox)
    known_hours = {r.hour: r.usage_bytes for r in hourly.filter(hour__gte=hours[0])}
    earlier_hour = hourly.filter(hour__lt=hours[0]).order_by("-hour").first()
    before_hours = earlier_hour.usage_bytes if earlier_hour else (mailbox.usage_bytes if not known_hours else None)
    traffic_days = _days(TRAFFIC_DAYS)
    received = dict(
        TrafficParty.objects.filter(
            domain=mailbox.domain.name if mailbox.domain_id else "",
            role="recipient",
            address=mailbox.address,
            day__gte=traffic_days[0],
        )
        .values_list("day")
        .annotate(total=Sum("count"))
    )
    context = {
        "subject": mailbox.address,
        "mailbox": mailbox,
        "storage": storage_chart(_("Storage"), days, {_("Storage"): known}, {_("Storage"): before}),
        "storage_hours": chart(
            _last_hours_title(),
            [_hour_label(h) for h in hours],
            {_("Storage"): _steps(hours, known_hours, before_hours)},
            unit="bytes",
        ),
        "traffic": chart(
            _("Messages received a day"),
            [d.isoformat() for d in traffic_days],
            {_("Received"): [received.get(d, 0) for d in traffic_days]},
        ),
    }
    return render(request, "mailserver/statistics.html", context)


@require_GET
def server_statistics(request):
    require(permissions.can_see_server_statistics(request.user))
    context = {
        "subject": _("the whole mail host"),
        "storage": _domain_storage(None, _days(STORAGE_DAYS), _("Storage of every domain")),
        "storage_hours": _domain_storage_hours(
            None, _("Storage of every domain, last %(hours)s hours") % {"hours": STORAGE_HOURS}
        ),
        "traffic": traffic_chart(traffic.ALL, _days(TRAFFIC_DAYS)),
    }
    return render(request, "mailserver/statistics.html", context)
