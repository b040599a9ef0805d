"""Admin grant pages: superusers delegate domains; appointing admins within their own grant."""

import pytest
from django.urls import reverse

from domains import services
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
