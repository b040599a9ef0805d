"""Findings of the security review: each test failed before its fix.

Personas as in STYLE.md; the appointing-admin cases give example.org's admin
the right to appoint admins first (``appointing`` fixture).
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from accounts import services as accounts
from accounts.models import Mailbox
from domains import services as domains
from domains.models import AdminGrant
from tests import factories

pytestmark = pytest.mark.django_db


def login(client, address, password):
    return client.post(reverse("login"), {"username": address, "password": password})


@pytest.fixture
def appointing(personas):
    """example.org's admin may appoint admins (unlimited, all capabilities)."""
    domains.grant_set(
        origin="test",
        acting_user=None,
        admin=personas.admin_org,
        domains=[personas.org],
        can_create_mailboxes=True,
        can_delete_mailboxes=True,
        can_appoint_admins=True,
    )
    return personas


# --- login throttling -------------------------------------------------------------------------


def test_own_successful_login_does_not_reset_failures_against_another_address(settings, personas):
    """An attacker with any valid mailbox must not clear the counter of the address it guesses.

    django-axes' reset-on-success deleted every attempt from the client's address,
    including the failures against the victim, so 4 guesses + 1 own login repeated forever.
    """
    attacker = Client(REMOTE_ADDR="198.51.100.66")
    victim = personas.admin_org.address
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(attacker, victim, "guess")
    assert login(attacker, personas.user.address, personas.password).status_code == 302  # attacker's own mailbox
    attacker.logout()
    login(attacker, victim, "guess")
    # The victim's address has had AXES_FAILURE_LIMIT failures: locked from everywhere.
    response = login(Client(REMOTE_ADDR="203.0.113.77"), victim, personas.password)
    assert response.status_code == 429


def test_own_successful_login_still_clears_own_failures(settings, personas):
    client = Client(REMOTE_ADDR="203.0.113.21")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, personas.user.address, "wrong")
    assert login(client, personas.user.address, personas.password).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(Client(REMOTE_ADDR="203.0.113.22"), personas.user.address, "wrong")
    assert login(Client(REMOTE_ADDR="203.0.113.23"), personas.user.address, personas.password).status_code == 302


# --- admin grants: an appointed admin must not act on the admin that appointed it ---------------


def _appoint_user(personas, **fields):
    fields = {
        "can_create_mailboxes": True,
        "can_delete_mailboxes": True,
        "can_appoint_admins": True,
        "quota_bytes": 0,
        "max_mailboxes": 0,
        **fields,
    }
    return domains.grant_set(
        origin="test", acting_user=personas.admin_org, admin=personas.user, domains=[personas.org], **fields
    )


@pytest.mark.parametrize("extra", [{}, {"max_mailboxes": 10}], ids=["equal-grant", "narrower-grant"])
def test_appointed_admin_cannot_revoke_its_appointer(client, appointing, extra):
    p = appointing
    _appoint_user(p, **extra)
    own = AdminGrant.objects.get(admin=p.admin_org)
    client.force_login(p.user)
    response = client.post(reverse("domains:grant_delete", args=[own.pk]))
    assert response.status_code in (403, 404)
    assert AdminGrant.objects.filter(admin=p.admin_org).exists()
    with pytest.raises(PermissionDenied):
        domains.grant_revoke(origin="test", acting_user=Mailbox.objects.get(pk=p.user.pk), admin=p.admin_org)
    assert AdminGrant.objects.filter(admin=p.admin_org).exists()


def test_appointing_admin_cannot_revoke_a_superusers_grant(client, appointing):
    p = appointing
    domains.grant_set(origin="test", acting_user=None, admin=p.superuser, domains=[p.org])
    grant = AdminGrant.objects.get(admin=p.superuser)
    client.force_login(p.admin_org)
    assert client.post(reverse("domains:grant_delete", args=[grant.pk])).status_code in (403, 404)
    assert AdminGrant.objects.filter(admin=p.superuser).exists()


def test_appointing_admin_can_still_revoke_and_edit_a_narrower_grant_it_gave(client, appointing):
    p = appointing
    grant = _appoint_user(p, max_mailboxes=10, can_appoint_admins=False)
    client.force_login(p.admin_org)
    data = {"domains": [p.org.pk], "quota_bytes": 0, "max_mailboxes": 5, "can_create_mailboxes": "on"}
    assert client.get(reverse("domains:grant_edit", args=[grant.pk])).status_code == 200
    assert client.post(reverse("domains:grant_edit", args=[grant.pk]), data).status_code == 302
    grant.refresh_from_db()
    assert (grant.max_mailboxes, grant.can_delete_mailboxes) == (5, False)
    assert client.post(reverse("domains:grant_delete", args=[grant.pk])).status_code == 302
    assert not AdminGrant.objects.filter(admin=p.user).exists()


def test_appointing_admin_cannot_widen_a_grant_beyond_its_own(appointing):
    p = appointing
    _appoint_user(p, max_mailboxes=10, can_appoint_admins=False)
    domains.grant_set(
        origin="test", acting_user=None, admin=p.admin_org, domains=[p.org], can_appoint_admins=True, max_mailboxes=20
    )
    actor = Mailbox.objects.get(pk=p.admin_org.pk)
    with pytest.raises(PermissionDenied):
        domains.grant_set(origin="test", acting_user=actor, admin=p.user, domains=[p.org], max_mailboxes=0)
    assert AdminGrant.objects.get(admin=p.user).max_mailboxes == 10


def test_service_refuses_capabilities_left_to_their_defaults(appointing):
    """grant_set without can_delete_mailboxes gave the model default (True) to an admin lacking it."""
    p = appointing
    domains.grant_set(
        origin="test",
        acting_user=None,
        admin=p.admin_org,
        domains=[p.org],
        can_appoint_admins=True,
        can_delete_mailboxes=False,
    )
    actor = Mailbox.objects.get(pk=p.admin_org.pk)
    with pytest.raises(PermissionDenied):
        domains.grant_set(origin="test", acting_user=actor, admin=p.user, domains=[p.org], can_appoint_admins=False)
    assert not AdminGrant.objects.filter(admin=p.user).exists()


def test_grant_list_does_not_name_domains_the_admin_does_not_manage(client, appointing):
    p = appointing
    factories.domain("secret.example")
    secret = domains.get_domain("secret.example")
    domains.grant_set(origin="test", acting_user=None, admin=p.user, domains=[p.org, secret])
    client.force_login(p.admin_org)
    response = client.get(reverse("domains:grants"))
    assert response.status_code == 200
    assert b"secret.example" not in response.content
    grant = AdminGrant.objects.get(admin=p.user)
    response = client.get(reverse("domains:grant_edit", args=[grant.pk]))
    assert b"secret.example" not in response.content


def test_grant_form_is_no_oracle_for_mailboxes_of_other_domains(client, appointing):
    p = appointing
    client.force_login(p.admin_org)
    data = {"domains": [p.org.pk], "quota_bytes": 0, "max_mailboxes": 0}
    existing = client.post(reverse("domains:grant_create"), {**data, "admin": p.admin_net.address})
    missing = client.post(reverse("domains:grant_create"), {**data, "admin": "nobody@example.net"})
    assert existing.status_code == missing.status_code == 200
    assert existing.context["form"].errors["admin"] == [f"No mailbox {p.admin_net.address}."]
    assert missing.context["form"].errors["admin"] == ["No mailbox nobody@example.net."]


# --- superuser status: the command line only, also at the service layer -------------------------


def test_superuser_services_refuse_panel_actors(personas):
    with pytest.raises(PermissionDenied):
        accounts.superuser_create(
            origin="test", address=personas.user.address, password=None, acting_user=personas.admin_org
        )
    with pytest.raises(PermissionDenied):
        accounts.superuser_create(
            origin="test", address=personas.user.address, password=None, acting_user=personas.superuser
        )
    assert not Mailbox.objects.get(pk=personas.user.pk).is_superuser
    accounts.superuser_create(origin="test", address=personas.admin_net.address, password=None)
    with pytest.raises(PermissionDenied):
        accounts.superuser_revoke(origin="test", address=personas.admin_net.address, acting_user=personas.admin_org)
    assert Mailbox.objects.get(pk=personas.admin_net.pk).is_superuser


# --- a domain with two administrators ----------------------------------------------------------


def test_admin_of_a_domain_with_a_co_admin_can_open_its_own_mailbox(client, personas):
    """The visible-mailbox join gave one row per grant of the domain: the own page was a 500."""
    co_admin = factories.mailbox("co@example.org")
    domains.grant_set(origin="test", acting_user=None, admin=co_admin, domains=[personas.org])
    client.force_login(personas.admin_org)
    assert client.get(reverse("accounts:detail", args=[personas.admin_org.pk])).status_code == 200
    assert client.get(reverse("vacation:mailbox", args=[personas.admin_org.pk])).status_code == 200
    assert client.get(reverse("accounts:detail", args=[co_admin.pk])).status_code == 200
    visible = Mailbox.objects.visible_to(personas.admin_org)
    assert visible.count() == len(set(visible.values_list("pk", flat=True)))


def test_limit_errors_do_not_describe_another_admins_grant(client, personas):
    """A co-admin's grant may span domains this admin must not know of: no address, no usage."""
    factories.domain("secret.example")
    co_admin = factories.mailbox("x@secret.example")
    domains.grant_set(
        origin="test",
        acting_user=None,
        admin=co_admin,
        domains=[personas.org, domains.get_domain("secret.example")],
        max_mailboxes=4,
    )
    client.force_login(personas.admin_org)
    response = client.post(
        reverse("accounts:create", args=[personas.org.pk]), {"local_part": "n1", "quota_bytes": "1M"}
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert b"secret.example" not in response.content
    assert not Mailbox.objects.filter(address="n1@example.org").exists()
    client.force_login(personas.superuser)  # superusers still get the details
    response = client.post(
        reverse("accounts:create", args=[personas.org.pk]), {"local_part": "n1", "quota_bytes": "1M"}
    )
    assert b"x@secret.example" in response.content
