"""Greylisting (issue 15.1): a domain's settings and the row Exim reads, what the allow list may
hold, who may change it, the panel, the CLI, the trace, and the expiry of the triplets. (Exim's
answers and its writes through its own database user: tests/mailstack/test_greylisting.py.)"""

import io
import json
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from domains import services as domains
from mailadmin.models import AuditEntry
from mailserver.trace import trace
from policy import services
from policy.models import GreylistAllow, GreylistTriplet, parse_greylist_allow
from tests import factories
from tests.dbutil import at_once

pytestmark = pytest.mark.django_db


def row_of(name: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT greylist, greylist_delay, greylist_window, greylist_expiry FROM lookup_domains_v2 "
            "WHERE domain = %s",
            [name],
        )
        return tuple(int(v) for v in cursor.fetchone())


def test_a_domains_settings_reach_the_row_exim_reads_and_its_aliases_follow(personas):
    org = personas.org
    assert row_of(org.name) == (0, 300, 24 * 3600, 36 * 86400)
    domains.domain_alias_create(acting_user=None, target=org, name="grey-alias.example", origin="test")
    domains.domain_update(
        acting_user=None,
        domain=org,
        greylist=True,
        greylist_delay=60,
        greylist_window_hours=4,
        greylist_expiry_days=7,
        origin="test",
    )
    assert row_of(org.name) == row_of("grey-alias.example") == (1, 60, 4 * 3600, 7 * 86400)


@pytest.mark.parametrize(
    "fields, says",
    [
        ({"greylist_delay": 0}, "greater than or equal to 1"),
        ({"greylist_delay": 86401}, "less than or equal to 86400"),
        ({"greylist_window_hours": 0}, "greater than or equal to 1"),
        ({"greylist_expiry_days": 3651}, "less than or equal to 3650"),
        ({"greylist_delay": 7200, "greylist_window_hours": 2}, "Shorter than the retry window"),
    ],
)
def test_settings_out_of_range_are_refused_and_nothing_changes(personas, fields, says):
    with pytest.raises(ValidationError, match=says):
        domains.domain_update(acting_user=None, domain=personas.org, origin="test", greylist=True, **fields)
    assert row_of(personas.org.name)[0] == 0


def test_only_superusers_switch_it_on(personas):
    with pytest.raises(PermissionDenied):
        domains.domain_update(acting_user=personas.admin_org, domain=personas.org, greylist=True, origin="test")


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("192.0.2.7", ("192.0.2.7/32", True)),
        ("192.0.2.77/24", ("192.0.2.0/24", True)),
        ("2001:DB8::1/48", ("2001:db8::/48", True)),
        ("Partner.Example", ("partner.example", False)),
        ("@partner.example", ("partner.example", False)),
        ("*.Bulk.Example", ("*.bulk.example", False)),
        ("bücher.example", ("xn--bcher-kva.example", False)),
    ],
)
def test_allow_list_entries_are_stored_as_exim_matches_them(typed, stored):
    assert parse_greylist_allow(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "0.0.0.0/0",
        "::/0",
        "localhost",  # one label: not a sender domain
        "^.*@example.com",  # an Exim regular expression
        "lsearch;/etc/passwd",  # an Exim lookup
        "+local_domains",  # a named list
        "!example.com",
        "a@example.com",
        "example.com : other.example",  # a second list item
        "example.com\nother.example",
        "${run{/bin/sh}}.example",
        "*example.com",
        "x" * 256,
    ],
)
def test_anything_exim_would_read_as_more_than_one_entry_is_refused(typed):
    with pytest.raises(ValidationError):
        parse_greylist_allow(typed)
    with pytest.raises(ValidationError):
        services.greylist_allow_add(acting_user=None, pattern=typed, origin="test")
    assert not GreylistAllow.objects.exists()


def test_only_superusers_change_the_allow_list_and_each_change_is_audited(personas):
    with pytest.raises(PermissionDenied):
        services.greylist_allow_add(acting_user=personas.admin_org, pattern="192.0.2.0/24", origin="test")
    entry = services.greylist_allow_add(
        acting_user=personas.superuser, pattern="192.0.2.0/24", note="  our\tpartner ", origin="test"
    )
    assert entry.note == "our partner"
    with pytest.raises(ValidationError, match="already on the allow list"):
        services.greylist_allow_add(acting_user=personas.superuser, pattern="192.0.2.9/24", origin="test")
    with pytest.raises(PermissionDenied):
        services.greylist_allow_delete(acting_user=personas.admin_org, entry=entry, origin="test")
    services.greylist_allow_delete(acting_user=personas.superuser, entry=entry, origin="test")
    actions = list(AuditEntry.objects.filter(action__startswith="greylist.").values_list("action", flat=True))
    assert sorted(actions) == ["greylist.allow", "greylist.disallow"]


def test_the_same_entry_posted_twice_at_once_is_added_once(personas, transactional_db):
    clients = []
    for _ in range(2):
        client = Client()
        client.force_login(personas.superuser)
        clients.append(client)
    url = reverse("policy:greylisting")
    results = at_once([(lambda c=c: c.post(url, {"pattern": "partner.example"}).status_code) for c in clients])
    assert sorted(results) == [200, 302]  # the other is told it is already there
    assert GreylistAllow.objects.count() == 1


def _triplet(key, domain, *, first, last=None, passed=0):
    return GreylistTriplet.objects.create(
        triplet=key,
        domain=domain,
        client="192.0.2.0/24",
        sender=f"{key}@outside.example",
        recipient=f"user@{domain}",
        first_seen=first,
        last_seen=last if last is not None else first,
        passed=passed,
    )


def test_expiry_keeps_what_greylisting_still_needs_and_deletes_the_rest(personas):
    now = int(time.time())
    domains.domain_update(
        acting_user=None,
        domain=personas.org,
        greylist=True,
        greylist_window_hours=4,
        greylist_expiry_days=10,
        origin="test",
    )
    org, net = personas.org.name, personas.net.name  # net keeps the defaults: 24 h, 36 days
    _triplet("waiting", org, first=now - 3 * 3600)
    _triplet("too-late", org, first=now - 5 * 3600)
    _triplet("waiting-net", net, first=now - 5 * 3600)
    _triplet("passed", org, first=now - 20 * 86400, last=now - 9 * 86400, passed=1)
    _triplet("forgotten", org, first=now - 20 * 86400, last=now - 11 * 86400, passed=1)
    _triplet("passed-net", net, first=now - 40 * 86400, last=now - 20 * 86400, passed=1)
    _triplet("gone-recent", "gone.example", first=now - 86400, passed=1)
    _triplet("gone-old", "gone.example", first=now - 40 * 86400, passed=1)
    out = io.StringIO()
    call_command("greylist", "expire", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"expired": 3}
    assert set(GreylistTriplet.objects.values_list("triplet", flat=True)) == {
        "waiting",
        "waiting-net",
        "passed",
        "passed-net",
        "gone-recent",
    }


def test_the_cli_allows_lists_disallows_and_shows_the_triplets(personas):
    out = io.StringIO()
    call_command("greylist", "allow", "192.0.2.0/24", "--note", "partner", "--json", stdout=out)
    assert json.loads(out.getvalue())["pattern"] == "192.0.2.0/24"
    call_command("greylist", "allow", "*.bulk.example", stdout=io.StringIO())
    out = io.StringIO()
    call_command("greylist", "list", "--json", stdout=out)
    assert [(e["pattern"], e["kind"]) for e in json.loads(out.getvalue())] == [
        ("192.0.2.0/24", "network"),
        ("*.bulk.example", "sender domain"),
    ]
    call_command("greylist", "disallow", "192.0.2.9/24", stdout=io.StringIO())  # (as typed: the same network)
    assert list(GreylistAllow.objects.values_list("pattern", flat=True)) == ["*.bulk.example"]
    with pytest.raises(CommandError, match="not on the allow list"):
        call_command("greylist", "disallow", "198.51.100.0/24", stdout=io.StringIO())
    with pytest.raises(CommandError, match="every client on the internet"):
        call_command("greylist", "allow", "0.0.0.0/0", stdout=io.StringIO())
    _triplet("t1", personas.org.name, first=int(time.time()) - 30)
    out = io.StringIO()
    call_command("greylist", "triplets", "--domain", personas.org.name.upper(), "--json", stdout=out)
    [shown] = json.loads(out.getvalue())
    assert shown["sender"] == "t1@outside.example" and shown["passed"] is False
    with pytest.raises(CommandError):
        call_command("greylist", "triplets", "--domain", "unknown.example", stdout=io.StringIO())
    call_command("domain", "set", personas.org.name, "--greylist", "--greylist-delay", "120", stdout=io.StringIO())
    assert row_of(personas.org.name)[:2] == (1, 120)
    with pytest.raises(CommandError):
        call_command("domain", "set", personas.org.name, "--greylist-delay", "0", stdout=io.StringIO())


def test_the_panel_page_shows_the_allow_list_the_domains_and_the_senders_held(personas):
    domains.domain_update(acting_user=None, domain=personas.org, greylist=True, origin="test")
    _triplet("shown", personas.org.name, first=int(time.time()) - 600)
    _triplet("other", personas.net.name, first=int(time.time()) - 600, passed=1)
    client = Client()
    client.force_login(personas.superuser)
    url = reverse("policy:greylisting")
    response = client.post(url, {"pattern": "bücher.example", "note": "books"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "xn--bcher-kva.example" in page and "books" in page
    assert personas.org.display_name in page
    assert "1 waiting for their retry, 1 passed" in page
    page = client.get(url, {"domain": personas.org.name}).content.decode()
    assert "shown@outside.example" in page and "other@outside.example" not in page
    assert "10\xa0minutes ago" in page
    response = client.post(url, {"pattern": "not a network"})
    assert response.status_code == 200 and "neither a network" in response.content.decode()
    assert client.get(url, {"domain": "unknown.example"}).status_code == 404


def test_trace_says_a_domain_greylists(personas):
    mailbox = factories.mailbox(f"gina@{personas.org.name}")
    assert not any("greylists" in step for step in trace(mailbox.address).steps)
    domains.domain_update(acting_user=None, domain=personas.org, greylist=True, greylist_delay=90, origin="test")
    [step] = [step for step in trace(mailbox.address).steps if "greylists" in step]
    assert "after 90 s and within 24 h" in step and "36 days" in step
