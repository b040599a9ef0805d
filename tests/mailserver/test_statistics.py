"""Usage history and the statistics pages: what was measured is what the charts and tables show."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import usage
from accounts.models import DomainUsageDay, DomainUsageHour, MailboxUsageDay, MailboxUsageHour
from mailadmin.lib.sizes import MB
from mailserver.models import TrafficCount, TrafficParty
from tests.maildirs import make_maildir

pytestmark = pytest.mark.django_db


def at(days_ago: int) -> datetime:
    return timezone.now() - timedelta(days=days_ago)


def test_the_usage_job_keeps_a_day_per_domain_and_the_days_a_mailbox_changed(store, personas, settings):
    make_maildir(store / "example.org/user", [b"x" * 1000])
    usage.mailbox_usage_refresh(store=store, now=at(2))
    make_maildir(store / "example.org/user", [b"y" * 3000])  # other mail, the same day
    usage.mailbox_usage_refresh(store=store, now=at(2))
    usage.mailbox_usage_refresh(store=store, now=at(1))  # nothing changed the next day
    day2, day1 = timezone.localdate(at(2)), timezone.localdate(at(1))
    org = DomainUsageDay.objects.filter(domain=personas.org).order_by("day")
    assert [(r.day, r.usage_bytes, r.message_count, r.mailboxes) for r in org] == [
        (day2, 3000, 1, 3),
        (day1, 3000, 1, 3),
    ]
    assert list(MailboxUsageDay.objects.values_list("mailbox__address", "day", "usage_bytes", "message_count")) == [
        ("user@example.org", day2, 3000, 1)
    ]
    # by hour as well: the hours of the last days
    hour = lambda when: when.replace(minute=0, second=0, microsecond=0)  # noqa: E731
    assert list(DomainUsageHour.objects.filter(domain=personas.org).values_list("hour", "usage_bytes")) == [
        (hour(at(2)), 3000),
        (hour(at(1)), 3000),
    ]
    assert MailboxUsageHour.objects.count() == 1
    settings.MAIL_USAGE_HISTORY_DAYS = 1
    settings.MAIL_USAGE_HOURLY_DAYS = 1
    now = at(0)
    usage.mailbox_usage_refresh(store=store, now=now)
    assert sorted(DomainUsageDay.objects.filter(domain=personas.org).values_list("day", flat=True)) == [
        day1,
        timezone.localdate(),
    ]
    assert not MailboxUsageDay.objects.exists() and not MailboxUsageHour.objects.exists()
    assert list(DomainUsageHour.objects.filter(domain=personas.org).values_list("hour", flat=True)) == [
        hour(at(1)),
        hour(now),
    ]


def page(user, name, *args) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = client.get(reverse(name, args=args))
    return response.status_code, response.content.decode()


def test_a_domains_page_draws_its_storage_traffic_and_top_senders(personas):
    today = timezone.localdate()
    DomainUsageDay.objects.create(
        domain=personas.org, day=today - timedelta(days=3), usage_bytes=2 * MB, message_count=9, mailboxes=3
    )
    DomainUsageDay.objects.create(domain=personas.org, day=today, usage_bytes=5 * MB, message_count=20, mailboxes=3)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    DomainUsageHour.objects.create(domain=personas.org, hour=hour - timedelta(hours=5), usage_bytes=4 * MB)
    DomainUsageHour.objects.create(domain=personas.org, hour=hour, usage_bytes=5 * MB)
    for kind, count in (("received", 41), ("delivered", 40), ("rejected_unknown", 7), ("rejected_greylist", 5)):
        TrafficCount.objects.create(domain="example.org", hour=hour, kind=kind, count=count)
    TrafficCount.objects.create(domain="example.net", hour=hour, kind="received", count=999)  # not this domain
    hostile = '"<script>alert(1)</script>"@evil.test'
    TrafficParty.objects.create(domain="example.org", day=today, role="sender", address=hostile, count=12)
    TrafficParty.objects.create(domain="example.org", day=today, role="recipient", address="user@example.org", count=30)

    status, html = page(personas.admin_org, "mailserver:domain_statistics", personas.org.pk)
    assert status == 200
    assert html.count("<svg viewBox") == 3 and "<polyline" in html
    # the figures, as the table says them: storage carried from day to day, today's traffic
    assert f'<th scope="row">{(today - timedelta(days=1)).isoformat()}</th><td class="num">2.0 MB</td>' in html
    assert f'<th scope="row">{today.isoformat()}</th><td class="num">5.0 MB</td>' in html
    row = f'<th scope="row">{today.isoformat()}</th><td class="num">41</td><td class="num">40</td>'
    assert row + '<td class="num">0</td><td class="num">0</td><td class="num">12</td>' in html
    assert "999" not in html
    hours = [timezone.localtime(hour - timedelta(hours=n)).strftime("%Y-%m-%d %H:00") for n in (6, 5, 4)]
    assert f'{hours[0]}</th><td class="num">–</td>' in html  # before the first hour measured
    assert (
        f'{hours[1]}</th><td class="num">4.0 MB</td>' in html and f'{hours[2]}</th><td class="num">4.0 MB</td>' in html
    )
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<td class="num">12</td>' in html and 'user@example.org</td><td class="num">30</td>' in html
    # another domain's admin does not see it
    assert page(personas.admin_net, "mailserver:domain_statistics", personas.org.pk)[0] == 404


def test_a_user_sees_their_own_mailbox_only_and_nothing_measured_says_so(personas):
    status, html = page(personas.user, "mailserver:mailbox_statistics", personas.user.pk)
    assert status == 200 and "No figures yet" in html
    TrafficParty.objects.create(
        domain="example.org", day=timezone.localdate(), role="recipient", address="user@example.org", count=4
    )
    MailboxUsageDay.objects.create(mailbox=personas.user, day=timezone.localdate(), usage_bytes=3 * MB, message_count=4)
    status, html = page(personas.user, "mailserver:mailbox_statistics", personas.user.pk)
    assert status == 200 and "3.0 MB" in html and "<polyline" in html
    assert f'{timezone.localdate().isoformat()}</th><td class="num">4</td>' in html
    assert page(personas.user, "mailserver:mailbox_statistics", personas.admin_org.pk)[0] == 404
    assert page(personas.user, "mailserver:statistics")[0] == 403


def test_the_whole_host_for_superusers(personas):
    TrafficCount.objects.create(domain="*", hour=timezone.now(), kind="rejected_spam", count=3)
    status, html = page(personas.superuser, "mailserver:statistics")
    assert status == 200 and "Statistics of the whole mail host" in html
    assert f'{timezone.localdate().isoformat()}</th><td class="num">0</td>' in html and '<td class="num">3</td>' in html


def test_a_mailboxs_history_older_than_three_months_keeps_the_last_row_of_each_month(store, personas):
    today = timezone.localdate()
    month = (today - timedelta(days=130)).replace(day=1)
    days = [month, month + timedelta(days=4), month + timedelta(days=20), today - timedelta(days=10), today]
    for n, day in enumerate(days):
        MailboxUsageDay.objects.create(mailbox=personas.user, day=day, usage_bytes=n * MB)
    MailboxUsageDay.objects.create(mailbox=personas.admin_org, day=month + timedelta(days=1), usage_bytes=MB)
    make_maildir(store / "example.org/user", [b"x" * 10])
    usage.mailbox_usage_refresh(store=store)
    kept = MailboxUsageDay.objects.filter(mailbox=personas.user).order_by("day")
    assert [(r.day, r.usage_bytes) for r in kept] == [
        (month + timedelta(days=20), 2 * MB),  # the month's last
        (today - timedelta(days=10), 3 * MB),
        (today, 10),  # today's, rewritten by this run
    ]
    assert MailboxUsageDay.objects.filter(mailbox=personas.admin_org).count() == 1  # alone in its month
