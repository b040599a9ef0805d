"""Mailbox forwarding: the service's rules, the panel for admins and users, the command line, the
lookup view Exim reads, and what ``trace`` says (real Exim: tests/mailstack/test_forwarding.py)."""

import json
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts import archives, services
from accounts.models import Mailbox
from domains import services as domains
from mailadmin.models import AuditEntry
from mailserver.trace import trace
from tests import factories
from tests.dbutil import lookup

pytestmark = pytest.mark.django_db


def forward(mailbox, destinations, *, keep_copy=True, acting_user=None):
    return services.mailbox_set_forwarding(
        origin="test", acting_user=acting_user, mailbox=mailbox, destinations=destinations, keep_copy=keep_copy
    )


def test_forwarding_is_stored_canonical_and_audited(personas):
    mailbox = forward(personas.user, "Bob, Far@Outside.Example\nbob", keep_copy=False)
    assert mailbox.forward_list == ["bob@example.org", "far@outside.example"]
    assert not mailbox.forward_keep_copy
    entry = AuditEntry.objects.get(action="mailbox.forwarding")
    assert entry.after["forward_to"] == "bob@example.org, far@outside.example"
    assert entry.before["forward_to"] == ""


def test_empty_destinations_switch_forwarding_off(personas):
    forward(personas.user, ["x@example.net"], keep_copy=False)
    mailbox = forward(personas.user, "")
    assert (mailbox.forward_to, mailbox.forward_keep_copy) == ("", True)
    assert lookup("lookup_forwards_v1", "address", personas.user.address) is None


@pytest.mark.parametrize(
    ("destinations", "message"),
    [
        (["not an@@address"], "Destination 'not"),
        (["user@example.org"], "keep a copy instead"),
        ([f"f{n}@example.net" for n in range(21)], "At most 20 addresses"),
        (["ok@example.net", "x@-bad-.example"], "Destination 'x@-bad-.example'"),
    ],
)
def test_bad_destinations_are_refused_with_the_reason_and_nothing_changes(personas, destinations, message):
    with pytest.raises(ValidationError) as caught:
        forward(personas.user, destinations)
    assert message in str(caught.value)
    assert Mailbox.objects.get(pk=personas.user.pk).forward_to == ""


def test_a_domain_that_forwards_only_inside_refuses_outside_addresses(personas):
    domains.domain_update(origin="test", acting_user=None, domain=personas.org, forward_outside=False)
    factories.domain("elsewhere.example")
    domains.domain_alias_create(origin="test", acting_user=None, name="org-alias.example", target=personas.org)
    with pytest.raises(ValidationError) as caught:
        forward(personas.user, ["bob@example.org", "far@gmail.example"])
    assert "forwards only within this server: far@gmail.example is outside" in str(caught.value)
    mailbox = forward(personas.user, ["x@elsewhere.example", "bob@org-alias.example", "admin@example.net"])
    assert len(mailbox.forward_list) == 3


def test_switching_forwarding_outside_off_is_refused_while_a_mailbox_forwards_outside(personas):
    forward(personas.user, ["far@outside.example"])
    with pytest.raises(ValidationError) as caught:
        domains.domain_update(origin="test", acting_user=None, domain=personas.org, forward_outside=False)
    assert "1 mailbox forwards outside this server (user@example.org): change it first." in str(caught.value)
    personas.org.refresh_from_db()
    assert personas.org.forward_outside
    forward(personas.user, [])
    domains.domain_update(origin="test", acting_user=None, domain=personas.org, forward_outside=False)


def test_users_set_their_own_forwarding_only_where_the_domain_lets_them(personas):
    user = Mailbox.objects.get(pk=personas.user.pk)
    forward(user, ["x@example.net"], acting_user=user)
    domains.domain_update(origin="test", acting_user=None, domain=personas.org, users_may_forward=False)
    user = Mailbox.objects.get(pk=personas.user.pk)
    with pytest.raises(PermissionDenied):
        forward(user, ["y@example.net"], acting_user=user)
    forward(user, ["y@example.net"], acting_user=personas.admin_org)  # its admin still may
    with pytest.raises(PermissionDenied):  # an admin of another domain may not
        forward(user, ["z@example.net"], acting_user=personas.admin_net)
    assert Mailbox.objects.get(pk=user.pk).forward_list == ["y@example.net"]


def test_the_lookup_view_has_active_mailboxes_that_forward(personas):
    forward(personas.user, ["x@example.net"], keep_copy=False)
    assert lookup("lookup_forwards_v1", "address", "user@example.org") == {
        "address": "user@example.org",
        "destinations": "x@example.net",
        "keep_copy": 0,
    }
    services.mailbox_update(origin="test", acting_user=None, mailbox=personas.user, active=False)
    assert lookup("lookup_forwards_v1", "address", "user@example.org") is None


def test_trace_explains_forwarding_with_and_without_a_copy(personas):
    forward(personas.user, ["admin@example.org", "far@outside.example"], keep_copy=True)
    routed = trace("user@example.org")
    assert routed.mailboxes == ["admin@example.org", "user@example.org"]
    assert routed.external == ["far@outside.example"]
    assert any("forwarded (keeping a copy)" in step for step in routed.steps)
    forward(personas.user, ["admin@example.org"], keep_copy=False)
    assert trace("user@example.org").mailboxes == ["admin@example.org"]
    assert trace("user@example.org").rcpt == "250 accepted"


def test_user_sets_own_forwarding_in_the_panel(client, personas):
    client.force_login(personas.user)
    assert "Forwarding" in client.get(reverse("accounts:me")).content.decode()
    response = client.post(reverse("accounts:own_forwarding"), {"destinations": "far@outside.example"})
    assert response.status_code == 302
    assert Mailbox.objects.get(pk=personas.user.pk).forward_list == ["far@outside.example"]
    assert "To far@outside.example, no copy kept" in client.get(reverse("accounts:me")).content.decode()


def test_the_panel_shows_the_services_refusal_on_the_field(client, personas):
    client.force_login(personas.admin_org)
    url = reverse("accounts:forwarding", args=[personas.user.pk])
    response = client.post(url, {"destinations": "user@example.org", "keep_copy": "on"})
    assert response.status_code == 200
    assert response.context["form"].errors["destinations"] == ["Forwarding to the mailbox itself: keep a copy instead."]
    assert Mailbox.objects.get(pk=personas.user.pk).forward_to == ""


def test_users_of_a_domain_that_forbids_it_get_no_forwarding_page(client, personas):
    domains.domain_update(origin="test", acting_user=None, domain=personas.org, users_may_forward=False)
    client.force_login(personas.user)
    assert client.get(reverse("accounts:own_forwarding")).status_code == 403
    assert "Your administrator sets it." in client.get(reverse("accounts:me")).content.decode()


def test_cli_forward_and_off():
    factories.domain("example.org")
    factories.mailbox("ann@example.org")
    out = StringIO()
    call_command("mailbox", "forward", "ann@example.org", "bo", "far@outside.example", "--no-keep-copy", "--json",
                 stdout=out)  # fmt: skip
    data = json.loads(out.getvalue())
    assert (data["forward_to"], data["forward_keep_copy"]) == (["bo@example.org", "far@outside.example"], False)
    call_command("mailbox", "forward", "ann@example.org", "--off", stdout=StringIO())
    assert Mailbox.objects.get(address="ann@example.org").forward_to == ""
    with pytest.raises(CommandError, match="Give the addresses to forward to, or --off"):
        call_command("mailbox", "forward", "ann@example.org", stdout=StringIO())
    with pytest.raises(CommandError, match="keep a copy instead"):
        call_command("mailbox", "forward", "ann@example.org", "ann", stdout=StringIO())


def test_cli_domain_switches():
    out = StringIO()
    call_command("domain", "add", "inside.example", "--no-forward-outside", "--no-users-may-forward", "--json",
                 stdout=out)  # fmt: skip
    data = json.loads(out.getvalue())
    assert (data["forward_outside"], data["users_may_forward"]) == (False, False)


def test_a_restored_mailbox_forwards_again(personas):
    mailbox = forward(personas.user, ["far@outside.example"], keep_copy=False)
    services.mailbox_delete(origin="test", acting_user=None, mailbox=mailbox)
    archives.mailbox_restore(origin="test", acting_user=None, archive=archives.get_archive("user@example.org"))
    mailbox = Mailbox.objects.get(address="user@example.org")
    assert (mailbox.forward_list, mailbox.forward_keep_copy) == (["far@outside.example"], False)


def test_forwarding_the_domain_no_longer_allows_is_not_restored_and_the_archive_says_so(personas):
    mailbox = forward(personas.user, ["far@outside.example"], keep_copy=False)
    services.mailbox_delete(origin="test", acting_user=None, mailbox=mailbox)
    domains.domain_update(origin="test", acting_user=None, domain=personas.org, forward_outside=False)
    archive = archives.mailbox_restore(
        origin="test", acting_user=None, archive=archives.get_archive("user@example.org")
    )
    assert Mailbox.objects.get(address="user@example.org").forward_to == ""
    assert archive.note.startswith("Its forwarding to far@outside.example was not restored: destinations: ")
    assert "forwards only within this server" in archive.note
