"""Sender allow/deny lists (issue 15.3): what an entry may say, who may change which list, the
panel and the CLI, and the rows Exim reads. (Exim's answers: tests/mailstack/test_sender_lists.py.)"""

import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from mailadmin.models import AuditEntry
from policy import services
from policy.models import SenderRule, parse_pattern
from tests.dbutil import at_once

pytestmark = pytest.mark.django_db


def add(action, pattern, acting_user=None, **where):
    return services.sender_rule_add(acting_user=acting_user, action=action, pattern=pattern, origin="test", **where)


def looked_up() -> set:
    with connection.cursor() as cursor:
        cursor.execute("SELECT owner, pattern, action, is_network FROM lookup_senders_v2")
        return {(o, p, a, int(n)) for o, p, a, n in cursor.fetchall()}


@pytest.mark.parametrize(
    "text, stored",
    [
        ("  Pest@Spam.Example ", ("pest@spam.example", False)),
        ("@Bücher.Example", ("@xn--bcher-kva.example", False)),
        ("192.0.2.77/24", ("192.0.2.0/24", True)),
        ("192.0.2.77", ("192.0.2.77/32", True)),
        ("2001:DB8::1/32", ("2001:db8::/32", True)),
    ],
)
def test_patterns_are_stored_canonical(text, stored):
    assert parse_pattern(text) == stored


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "Give an address"),
        ("0.0.0.0/0", "every client on the internet"),
        ("::/0", "every client on the internet"),
        ("spam.example", "neither an address, @domain, nor a network"),
        ("a@b@c.example", "a@b@c.example"),
        ("@", "@"),
        ("pest@spam.example\r\nX: y", "Give an address"),
        ("pest@spam.example\x00", "Give an address"),
        ("x" * 300 + "@spam.example", "Give an address"),
    ],
)
def test_bad_patterns_are_refused_saying_why(text, says):
    with pytest.raises(ValidationError) as caught:
        parse_pattern(text)
    assert says in " ".join(caught.value.message_dict["pattern"])


def test_entries_reach_the_view_exim_reads_and_go_with_their_list(personas):
    add("deny", "@spam.example", mailbox=personas.user)
    add("allow", "Friend@Spam.example", domain=personas.org)
    add("deny", "192.0.2.0/24", domain=personas.org)
    assert looked_up() == {
        ("user@example.org", "@spam.example", "deny", 0),
        ("@example.org", "friend@spam.example", "allow", 0),
        ("@example.org", "192.0.2.0/24", "deny", 1),
    }
    assert AuditEntry.objects.filter(action="sender_rule.add").count() == 3
    personas.user.delete()
    assert {row[0] for row in looked_up()} == {"@example.org"}


def test_a_network_cannot_be_allowed_and_an_entry_is_on_a_list_once(personas):
    with pytest.raises(ValidationError, match="can only be refused"):
        add("allow", "192.0.2.0/24", mailbox=personas.user)
    add("deny", "pest@spam.example", mailbox=personas.user)
    with pytest.raises(ValidationError, match="already on this list"):
        add("allow", "PEST@spam.example", mailbox=personas.user)
    add("allow", "pest@spam.example", mailbox=personas.admin_org)  # another list may say otherwise
    with pytest.raises(ValidationError, match="action"):
        add("maybe", "x@spam.example", mailbox=personas.user)
    assert SenderRule.objects.count() == 2


def test_a_list_holds_at_most_its_limit(personas, monkeypatch):
    monkeypatch.setattr(services, "MAX_RULES_PER_OWNER", 2)
    add("deny", "a@spam.example", mailbox=personas.user)
    add("deny", "b@spam.example", mailbox=personas.user)
    with pytest.raises(ValidationError, match="at most 2 entries"):
        add("deny", "c@spam.example", mailbox=personas.user)
    add("deny", "c@spam.example", domain=personas.org)  # the domain's list is another list


def test_who_may_change_which_list(personas):
    add("deny", "a@spam.example", acting_user=personas.user, mailbox=personas.user)
    add("deny", "b@spam.example", acting_user=personas.admin_org, mailbox=personas.user)
    add("deny", "c@spam.example", acting_user=personas.admin_org, domain=personas.org)
    refused = [
        (personas.user, {"mailbox": personas.admin_org}),  # another's
        (personas.user, {"domain": personas.org}),  # an end user never has a domain's
        (personas.admin_net, {"mailbox": personas.user}),  # another domain's mailbox
        (personas.admin_net, {"domain": personas.org}),
        (personas.admin_org, {"mailbox": personas.superuser}),  # a higher rank's
    ]
    for actor, where in refused:
        with pytest.raises(PermissionDenied):
            add("deny", "d@spam.example", acting_user=actor, **where)
    rule = SenderRule.objects.get(pattern="c@spam.example")
    with pytest.raises(PermissionDenied):
        services.sender_rule_delete(acting_user=personas.user, rule=rule, origin="test")
    assert SenderRule.objects.count() == 3


def test_panel_own_list_add_show_remove(client, personas):
    client.force_login(personas.user)
    url = reverse("policy:own_senders")
    response = client.post(url, {"action": "deny", "pattern": "@Spam.Example"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "@spam.example" in page and "refused" in page
    response = client.post(url, {"action": "allow", "pattern": "10.0.0.0/8"})
    assert response.status_code == 200 and "can only be refused" in response.content.decode()
    response = client.post(url, {"action": "deny", "pattern": "@spam.example"})
    assert "already on this list" in response.content.decode()
    rule = SenderRule.objects.get()
    assert client.post(reverse("policy:sender_delete", args=[rule.pk]))["Location"] == url
    assert not SenderRule.objects.exists()
    # another's entry: not found, and kept
    other = add("deny", "x@spam.example", mailbox=personas.admin_org)
    assert client.post(reverse("policy:sender_delete", args=[other.pk])).status_code == 404
    assert SenderRule.objects.filter(pk=other.pk).exists()


def test_panel_domain_list_for_its_admin(client, personas):
    client.force_login(personas.admin_org)
    url = reverse("policy:domain_senders", args=[personas.org.pk])
    assert client.post(url, {"action": "deny", "pattern": "198.51.100.0/24"}).status_code == 302
    assert looked_up() == {("@example.org", "198.51.100.0/24", "deny", 1)}
    detail = client.get(reverse("domains:detail", args=[personas.org.pk])).content.decode()
    assert url in detail


def test_cli_adds_lists_and_removes(personas):
    out = io.StringIO()
    call_command("senders", "add", "user@example.org", "deny", "@Spam.example", "--json", stdout=out)
    assert json.loads(out.getvalue())["pattern"] == "@spam.example"
    call_command("senders", "add", "@example.org", "allow", "boss@spam.example", stdout=io.StringIO())
    out = io.StringIO()
    call_command("senders", "list", "example.org", "--json", stdout=out)
    assert [(r["list"], r["pattern"], r["action"]) for r in json.loads(out.getvalue())] == [
        ("@example.org", "boss@spam.example", "allow")
    ]
    with pytest.raises(CommandError, match="neither an address"):
        call_command("senders", "add", "user@example.org", "deny", "spam", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not on the list"):
        call_command("senders", "remove", "user@example.org", "@other.example", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("senders", "list", "nobody@nowhere.example", stdout=io.StringIO())
    call_command("senders", "remove", "user@example.org", "@SPAM.example", stdout=io.StringIO())
    assert looked_up() == {("@example.org", "boss@spam.example", "allow", 0)}


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_same_entry_posted_four_times_at_once_is_added_once():
    from tests import factories

    personas = factories.make_personas()
    clients = [Client() for _ in range(4)]
    for c in clients:
        c.force_login(personas.user)
    url, data = reverse("policy:own_senders"), {"action": "deny", "pattern": "@spam.example"}
    results = at_once([(lambda c=c: c.post(url, data).status_code) for c in clients])
    assert sorted(results) == [200, 200, 200, 302]  # the others are told it is already on the list
    assert SenderRule.objects.count() == 1
    assert AuditEntry.objects.filter(action="sender_rule.add").count() == 1


def test_trace_counts_the_lists_of_the_mailbox_and_its_domain(personas):
    from mailserver.trace import trace

    add("deny", "@spam.example", mailbox=personas.user)
    add("allow", "a@spam.example", mailbox=personas.user)
    add("deny", "192.0.2.0/24", domain=personas.org)
    steps = trace("user@example.org").steps
    assert "sender list of user@example.org: 1 allowed, 1 refused (allow beats deny; 550)" in steps
    assert "sender list of the domain example.org: 0 allowed, 1 refused (allow beats deny; 550)" in steps
    assert not any("sender list of user" in step for step in trace("admin@example.org").steps)


def test_the_domain_row_says_whether_exim_need_read_any_list(personas):
    """lookup_domains_v2.sender_lists: 1 while the domain or one of its mailboxes has an entry."""
    from domains import services as domains

    domains.domain_alias_create(acting_user=None, target=personas.org, name="alias.example", origin="test")

    def flags():
        with connection.cursor() as cursor:
            cursor.execute("SELECT domain, sender_lists FROM lookup_domains_v2 ORDER BY domain")
            return {domain: int(flag) for domain, flag in cursor.fetchall()}

    assert flags() == {"alias.example": 0, "example.net": 0, "example.org": 0}
    own = add("deny", "@spam.example", mailbox=personas.user)
    wide = add("deny", "192.0.2.0/24", domain=personas.org)
    assert flags() == {"alias.example": 1, "example.net": 0, "example.org": 1}
    services.sender_rule_delete(acting_user=None, rule=own, origin="test")
    assert flags()["example.org"] == 1
    services.sender_rule_delete(acting_user=None, rule=wide, origin="test")
    assert flags() == {"alias.example": 0, "example.net": 0, "example.org": 0}
