"""Vacation pages: one's own, and an admin's on a user's behalf."""

import datetime

import pytest
from django.urls import reverse

from vacation.models import Vacation

pytestmark = pytest.mark.django_db
CUSTOM = {
    "mode": "custom",
    "subject": "Away — back Monday",
    "body": "Grüße\r\nAnna",
    "interval_days": 3,
    "first_day": "2026-12-20",
    "last_day": "2027-01-03",
}


def test_end_user_sets_custom_then_off_keeps_text_then_default_clears(client, personas):
    client.force_login(personas.user)
    url = reverse("vacation:own")
    assert client.get(url).status_code == 200
    assert client.post(url, CUSTOM)["Location"] == reverse("accounts:me")
    vacation = Vacation.objects.get(mailbox=personas.user)
    assert (vacation.mode, vacation.subject, vacation.body) == ("custom", "Away — back Monday", "Grüße\nAnna")
    assert (vacation.first_day, vacation.interval_days) == (datetime.date(2026, 12, 20), 3)
    client.post(url, {"mode": "off", "interval_days": 3})
    vacation.refresh_from_db()
    assert vacation.mode == "off" and vacation.subject == "Away — back Monday"
    assert client.get(url).context["form"].initial["subject"] == "Away — back Monday"
    client.post(url, {"mode": "default", "interval_days": 3})
    vacation.refresh_from_db()
    assert (vacation.mode, vacation.subject, vacation.body) == ("default", "", "")


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "Away\r\nBcc: victim@example.com"},
        {"subject": "Away\nX-Injected: 1"},
        {"subject": "tab\x0bbed"},
        {"last_day": "2026-12-01"},
        {"interval_days": 0},
        {"interval_days": 100000},
        {"mode": "sometimes"},
        {"subject": "", "body": ""},
        {"first_day": "not a date"},
    ],
)
def test_bad_vacation_input_is_refused_and_nothing_stored(client, personas, change):
    client.force_login(personas.user)
    response = client.post(reverse("vacation:own"), {**CUSTOM, **change})
    assert response.status_code == 200 and response.context["form"].errors
    assert not Vacation.objects.exists()


def test_admin_sets_vacation_for_a_user_not_for_outranking(client, personas):
    client.force_login(personas.admin_org)
    url = reverse("vacation:mailbox", args=[personas.user.pk])
    assert client.post(url, CUSTOM)["Location"] == reverse("accounts:detail", args=[personas.user.pk])
    assert Vacation.objects.get(mailbox=personas.user).mode == "custom"
    assert client.post(reverse("vacation:mailbox", args=[personas.superuser.pk]), CUSTOM).status_code == 403
    client.force_login(personas.admin_net)
    assert client.post(url, {"mode": "off", "interval_days": 7}).status_code == 404
    assert Vacation.objects.get(mailbox=personas.user).mode == "custom"


def test_user_cannot_set_anothers_vacation(client, personas):
    client.force_login(personas.user)
    assert client.post(reverse("vacation:mailbox", args=[personas.admin_org.pk]), CUSTOM).status_code == 404
    assert client.put(reverse("vacation:own")).status_code == 405


def test_the_default_text_is_shown_and_kept_in_the_language_of_the_page(client, personas):
    """A German page shows the default reply in German and the vacation keeps "de", which the mail
    server's reply follows (tests/mailstack/test_full.py); an English page sets it back to "en"."""
    client.force_login(personas.user)
    url = reverse("vacation:own")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Abwesend" in page and "Ich bin nicht da und lese Ihre Nachricht" in page
    client.post(url, {"mode": "default", "interval_days": 3}, HTTP_ACCEPT_LANGUAGE="de")
    assert Vacation.objects.get(mailbox=personas.user).language == "de"
    assert "Out of office" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post(url, {"mode": "default", "interval_days": 3}, HTTP_ACCEPT_LANGUAGE="en")
    assert Vacation.objects.get(mailbox=personas.user).language == "en"
