"""DNS blocklists (issue 15.2): what a list may say, who may change the lists and a domain's choice,
the panel and the CLI, and the rows Exim reads. (Exim's answers, through a real DNS server:
tests/mailstack/test_blocklists.py.)"""

import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from domains import services as domains
from mailadmin.models import AuditEntry
from policy import services
from policy.models import MAX_BLOCKLISTS, DnsBlocklist, parse_answers
from tests.dbutil import at_once

pytestmark = pytest.mark.django_db


def add(zone="zen.example.net", name="Example ZEN", answers="127.0.0.2", acting_user=None, **kw):
    return services.blocklist_add(acting_user=acting_user, zone=zone, name=name, answers=answers, origin="test", **kw)


def looked_up() -> dict:
    """What Exim reads: the enabled entries, and per zone its name and meanings."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT zone, enabled, entry, name, meanings FROM lookup_blocklists_v2")
        return {zone: (int(enabled), entry, name, meanings) for zone, enabled, entry, name, meanings in cursor}


def test_answers_are_stored_as_exim_reads_them():
    lines, codes, meanings = parse_answers(
        " 127.0.0.2  spam source\r\n\n127.0.0.4-127.0.0.6 = exploited host;127.0.0.10"
    )
    assert lines == "127.0.0.2 spam source\n127.0.0.4-127.0.0.6 exploited host\n127.0.0.10"
    assert codes == "127.0.0.2,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.10"
    assert meanings == (
        '127.0.0.2="spam source" 127.0.0.4="exploited host" 127.0.0.5="exploited host" 127.0.0.6="exploited host"'
    )


@pytest.mark.parametrize(
    "answers, says",
    [
        ("", "Give the answers that mean listed"),
        ("spam", "'spam' is not an IPv4 address"),
        ("10.0.0.2", "blocklists answer with addresses in 127.0.0.0/8"),
        ("127.255.255.254", "report errors"),  # Spamhaus through a public resolver: not a listing
        ("127.0.0.2-127.255.255.0", "report errors"),
        ("127.0.0.9-127.0.0.2", "from low to high"),
        ("127.0.0.0-127.0.1.0", "at most 64"),
        ("127.0.0.2\n127.0.0.2", "127.0.0.2 is given twice"),
        ('127.0.0.2 say "hi"', "printable ASCII"),
        ("127.0.0.2 a\x00b", "printable ASCII"),
        ("127.0.0.2 ${run{/bin/sh}}", "printable ASCII"),
        ("127.0.0.2 " + "x" * 81, "at most 80"),
    ],
)
def test_bad_answers_are_refused_saying_why(answers, says):
    with pytest.raises(ValidationError) as caught:
        add(answers=answers)
    assert says in str(caught.value)
    assert not DnsBlocklist.objects.exists()


@pytest.mark.parametrize(
    "zone, says",
    [
        ("", "A domain name is required"),
        ("localhost", "at least two labels"),
        ("zen.example.net:evil.example", "letters, digits"),  # a second list smuggled into Exim's list
        ("zen.example.net=127.0.0.1", "letters, digits"),
        ("zen.example.net/$sender_address", "letters, digits"),
        ("zen example.net", "spaces"),
    ],
)
def test_bad_zones_are_refused_saying_why(zone, says):
    with pytest.raises(ValidationError) as caught:
        add(zone=zone)
    assert says in str(caught.value)


def test_names_cannot_carry_quotes_or_controls():
    for name in ('say "x"', "a\r\n550 b", "$x", ""):
        with pytest.raises(ValidationError):
            add(name=name)
    assert add(name="  Spamhaus   ZEN ").name == "Spamhaus ZEN"


def test_the_view_gives_exim_each_enabled_entry_and_follows_every_change():
    zen = add("ZEN.Example.NET.", answers="127.0.0.2 spam source\n127.0.0.4")
    add("off.example.net", name="Off", enabled=False)
    assert looked_up() == {
        "zen.example.net": (1, "zen.example.net=127.0.0.2,127.0.0.4", "Example ZEN", '127.0.0.2="spam source"'),
        "off.example.net": (0, "off.example.net=127.0.0.2", "Off", ""),
    }
    services.blocklist_update(acting_user=None, blocklist=zen, answers="127.0.0.3", enabled=False, origin="test")
    assert looked_up()["zen.example.net"] == (0, "zen.example.net=127.0.0.3", "Example ZEN", "")
    services.blocklist_delete(acting_user=None, blocklist=zen, origin="test")
    assert set(looked_up()) == {"off.example.net"}
    assert [e.action for e in AuditEntry.objects.order_by("pk")] == [
        "blocklist.add",
        "blocklist.add",
        "blocklist.update",
        "blocklist.delete",
    ]


def test_a_domain_opts_out_in_the_row_exim_reads_and_its_aliases_follow(personas):
    domains.domain_alias_create(acting_user=None, target=personas.org, name="alias.example", origin="test")

    def checks():
        with connection.cursor() as cursor:
            cursor.execute("SELECT domain, check_blocklists FROM lookup_domains_v2 WHERE domain LIKE %s", ["%example%"])
            return {domain: int(flag) for domain, flag in cursor.fetchall()}

    assert checks() == {"example.org": 1, "example.net": 1, "alias.example": 1}
    domains.domain_update(acting_user=None, domain=personas.org, check_blocklists=False, origin="test")
    assert checks() == {"example.org": 0, "example.net": 1, "alias.example": 0}


def test_only_superusers_change_the_lists_or_a_domains_choice(personas):
    for who in (personas.admin_org, personas.user):
        with pytest.raises(PermissionDenied):
            add(acting_user=who)
        with pytest.raises(PermissionDenied):
            domains.domain_update(acting_user=who, domain=personas.org, check_blocklists=False, origin="test")
    zen = add(acting_user=personas.superuser)
    with pytest.raises(PermissionDenied):
        services.blocklist_delete(acting_user=personas.admin_org, blocklist=zen, origin="test")
    assert DnsBlocklist.objects.count() == 1


def test_at_most_twenty_lists():
    for i in range(MAX_BLOCKLISTS):
        add(zone=f"l{i}.example.net")
    with pytest.raises(ValidationError, match="At most 20 blocklists"):
        add(zone="one-more.example.net")


def test_the_panel_lists_adds_changes_and_removes_for_superusers_only(personas):
    client = Client()
    client.force_login(personas.admin_org)
    assert client.get(reverse("policy:blocklists")).status_code == 403
    assert b"Blocklists</a>" not in client.get(reverse("domains:list")).content
    client.force_login(personas.superuser)
    assert b"Blocklists</a>" in client.get(reverse("domains:list")).content
    url = reverse("policy:blocklists")
    response = client.post(url, {"zone": "zen.example.net", "name": "ZEN", "answers": "127.255.255.254"})
    assert response.status_code == 200 and b"report errors" in response.content
    response = client.post(
        url, {"zone": "zen.example.net", "name": "ZEN", "answers": "127.0.0.2 spam", "enabled": "on"}
    )
    assert response.status_code == 302
    zen = DnsBlocklist.objects.get()
    edit = reverse("policy:blocklist_edit", args=[zen.pk])
    assert b"127.0.0.2 spam" in client.get(edit).content
    assert client.post(edit, {"name": "ZEN 2", "answers": "127.0.0.3"}).status_code == 302
    zen.refresh_from_db()
    assert (zen.name, zen.codes, zen.enabled) == ("ZEN 2", "127.0.0.3", False)
    page = client.get(url).content.decode()
    assert "ZEN 2" in page and "127.0.0.3" in page
    client.force_login(personas.admin_org)
    assert client.post(reverse("policy:blocklist_delete", args=[zen.pk])).status_code == 403
    client.force_login(personas.superuser)
    assert client.post(reverse("policy:blocklist_delete", args=[zen.pk])).status_code == 302
    assert not DnsBlocklist.objects.exists()


def test_the_same_list_posted_twice_at_once_is_added_once(personas, transactional_db):
    clients = []
    for _ in range(2):
        client = Client()
        client.force_login(personas.superuser)
        clients.append(client)
    data = {"zone": "zen.example.net", "name": "ZEN", "answers": "127.0.0.2", "enabled": "on"}
    url = reverse("policy:blocklists")
    results = at_once([(lambda c=c: c.post(url, data).status_code) for c in clients])
    assert sorted(results) == [200, 302]  # the other is told it is already there
    assert DnsBlocklist.objects.count() == 1


def test_the_cli_adds_sets_lists_and_removes():
    out = io.StringIO()
    call_command(
        "blocklist", "add", "zen.example.net", "--name", "ZEN", "--answers", "127.0.0.2 spam; 127.0.0.4 xbl", stdout=out
    )
    call_command("blocklist", "set", "zen.example.net", "--no-enabled", stdout=out)
    out = io.StringIO()
    call_command("blocklist", "list", "--json", stdout=out)
    (row,) = json.loads(out.getvalue())
    assert (row["zone"], row["answers"], row["enabled"]) == (
        "zen.example.net",
        ["127.0.0.2 spam", "127.0.0.4 xbl"],
        False,
    )
    with pytest.raises(CommandError, match="report errors"):
        call_command("blocklist", "set", "zen.example.net", "--answers", "127.255.255.254", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not a blocklist"):
        call_command("blocklist", "remove", "other.example.net", stdout=io.StringIO())
    call_command("blocklist", "remove", "zen.example.net", stdout=io.StringIO())
    assert not DnsBlocklist.objects.exists()


def test_trace_names_the_lists_a_domain_checks(personas):
    from mailserver.trace import trace

    assert "example.org checks the DNS blocklists, but none is enabled" in trace("user@example.org").steps
    add("zen.example.net")
    add("b.example.net", name="B")
    add("off.example.net", name="Off", enabled=False)
    steps = trace("user@example.org").steps
    assert "a client not logged in and listed by b.example.net, zen.example.net is refused (550)" in steps
    domains.domain_update(acting_user=None, domain=personas.org, check_blocklists=False, origin="test")
    assert "example.org does not check the DNS blocklists" in trace("user@example.org").steps


def test_a_client_is_checked_against_every_enabled_list_now(personas, settings, tmp_path):
    """As Exim asks: the reversed address under each zone, through a real NSD on loopback; only the
    list's own codes are a listing; a list that does not answer is not (Exim would not refuse)."""
    from tests.nsd import free_port, start_nsd, stop_nsd

    zones = {
        "bl.example.net": '7.2.0.192 IN A 127.0.0.2\n7.2.0.192 IN TXT "listed"\n',
        "other.example.net": "7.2.0.192 IN A 127.0.0.10\n",
        "v6.example.net": "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2 IN A 127.0.0.4\n",
    }
    add("bl.example.net", name="BL", answers="127.0.0.2 spam source")
    add("other.example.net", name="Other", answers="127.0.0.2")
    add("v6.example.net", name="V6", answers="127.0.0.4 exploited")
    add("gone.example.net", name="Gone", answers="127.0.0.2")  # not served: REFUSED, an error
    add("off.example.net", name="Off", enabled=False)
    port = free_port()
    settings.MAIL_DNS_RESOLVERS, settings.MAIL_DNS_PORT, settings.MAIL_DNS_TIMEOUT = ["127.0.0.1"], port, 2.0
    from domains import dnscheck

    proc = start_nsd(tmp_path, zones, port, lambda: dnscheck.resolver().resolve("bl.example.net", "SOA"))
    try:
        rows = {r["zone"]: r for r in services.client_listings("192.0.2.7")}
        v6 = {r["zone"]: r for r in services.client_listings("2001:db8::1")}
        client = Client()
        client.force_login(personas.superuser)
        page = client.get(reverse("policy:blocklists"), {"client": "192.0.2.7"}).content.decode()
    finally:
        stop_nsd(proc)
    assert set(rows) == {"bl.example.net", "other.example.net", "v6.example.net", "gone.example.net"}
    assert (rows["bl.example.net"]["listed"], rows["bl.example.net"]["meaning"]) == (True, "spam source")
    assert (rows["other.example.net"]["answers"], rows["other.example.net"]["listed"]) == (["127.0.0.10"], False)
    assert rows["v6.example.net"]["answers"] == [] and rows["gone.example.net"]["error"]
    assert (v6["v6.example.net"]["listed"], v6["v6.example.net"]["meaning"]) == (True, "exploited")
    assert "127.0.0.2: spam source" in page
    with pytest.raises(ValidationError, match="not an IPv4 or IPv6 address"):
        services.client_listings("192.0.2.7; rm -rf /")
    out = io.StringIO()
    with pytest.raises(CommandError, match="not an IPv4 or IPv6 address"):
        call_command("blocklist", "check", "nonsense", stdout=out)
