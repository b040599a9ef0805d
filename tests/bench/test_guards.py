"""Regression guards for the benchmarks: correctness, not timing.

On a small directory made by the benchmarks' own generator (bench/directory.py through
mailadmin.bulk), every lookup that the shipped configuration runs - read from the
rendered deploy/ templates, as bench/lookups.py measures them - is an indexed point
query (the plan checker of tests/mailserver/test_lookup_explain.py), finds what it should and
nothing when it should not. The page query-count guard (constant from 10 to 1,000
mailboxes) is tests/domains/test_views_domains.py.
"""

import pytest
from django.db import connection

from accounts.models import Mailbox
from aliases.models import Alias
from bench.directory import BIG_DOMAIN, Directory
from bench.generate import load
from bench.queries import shipped_lookups
from domains import services as domains
from domains.models import Domain, DomainAlias
from policy import services as senders
from policy.models import DnsBlocklist, GreylistAllow, GreylistTriplet
from tests.mailserver.test_lookup_explain import plan_scans as scans
from vacation.models import Vacation

pytestmark = pytest.mark.django_db

SCALE = 0.0005  # 50 domains, 500 mailboxes, 250 aliases, 10 domain aliases, 25 vacations


@pytest.fixture
def directory():
    result = load(SCALE, seed=7, batch_size=200, verbose=False)
    if connection.vendor != "mysql":  # (ANALYZE TABLE would commit the test's transaction on MariaDB)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return result


def rows_of(sql: str, params: list[str]) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def a_hit(lookup) -> tuple[str, str]:
    """A (local part, domain) the lookup finds in the generated directory."""
    if lookup.view in ("lookup_vacations_v1", "lookup_forwards_v1"):
        keeping = " WHERE keep_copy = 1" if "keep_copy = 1" in lookup.sql else ""
        return tuple(rows_of(f"SELECT address FROM {lookup.view}{keeping} ORDER BY address", [])[0][0].split("@"))
    if lookup.view == "lookup_relay_recipients_v2" or "relay_host <>" in lookup.sql:  # a relay domain, listing ann
        domain = Domain.objects.filter(name="relay-guard.example").first()
        if domain is None:
            domain = domains.domain_create(acting_user=None, name="relay-guard.example", origin="t")
            domains.domain_update(acting_user=None, domain=domain, relay_host="mx.example.com", origin="t")
            domains.relay_recipients_add(acting_user=None, domain=domain, addresses=["ann"], origin="t")
        return "ann", domain.name
    if lookup.view == "lookup_blocklists_v2":  # an enabled list, by its zone (the "domain")
        if not DnsBlocklist.objects.exists():
            senders.blocklist_add(acting_user=None, zone="bl.example.net", name="BL", answers="127.0.0.2", origin="t")
        return "", "bl.example.net"
    if lookup.view == "lookup_greylist_allow_v2":  # one network and one sender domain
        for pattern in ("192.0.2.0/24", "partner.example"):
            if not GreylistAllow.objects.filter(pattern=pattern).exists():
                senders.greylist_allow_add(acting_user=None, pattern=pattern, origin="t")
        return "", ""
    if lookup.view == "policy_greylist":  # a triplet, by its key (given as the "domain")
        GreylistTriplet.objects.get_or_create(
            triplet="T-guard",
            defaults={
                "domain": BIG_DOMAIN,
                "client": "192.0.2.0/24",
                "sender": "s@x.example",
                "recipient": f"r@{BIG_DOMAIN}",
                "first_seen": 1,
                "last_seen": 1,
            },
        )
        return "", "T-guard"
    if lookup.view == "lookup_senders_v2":  # a mailbox refusing its own domain and a network
        mailbox = Mailbox.objects.filter(active=True, domain__name=BIG_DOMAIN).first()
        for pattern in (f"@{mailbox.domain.name}", "192.0.2.0/24") if not mailbox.sender_rules.exists() else ():
            senders.sender_rule_add(acting_user=None, mailbox=mailbox, action="deny", pattern=pattern, origin="t")
        return mailbox.local_part, mailbox.domain.name
    if "max_message_bytes >" in lookup.sql:  # a domain with a limit under the message's size
        Domain.objects.filter(name=BIG_DOMAIN).update(max_message_bytes=1000)
        return "", BIG_DOMAIN
    if lookup.kinds == ("catchall",):
        return "", Alias.objects.filter(local_part="", active=True, domain__active=True).first().domain.name
    if lookup.view == "lookup_aliases_v1":
        alias = Alias.objects.exclude(local_part="").filter(active=True, domain__active=True).first()
        return alias.local_part, alias.domain.name
    if lookup.view == "lookup_mailboxes_v1" and "active = 0" in lookup.sql:
        mailbox = Mailbox.objects.filter(active=False, domain__active=True).first()
    elif "over_quota = 1" in lookup.sql:
        mailbox = Mailbox.objects.filter(active=True, domain__name=BIG_DOMAIN).first()
        Mailbox.objects.filter(pk=mailbox.pk).update(over_quota=True)
    else:
        mailbox = Mailbox.objects.filter(active=True, domain__name=BIG_DOMAIN).first()
    return mailbox.local_part, mailbox.domain.name


def test_the_generator_loads_what_it_promises(directory):
    counts = directory["counts"]
    assert Domain.objects.count() == counts["domains"]
    assert Mailbox.objects.count() == counts["mailboxes"]
    assert Alias.objects.count() == counts["aliases"]
    assert DomainAlias.objects.count() == counts["domain_aliases"]
    assert Vacation.objects.count() == counts["vacations"]
    assert Domain.objects.get(name=BIG_DOMAIN).mailboxes.count() == directory["big_domain_mailboxes"]
    assert Domain.objects.filter(name__startswith="xn--").exists()  # typed as U-labels, stored as A-labels
    assert not Mailbox.objects.filter(address__regex="[A-Z]").exists()


def test_the_generated_rows_pass_the_models_own_validation(directory):
    for model in (Domain, DomainAlias, Mailbox, Alias, Vacation):
        for obj in model.objects.order_by("?")[:15]:
            obj.full_clean()


def test_the_generated_directory_is_the_same_for_the_same_seed():
    one, two = Directory(scale=SCALE, seed=3), Directory(scale=SCALE, seed=3)
    for kind in ("domains", "domain_aliases", "mailboxes", "aliases", "vacations"):
        assert list(getattr(one, kind)()) == list(getattr(two, kind)())


def test_the_shipped_lookups_are_found():
    """bench/lookups.py measures these: the parser must see every lookup of every kind."""
    lookups = shipped_lookups()
    views = {lookup.view for lookup in lookups}
    assert views == {
        "lookup_domains_v2",
        "lookup_addresses_v2",
        "lookup_logins_v2",
        "lookup_senders_v2",
        "lookup_blocklists_v2",
        "lookup_relay_recipients_v2",
        "lookup_greylist_allow_v2",
        "policy_greylist",
    }
    assert {lookup.server for lookup in lookups} == {"exim", "dovecot", "greylist"}
    assert any(lookup.kinds == ("catchall",) for lookup in lookups)
    assert all(lookup.sql.count("%s") == len(lookup.kinds) for lookup in lookups)


def test_each_shipped_lookup_is_an_indexed_point_query(directory):
    """One directory for all lookups (loading it is most of the cost); every problem is reported."""
    problems = []
    for lookup in shipped_lookups():
        hit = lookup.params(*a_hit(lookup))
        found, plan = scans(lookup.sql, hit)
        if found:
            problems.append(f"{lookup.where} scans {found}:\n{lookup.sql}\n{plan}")
        if not 1 <= len(rows_of(lookup.sql, hit)) <= 2:
            problems.append(f"{lookup.where} does not find {hit}: {lookup.sql}")
        if lookup.kinds and rows_of(lookup.sql, lookup.params("nobody-here", "unknown-domain.example.org")):
            problems.append(f"{lookup.where} finds an unknown address: {lookup.sql}")
    assert not problems, "\n\n".join(problems)
