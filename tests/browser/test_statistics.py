"""A domain administrator opens the domain's statistics from its page: the charts are drawn (SVG
from the server, no script), their figures open as a table, and the page is saved as an artefact."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import DomainUsageDay, DomainUsageHour
from mailadmin.lib.sizes import MB
from mailserver.models import TrafficCount
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_domain_admin_opens_the_domains_charts(page, personas, shot):
    today = timezone.localdate()
    for n in range(30):
        DomainUsageDay.objects.create(
            domain=personas.org, day=today - timedelta(days=29 - n), usage_bytes=(40 + n * 3) * MB, mailboxes=3
        )
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    for n in range(48):
        DomainUsageHour.objects.create(
            domain=personas.org, hour=hour - timedelta(hours=n), usage_bytes=(127 - n // 4) * MB, mailboxes=3
        )
    for n in range(14):
        for kind, count in (("received", 50 + 5 * n), ("delivered", 45 + 5 * n), ("rejected_unknown", 20 - n)):
            TrafficCount.objects.create(domain="example.org", hour=hour - timedelta(days=n), kind=kind, count=count)
    log_in(page, personas.admin_org.address, personas.password)
    page.goto(f"/domains/{personas.org.pk}/")
    page.get_by_role("link", name="Statistics").click()
    expect(page.get_by_role("heading", name="Statistics of example.org")).to_be_visible()
    charts = page.get_by_role("img")
    expect(charts).to_have_count(3)
    for n in range(3):
        box = charts.nth(n).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 80
    first_day = (today - timedelta(days=89)).isoformat()
    description = f"Storage (Storage) from {first_day} to {today.isoformat()}; the figures are in the table below."
    expect(charts.first).to_have_attribute("aria-label", description)
    page.get_by_text("Messages a day as a table").click()
    expect(page.get_by_role("row", name=f"{today.isoformat()} 50 45 0 0 20")).to_be_visible()
    shot(page, "domain-statistics")
