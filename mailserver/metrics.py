"""The directory's figures in Prometheus' text format (the API's ``GET /metrics``), for operators
who already graph their servers: counts of what the directory holds, storage and quota per
domain (from the usage job), and the messages counted from Exim's logs (mailserver.traffic) as
counters per domain and kind."""

from __future__ import annotations

from django.db.models import Count, Q, Sum


def _label(value) -> str:
    """A label value as the text format wants it quoted."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Out:
    def __init__(self):
        self.lines: list[str] = []

    def metric(self, name: str, kind: str, help_text: str, samples) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        for labels, value in samples:
            text = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
            self.lines.append(f"{name}{{{text}}} {value}" if text else f"{name} {value}")


def render(per_domain: bool = True) -> str:
    from accounts.models import DomainTotals, Mailbox
    from aliases.models import Alias
    from domains.models import Domain, DomainAlias
    from mailserver.models import LogCursor, TrafficCount

    out = _Out()
    domains = Domain.objects.aggregate(on=Count("pk", filter=Q(active=True)), off=Count("pk", filter=Q(active=False)))
    out.metric(
        "mailadmin_domains",
        "gauge",
        "Domains in the directory.",
        [({"state": "active"}, domains["on"]), ({"state": "inactive"}, domains["off"])],
    )
    out.metric("mailadmin_domain_aliases", "gauge", "Domain aliases.", [({}, DomainAlias.objects.count())])
    out.metric("mailadmin_aliases", "gauge", "Aliases (catch-alls included).", [({}, Alias.objects.count())])
    boxes = Mailbox.objects.filter(domain__isnull=False)
    totals = boxes.aggregate(
        on=Count("pk", filter=Q(active=True)),
        off=Count("pk", filter=Q(active=False)),
        over_quota=Count("pk", filter=Q(over_quota=True)),
        storage=Sum("usage_bytes"),
        quota=Sum("quota_bytes"),
    )
    out.metric(
        "mailadmin_mailboxes",
        "gauge",
        "Mailboxes.",
        [({"state": "active"}, totals["on"]), ({"state": "inactive"}, totals["off"])],
    )
    out.metric("mailadmin_mailboxes_over_quota", "gauge", "Mailboxes at their quota.", [({}, totals["over_quota"])])
    out.metric(
        "mailadmin_storage_bytes", "gauge", "Mail stored, as the usage job measured it.", [({}, totals["storage"] or 0)]
    )
    out.metric("mailadmin_quota_bytes", "gauge", "Quotas given (0: unlimited).", [({}, totals["quota"] or 0)])
    if per_domain:
        # (each domain's row of the totals the database keeps, accounts.totals: one row per domain
        # rather than a pass over every mailbox at each scrape)
        rows = list(
            DomainTotals.objects.filter(mailboxes__gt=0)
            .values_list("domain__name", "mailboxes", "usage_bytes")
            .order_by("domain__name")
        )
        out.metric(
            "mailadmin_domain_mailboxes",
            "gauge",
            "Mailboxes of a domain.",
            [({"domain": name}, n) for name, n, _size in rows],
        )
        out.metric(
            "mailadmin_domain_storage_bytes",
            "gauge",
            "Mail stored in a domain's mailboxes.",
            [({"domain": name}, size) for name, _n, size in rows],
        )
    traffic = TrafficCount.objects.values("domain", "kind").annotate(n=Sum("count")).order_by("domain", "kind")
    if not per_domain:
        traffic = traffic.filter(domain="*")
    out.metric(
        "mailadmin_messages_total",
        "counter",
        'Messages counted in Exim\'s logs, by domain ("*": the whole host) and kind.',
        [({"domain": r["domain"], "kind": r["kind"]}, r["n"]) for r in traffic],
    )
    out.metric(
        "mailadmin_traffic_collected_timestamp_seconds",
        "gauge",
        "When traffic collect last read a mail host's log.",
        [
            ({"host": c.host, "log": c.path}, int(c.updated.timestamp()))
            for c in LogCursor.objects.exclude(host="").order_by("host", "path")
        ],
    )
    return "\n".join(out.lines) + "\n"
