"""Relay (backup MX) domains (issue 15.5): what a relay host may be, that a relayed domain holds no
mailboxes, aliases or domain aliases here (every path that adds them), its relay list and who may
change it, the panel, the CLI and the rows Exim reads. (Exim's answers, and the relay host
receiving the mail: tests/mailstack/test_relay_domains.py.)"""

import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import archives
from accounts import services as accounts
from accounts.bulk import mailbox_bulk_load
from accounts.models import MailboxArchive
from aliases import services as aliases
from domains import services
from domains.models import RelayRecipient
from mailadmin.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db


def relay(domain, host="mx1.example.com", **kw):
    return services.domain_update(acting_user=None, domain=domain, relay_host=host, origin="test", **kw)


def row(name: str):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relay_host, relay_port, relay_verify FROM lookup_domains_v2 WHERE domain = %s", [name])
        return cursor.fetchone()


def listed() -> set:
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM lookup_relay_recipients_v2")
        return {a for (a,) in cursor.fetchall()}


@pytest.mark.parametrize(
    "host, stored",
    [
        (" MX1.Example.COM. ", "mx1.example.com"),
        ("192.0.2.10", "192.0.2.10"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_relay_hosts_are_stored_canonical_and_reach_exim(host, stored):
    domain = factories.domain("backup.example")
    relay(domain, host, relay_port=2525, relay_verify="callout")
    assert row("backup.example") == (stored, 2525, "callout")
    relay(domain, "")
    assert row("backup.example") == ("", 2525, "callout")


@pytest.mark.parametrize(
    "host, port, says",
    [
        ("2001:db8::1", 25, "IPv4 address or a host name"),
        ("[192.0.2.1]", 25, "IPv4 address or a host name"),
        ("mx1.example.com:2525", 25, "IPv4 address or a host name"),
        ("mx1 example.com", 25, "spaces"),
        ("mx1.example.com\r\nRCPT", 25, "spaces"),
        ("mx1.example.com", 0, "A port from 1 to 65535"),
        ("mx1.example.com", 70000, "A port from 1 to 65535"),
    ],
)
def test_bad_relay_hosts_are_refused_saying_why(host, port, says):
    domain = factories.domain("backup.example")
    with pytest.raises(ValidationError) as caught:
        relay(domain, host, relay_port=port)
    assert says in str(caught.value)
    assert row("backup.example")[0] == ""


def test_a_relayed_domain_holds_nothing_here_by_any_path():
    domain = factories.domain("backup.example")
    factories.mailbox("ann@backup.example")
    with pytest.raises(ValidationError, match="still has 1 mailbox"):
        relay(domain)
    accounts.mailbox_delete(acting_user=None, mailbox=accounts.get_mailbox("ann@backup.example"), origin="t")
    relay(domain)
    refused = "relayed to another host"
    with pytest.raises(ValidationError, match=refused):
        factories.mailbox("bob@backup.example")
    with pytest.raises(ValidationError, match=refused):
        aliases.alias_create(
            acting_user=None, domain=domain, local_part="info", destinations="x@example.net", origin="t"
        )
    with pytest.raises(ValidationError, match=refused):
        mailbox_bulk_load(acting_user=None, rows=[{"domain": "backup.example", "local_part": "c"}], origin="t")
    with pytest.raises(ValidationError, match=refused):
        services.domain_alias_create(acting_user=None, target=domain, name="other.example", origin="t")
    with pytest.raises(ValidationError, match=refused):  # a deleted mailbox restored into it
        archives.mailbox_restore(
            acting_user=None, archive=MailboxArchive.objects.get(address="ann@backup.example"), origin="t"
        )
    assert not domain.mailboxes.exists() and not domain.aliases.exists() and not domain.domain_aliases.exists()


def test_the_relay_list_as_typed_and_as_exim_reads_it():
    domain = relay(factories.domain("backup.example"))
    added = services.relay_recipients_add(
        acting_user=None, domain=domain, addresses=["Ann", "BOB@Backup.Example", " ann ", "@"], origin="test"
    )
    assert sorted(r.address for r in added) == ["@backup.example", "ann@backup.example", "bob@backup.example"]
    assert listed() == {"@backup.example", "ann@backup.example", "bob@backup.example"}
    assert services.relay_recipients_add(acting_user=None, domain=domain, addresses=["ann"], origin="t") == []
    for bad, says in (
        ("x@other.example", "is not an address of backup.example"),
        ("@other.example", "is not backup.example"),
        ("a b", "not a valid local part"),
        ("x\r\ny@backup.example", "not a valid local part"),
        ("x%@backup.example';--", "backup.example"),
    ):
        with pytest.raises(ValidationError, match=says):
            services.relay_recipients_add(acting_user=None, domain=domain, addresses=[bad], origin="t")
    hosted = factories.domain("hosted.example")
    with pytest.raises(ValidationError, match="hosted here"):
        services.relay_recipients_add(acting_user=None, domain=hosted, addresses=["ann"], origin="t")
    services.relay_recipient_delete(
        acting_user=None, recipient=RelayRecipient.objects.get(address="bob@backup.example"), origin="t"
    )
    assert listed() == {"@backup.example", "ann@backup.example"}
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="relay_recipient").order_by("pk")] == [
        "relay_recipient.add",
        "relay_recipient.delete",
    ]


def test_its_administrators_manage_the_list_and_only_superusers_make_a_domain_relayed(personas):
    with pytest.raises(PermissionDenied):
        services.domain_update(
            acting_user=personas.admin_org, domain=personas.org, relay_host="mx.example.com", origin="t"
        )
    backup = relay(factories.domain("backup.example"))
    services.grant_set(acting_user=None, admin=personas.admin_org, domains=[personas.org, backup], origin="t")
    services.relay_recipients_add(acting_user=personas.admin_org, domain=backup, addresses=["ann"], origin="t")
    for who in (personas.admin_net, personas.user):
        with pytest.raises(PermissionDenied):
            services.relay_recipients_add(acting_user=who, domain=backup, addresses=["bob"], origin="t")
        with pytest.raises(PermissionDenied):
            services.relay_recipient_delete(acting_user=who, recipient=RelayRecipient.objects.get(), origin="t")
    assert listed() == {"ann@backup.example"}


def test_the_panel_sets_a_relay_domain_and_its_list(personas):
    client = Client()
    client.force_login(personas.superuser)
    domain = factories.domain("backup.example")
    data = {"active": "on", "relay_host": "mx1.example.com", "relay_port": "2525", "relay_verify": "list"}
    data |= {"max_mailboxes": 0, "max_aliases": 0, "max_quota_bytes": 0, "default_quota_bytes": 0}
    assert client.post(reverse("domains:settings", args=[domain.pk]), data).status_code == 302
    page = client.get(reverse("domains:detail", args=[domain.pk])).content.decode()
    assert "mx1.example.com:2525" in page and reverse("domains:relay_recipients", args=[domain.pk]) in page
    assert reverse("accounts:create", args=[domain.pk]) not in page  # (no mailboxes here: no button for one)
    url = reverse("domains:relay_recipients", args=[domain.pk])
    assert client.post(url, {"addresses": "ann, bob\ncarl@backup.example"}).status_code == 302
    response = client.post(url, {"addresses": "x@other.example"})
    assert response.status_code == 200 and b"is not an address of backup.example" in response.content
    page = client.get(url).content.decode()
    assert all(f"{a}@backup.example" in page for a in ("ann", "bob", "carl"))
    carl = RelayRecipient.objects.get(address="carl@backup.example")
    assert client.post(reverse("domains:relay_recipient_delete", args=[carl.pk])).status_code == 302
    assert listed() == {"ann@backup.example", "bob@backup.example"}
    # a hosted domain has no relay list
    assert client.get(reverse("domains:relay_recipients", args=[personas.org.pk])).status_code == 404


def test_the_cli_makes_a_relay_domain_and_keeps_its_list():
    factories.domain("backup.example")
    out = io.StringIO()
    call_command("domain", "set", "backup.example", "--relay-host", "192.0.2.10", "--relay-verify", "list", stdout=out)
    call_command("relay", "add", "backup.example", "ann", "bob@backup.example", stdout=out)
    out = io.StringIO()
    call_command("relay", "list", "backup.example", "--json", stdout=out)
    assert [r["address"] for r in json.loads(out.getvalue())] == ["ann@backup.example", "bob@backup.example"]
    with pytest.raises(CommandError, match="Not on the relay list of backup.example: zed@backup.example"):
        call_command("relay", "remove", "backup.example", "ann", "zed", stdout=io.StringIO())
    call_command("relay", "remove", "backup.example", "ann", stdout=io.StringIO())
    assert listed() == {"bob@backup.example"}
    with pytest.raises(CommandError, match="relayed to another host"):
        call_command("mailbox", "add", "x@backup.example", stdout=io.StringIO())
    assert row("backup.example") == ("192.0.2.10", 25, "list")


def test_trace_says_where_a_relay_domains_mail_goes():
    from mailserver.trace import trace

    domain = relay(factories.domain("backup.example"), relay_port=2525)
    services.relay_recipients_add(acting_user=None, domain=domain, addresses=["ann"], origin="t")
    ann = trace("ann@backup.example")
    assert ann.rcpt == "250 accepted" and "backup.example is relayed to mx1.example.com:2525" in ann.steps[0]
    assert ann.external == ["ann@backup.example"]
    assert trace("zed@backup.example").rcpt == "550 no such user (not on the relay list)"
    relay(domain, relay_verify="callout")
    assert "callout" in trace("zed@backup.example").rcpt
