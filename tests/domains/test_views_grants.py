"""Admin grant pages: superusers delegate domains; appointing admins within their own grant."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import Mailbox
from domains import services
from domains import services as domains
from domains.models import AdminGrant
from tests import factories

pytestmark = pytest.mark.django_db


def grant_data(personas, **extra):
    return {
        "admin": "user@example.org",
        "domains": [personas.org.pk],
        "quota_bytes": 0,
        "max_mailboxes": 10,
        "can_create_mailboxes": "on",
        **extra,
    }


def test_superuser_delegates_a_domain(client, personas):
    client.force_login(personas.superuser)
    assert client.get(reverse("domains:grants")).status_code == 200
    assert client.post(reverse("domains:grant_create"), grant_data(personas))["Location"] == reverse("domains:grants")
    grant = AdminGrant.objects.get(admin=personas.user)
    assert (grant.max_mailboxes, grant.can_create_mailboxes, grant.can_delete_mailboxes) == (10, True, False)
    assert list(grant.domains.all()) == [personas.org]
    client.post(
        reverse("domains:grant_edit", args=[grant.pk]),
        {"domains": [personas.org.pk, personas.net.pk], "quota_bytes": 0, "max_mailboxes": 0},
    )
    assert grant.domains.count() == 2
    client.post(reverse("domains:grant_delete", args=[grant.pk]))
    assert not AdminGrant.objects.filter(admin=personas.user).exists()


def test_grant_form_errors(client, personas):
    client.force_login(personas.superuser)
    response = client.post(reverse("domains:grant_create"), grant_data(personas, admin="nobody@example.org"))
    assert "admin" in response.context["form"].errors
    response = client.post(reverse("domains:grant_create"), grant_data(personas, max_mailboxes=1))
    assert response.status_code == 200 and response.context["form"].errors  # org already has 3 mailboxes
    assert not AdminGrant.objects.filter(admin=personas.user).exists()


def test_superuser_status_is_not_grantable_here(client, personas):
    client.force_login(personas.superuser)
    client.post(reverse("domains:grant_create"), grant_data(personas, is_superuser="on"))
    personas.user.refresh_from_db()
    assert not personas.user.is_superuser


def test_appointing_admin_within_own_grant_only(client, personas):
    services.grant_set(
        origin="test",
        acting_user=None,
        admin=personas.admin_org,
        domains=[personas.org],
        can_appoint_admins=True,
        quota_bytes=0,
    )
    client.force_login(personas.admin_org)
    assert client.get(reverse("domains:grants")).status_code == 200
    # cannot give a capability it lacks... (it has all three here) nor domains it does not hold
    response = client.post(reverse("domains:grant_create"), grant_data(personas, domains=[personas.net.pk]))
    assert response.status_code == 200 and "domains" in response.context["form"].errors
    assert client.post(reverse("domains:grant_create"), grant_data(personas)).status_code == 302
    grant = AdminGrant.objects.get(admin=personas.user)
    # sees the grant it gave, not its own nor the other domain's
    listed = [g.admin for g in client.get(reverse("domains:grants")).context["page"]]
    assert listed == [personas.user]
    own = AdminGrant.objects.get(admin=personas.admin_org)
    assert client.get(reverse("domains:grant_edit", args=[own.pk])).status_code == 404
    other = AdminGrant.objects.get(admin=personas.admin_net)
    assert client.post(reverse("domains:grant_delete", args=[other.pk])).status_code == 404
    # the superuser's mailbox in its domain cannot be appointed (outranks it)
    response = client.post(reverse("domains:grant_create"), grant_data(personas, admin="root@example.org"))
    assert response.status_code == 403
    assert client.post(reverse("domains:grant_delete", args=[grant.pk])).status_code == 302


def test_grants_the_viewer_cannot_manage_have_no_edit_or_revoke(client, personas):
    """An appointing admin sees the grants of its domains' admins; only those its own outranks are its to change."""
    services.grant_set(
        origin="test", acting_user=None, admin=personas.admin_org, domains=[personas.org], can_appoint_admins=True
    )
    own = AdminGrant.objects.get(admin=personas.admin_org)
    lesser = services.grant_set(
        origin="test", acting_user=None, admin=personas.user, domains=[personas.org], max_mailboxes=10
    )
    peer = services.grant_set(
        origin="test",  # the same as its own: not outranked
        acting_user=None,
        admin=factories.mailbox("peer@example.org"),
        domains=[personas.org],
        can_appoint_admins=True,
    )
    assert (own.max_mailboxes, own.quota_bytes) == (peer.max_mailboxes, peer.quota_bytes)
    client.force_login(personas.admin_org)
    page = client.get(reverse("domains:grants")).content.decode()
    for grant, shown in ((lesser, True), (peer, False)):
        assert grant.admin.address in page
        assert (reverse("domains:grant_edit", args=[grant.pk]) in page) is shown
        assert (reverse("domains:grant_delete", args=[grant.pk]) in page) is shown
    assert page.count(">Revoke</button>") == 1 and page.count(">Edit</a>") == 1
    assert client.post(reverse("domains:grant_delete", args=[peer.pk])).status_code == 403

    client.force_login(personas.superuser)
    page = client.get(reverse("domains:grants")).content.decode()
    assert page.count(">Revoke</button>") == AdminGrant.objects.count() == 4


@pytest.fixture
def appointing(personas):
    """example.org's admin may appoint admins (unlimited, all capabilities)."""
    services.grant_set(
        origin="test",
        acting_user=None,
        admin=personas.admin_org,
        domains=[personas.org],
        can_create_mailboxes=True,
        can_delete_mailboxes=True,
        can_appoint_admins=True,
    )
    return personas


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
    return services.grant_set(
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
        services.grant_revoke(origin="test", acting_user=Mailbox.objects.get(pk=p.user.pk), admin=p.admin_org)
    assert AdminGrant.objects.filter(admin=p.admin_org).exists()


def test_appointing_admin_cannot_revoke_a_superusers_grant(client, appointing):
    p = appointing
    services.grant_set(origin="test", acting_user=None, admin=p.superuser, domains=[p.org])
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
    services.grant_set(
        origin="test", acting_user=None, admin=p.admin_org, domains=[p.org], can_appoint_admins=True, max_mailboxes=20
    )
    actor = Mailbox.objects.get(pk=p.admin_org.pk)
    with pytest.raises(PermissionDenied):
        services.grant_set(origin="test", acting_user=actor, admin=p.user, domains=[p.org], max_mailboxes=0)
    assert AdminGrant.objects.get(admin=p.user).max_mailboxes == 10


def test_service_refuses_capabilities_left_to_their_defaults(appointing):
    """grant_set without can_delete_mailboxes gave the model default (True) to an admin lacking it."""
    p = appointing
    services.grant_set(
        origin="test",
        acting_user=None,
        admin=p.admin_org,
        domains=[p.org],
        can_appoint_admins=True,
        can_delete_mailboxes=False,
    )
    actor = Mailbox.objects.get(pk=p.admin_org.pk)
    with pytest.raises(PermissionDenied):
        services.grant_set(origin="test", acting_user=actor, admin=p.user, domains=[p.org], can_appoint_admins=False)
    assert not AdminGrant.objects.filter(admin=p.user).exists()


def test_grant_list_does_not_name_domains_the_admin_does_not_manage(client, appointing):
    p = appointing
    factories.domain("secret.example")
    secret = services.get_domain("secret.example")
    services.grant_set(origin="test", acting_user=None, admin=p.user, domains=[p.org, secret])
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


def test_grants_page_shows_the_domains_of_grants_the_appointing_admin_manages(client, personas):
    domains.grant_set(
        origin="test", acting_user=None, admin=personas.admin_org, domains=[personas.org], can_appoint_admins=True
    )
    secret = factories.domain("secret.example")
    domains.grant_set(origin="test", acting_user=None, admin=personas.user, domains=[personas.org, secret])
    client.force_login(personas.admin_org)
    response = client.get(reverse("domains:grants"))
    [grant] = list(response.context["page"])
    assert [d.name for d in grant.domains.all()] == ["example.org"]
    content = response.content.decode()
    assert '<td class="wrap">example.org</td>' in content and "secret.example" not in content
