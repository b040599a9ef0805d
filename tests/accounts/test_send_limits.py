"""What an authenticated mailbox may send an hour (issue 15.7): its own limits or its domain's
defaults, set in the panel, the CLI and the API, never lifted past the domain's by a domain
administrator, kept across delete and restore, and in Exim's lookup row in step. (Exim's answers:
tests/mailstack/test_outbound_limits.py.)"""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from accounts import archives
from accounts import services as accounts
from accounts.models import Mailbox
from domains import services as domains
from mailserver.trace import trace

pytestmark = pytest.mark.django_db


def limits_row(address):
    with connection.cursor() as cursor:
        cursor.execute("SELECT send_limit, rcpt_limit FROM lookup_addresses_v2 WHERE address = %s", [address])
        return tuple(cursor.fetchone())


def test_a_mailbox_takes_its_domains_default_until_it_has_its_own(personas):
    assert limits_row("user@example.org") == (0, 0)
    domains.domain_update(
        acting_user=None,
        domain=personas.org,
        origin="t",
        default_max_sent_per_hour=100,
        default_max_recipients_per_hour=300,
    )
    assert limits_row("user@example.org") == (100, 300)  # every mailbox of the domain, by the trigger
    assert limits_row("admin@example.net") == (0, 0)
    accounts.mailbox_update(acting_user=None, mailbox=personas.user, origin="t", max_sent_per_hour=10)
    assert limits_row("user@example.org") == (10, 300)
    accounts.mailbox_update(acting_user=None, mailbox=personas.user, origin="t", max_sent_per_hour=None)
    assert limits_row("user@example.org") == (100, 300)
    accounts.mailbox_update(acting_user=None, mailbox=personas.user, origin="t", active=False)
    assert limits_row("user@example.org") == (0, 0)  # an inactive mailbox sends nothing anyway


def test_a_domain_admin_lowers_but_never_lifts_past_the_domains_limit(personas):
    domains.domain_update(acting_user=None, domain=personas.org, origin="t", default_max_sent_per_hour=100)
    for value in (0, 101):
        with pytest.raises(ValidationError, match="At most the domain's limit, 100 an hour"):
            accounts.mailbox_update(
                acting_user=personas.admin_org, mailbox=personas.user, origin="t", max_sent_per_hour=value
            )
    accounts.mailbox_update(acting_user=personas.admin_org, mailbox=personas.user, origin="t", max_sent_per_hour=20)
    accounts.mailbox_update(acting_user=personas.admin_org, mailbox=personas.user, origin="t", max_sent_per_hour=None)
    accounts.mailbox_update(acting_user=personas.superuser, mailbox=personas.user, origin="t", max_sent_per_hour=0)
    with pytest.raises(ValidationError, match="At most the domain's limit"):
        accounts.mailbox_create(
            acting_user=personas.admin_org,
            domain=personas.org,
            local_part="bulk",
            password="a long enough passphrase 1",
            origin="t",
            max_sent_per_hour=500,
            welcome=False,
        )
    # without a default of the domain there is nothing to keep to
    domains.domain_update(acting_user=None, domain=personas.org, origin="t", default_max_sent_per_hour=0)
    accounts.mailbox_update(acting_user=personas.admin_org, mailbox=personas.user, origin="t", max_sent_per_hour=0)


def test_panel_form_sets_and_clears_it(client, personas):
    client.force_login(personas.superuser)
    url = reverse("accounts:detail", args=[personas.user.pk])
    page = client.get(url).content.decode()
    assert "Messages it may send an hour" in page
    data = {"quota_bytes": "0", "active": "on", "max_sent_per_hour": "25", "max_recipients_per_hour": ""}
    assert client.post(url, data).status_code == 302
    assert limits_row("user@example.org") == (25, 0)
    response = client.post(url, data | {"max_sent_per_hour": "-1"})
    assert response.status_code == 200
    assert client.post(url, data | {"max_sent_per_hour": ""}).status_code == 302
    assert Mailbox.objects.get(address="user@example.org").max_sent_per_hour is None


def test_command_line_sets_numbers_and_the_domains_default(personas):
    out = io.StringIO()
    call_command("domain", "set", "example.org", "--default-max-recipients-per-hour", "200", stdout=out)
    out = io.StringIO()
    call_command("mailbox", "set", "user@example.org", "--max-sent-per-hour", "40", "--json", stdout=out)
    assert json.loads(out.getvalue())["max_sent_per_hour"] == 40
    assert limits_row("user@example.org") == (40, 200)
    call_command("mailbox", "set", "user@example.org", "--max-sent-per-hour", "domain", stdout=io.StringIO())
    assert limits_row("user@example.org") == (0, 200)
    for bad in ("-5", "lots", "٣"):
        with pytest.raises(CommandError):
            call_command("mailbox", "set", "user@example.org", "--max-sent-per-hour", bad, stdout=io.StringIO())


def test_kept_across_delete_and_restore_and_told_by_trace(personas):
    accounts.mailbox_update(
        acting_user=None, mailbox=personas.user, origin="t", max_sent_per_hour=7, max_recipients_per_hour=0
    )
    assert "user@example.org may send 7 messages and any number of recipients an hour" in " ".join(
        trace("user@example.org").steps
    )
    accounts.mailbox_delete(acting_user=None, mailbox=accounts.get_mailbox("user@example.org"), origin="t")
    archives.mailbox_restore(acting_user=None, archive=archives.get_archive("user@example.org"), origin="t")
    restored = Mailbox.objects.get(address="user@example.org")
    assert (restored.max_sent_per_hour, restored.max_recipients_per_hour) == (7, 0)
    assert limits_row("user@example.org") == (7, 0)
