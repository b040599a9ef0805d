"""What a mailbox may log in to (IMAP, POP3, SMTP submission, ManageSieve): set in the panel, the
CLI and the API, defaulted from the domain, kept across delete and restore, and in Dovecot's lookup
table in step (the logins themselves: tests/mailstack/test_protocols.py)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts import archives
from accounts import services as accounts
from accounts.models import Mailbox
from mailserver import lookup

pytestmark = pytest.mark.django_db


def login_row(address):
    with connection.cursor() as cursor:
        cursor.execute("SELECT imap, pop3, smtp, sieve FROM lookup_logins_v2 WHERE address = %s", [address])
        return cursor.fetchone()


def test_the_command_line_sets_them_and_the_domains_defaults(personas):
    out = io.StringIO()
    call_command("domain", "set", "example.org", "--no-default-allow-pop3", "--no-default-allow-sieve", stdout=out)
    call_command("mailbox", "add", "new@example.org", stdout=out)
    assert login_row("new@example.org") == (1, 0, 1, 0)
    call_command("mailbox", "set", "new@example.org", "--allow-pop3", "--no-allow-smtp", stdout=out)
    assert login_row("new@example.org") == (1, 1, 0, 0)
    call_command("mailbox", "show", "new@example.org", stdout=(shown := io.StringIO()))
    assert "protocols=imap,pop3" in shown.getvalue()
    assert login_row("user@example.org") == (1, 1, 1, 1)  # a default changes new mailboxes only
    assert lookup.out_of_step(connection) == {}


def test_an_administrator_sets_them_on_the_mailbox_page(client, personas):
    client.force_login(personas.admin_org)
    url = reverse("accounts:detail", args=[personas.user.pk])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and v is not False and not k.startswith("allow_")}
    data |= {"allow_imap": "on", "allow_smtp": "on"}  # POP3 and ManageSieve unticked
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    user = Mailbox.objects.get(pk=personas.user.pk)
    assert (user.allow_imap, user.allow_pop3, user.allow_smtp, user.allow_sieve) == (True, False, True, False)
    assert login_row("user@example.org") == (1, 0, 1, 0)


def test_the_api_reads_and_changes_them(personas):
    from django.test import Client

    from api import tokens

    _, shown = tokens.create(
        acting_user=personas.admin_org, owner=personas.admin_org, name="t", read_only=False, origin="t"
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {shown}")
    url = "/api/v1/mailboxes/user@example.org"
    assert client.get(url).json()["allow_pop3"] is True
    response = client.patch(url, data='{"allow_pop3": false}', content_type="application/json")
    assert response.status_code == 200 and response.json()["allow_pop3"] is False
    assert login_row("user@example.org") == (1, 0, 1, 1)


def test_a_restored_mailbox_keeps_them(personas):
    accounts.mailbox_update(acting_user=None, mailbox=personas.user, origin="t", allow_imap=False)
    accounts.mailbox_delete(acting_user=None, mailbox=accounts.get_mailbox("user@example.org"), origin="t")
    archives.mailbox_restore(acting_user=None, archive=archives.get_archive("user@example.org"), origin="t")
    assert Mailbox.objects.get(address="user@example.org").allow_imap is False
    assert login_row("user@example.org") == (0, 1, 1, 1)


def test_trace_says_what_mail_programs_may_do(personas):
    from mailserver.trace import trace

    accounts.mailbox_update(acting_user=None, mailbox=personas.user, origin="t", allow_pop3=False)
    steps = trace("user@example.org").steps
    assert steps[-1] == (
        "user@example.org: mail programs may log in over IMAP, SMTP submission, ManageSieve (not POP3)"
    )
    assert not any("log in" in step for step in trace("nobody@example.org").steps)
