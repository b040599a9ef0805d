"""GET /api/v1/metrics: Prometheus' text format of what the directory and Exim's logs counted."""

import re

import pytest
from django.utils import timezone

from accounts.models import Mailbox
from mailserver.models import LogCursor, TrafficCount
from tests import factories

pytestmark = pytest.mark.django_db


def samples(text: str) -> dict[str, float]:
    """name{labels} -> value, every line but the comments; fails on a line Prometheus would refuse."""
    found = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        match = re.fullmatch(r'([a-z_]+)(\{(?:[a-z_]+="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?\d+(?:\.\d+)?)', line)
        assert match, f"not a sample line: {line!r}"
        found[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return found


def test_a_superusers_token_reads_the_counts_and_the_traffic(personas, token_for):
    factories.alias("info@example.org", ["user"])
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    TrafficCount.objects.create(domain="example.org", hour=hour, kind="received", count=7)
    TrafficCount.objects.create(
        domain="example.org", hour=hour.replace(hour=(hour.hour + 23) % 24), kind="received", count=3
    )
    TrafficCount.objects.create(domain="*", hour=hour, kind="rejected_spam", count=2)
    LogCursor.objects.create(host="mx1", path='/var/log/exim4/"odd"\\mainlog', inode=1, offset=10)
    factories.domain("empty.example")  # (no mailboxes: no per-domain sample)
    Mailbox.objects.filter(domain=personas.org).update(usage_bytes=1000)  # (plain SQL: the totals follow)
    response = token_for(personas.superuser).get("/api/v1/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=0.0.4")
    got = samples(response.content.decode())
    assert got['mailadmin_domains{state="active"}'] == 3
    assert got['mailadmin_mailboxes{state="active"}'] == 4  # root, both admins, user
    assert got["mailadmin_aliases"] == 1
    assert got['mailadmin_domain_mailboxes{domain="example.org"}'] == 3
    assert got['mailadmin_domain_storage_bytes{domain="example.org"}'] == 3000
    assert not [name for name in got if 'domain="empty.example"' in name]
    assert got['mailadmin_messages_total{domain="example.org",kind="received"}'] == 10
    assert got['mailadmin_messages_total{domain="*",kind="rejected_spam"}'] == 2
    assert 'mailadmin_traffic_collected_timestamp_seconds{host="mx1",log="/var/log/exim4/\\"odd\\"\\\\mainlog"}' in got

    got = samples(token_for(personas.superuser).get("/api/v1/metrics?per_domain=false").content.decode())
    assert not [name for name in got if 'domain="example.org"' in name]
    assert got['mailadmin_messages_total{domain="*",kind="rejected_spam"}'] == 2


def test_no_one_else_reads_them(personas, token_for):
    assert token_for(personas.admin_org).get("/api/v1/metrics").status_code == 403
    assert token_for(personas.superuser, domains=[personas.net]).get("/api/v1/metrics").status_code == 403
