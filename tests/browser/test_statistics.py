"""A domain administrator opens the domain's statistics from its page: the charts are drawn (SVG
from the server, no script), their figures open as a table, and the page is saved as an artefact."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import DomainUsageDay, DomainUsageHour
from mailadmin.lib.sizes import MB
from mailserver.models import TrafficCount
from tests.browser.conftest import choose_language, log_in, words_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_domain_admin_opens_the_domains_charts(page, live_server, personas, shot, language):
    t = words_in(language)
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
    choose_language(page, live_server, language)
    log_in(page, personas.admin_org.address, personas.password, t)
    page.goto(f"/domains/{personas.org.pk}/")
    page.get_by_role("link", name=t("Statistics"), exact=True).click()
    expect(page.get_by_role("heading", name=t("Statistics of %(subject)s", subject="example.org"))).to_be_visible()
    charts = page.get_by_role("img")
    expect(charts).to_have_count(3)
    for n in range(3):
        box = charts.nth(n).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 80
    first_day = (today - timedelta(days=89)).isoformat()
    description = t(
        "%(title)s (%(names)s) from %(first)s to %(last)s; the figures are in the table below.",
        title=t("Storage"),
        names=t("Storage"),
        first=first_day,
        last=today.isoformat(),
    )
    expect(charts.first).to_have_attribute("aria-label", description)
    page.get_by_text(t("%(title)s as a table", title=t("Messages a day"))).click()
    expect(page.get_by_role("row", name=f"{today.isoformat()} 50 45 0 0 20")).to_be_visible()
    shot(page, "domain-statistics" if language == "en" else f"{language}-domain-statistics")
