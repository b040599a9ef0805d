"""The audit log pages: everything for superusers, their domains' entries for admins."""

import pytest
from django.test import Client
from django.urls import reverse

from mailadmin.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db


def test_audit_visibility_and_search(client, personas):
    factories.alias("info@example.net", "admin")
    client.force_login(personas.superuser)
    entries = client.get(reverse("audit")).context["page"].paginator.count
    assert entries > 0
    assert all(
        "example.net" in e.domain_name for e in client.get(reverse("audit"), {"q": "info@example.net"}).context["page"]
    )
    client.force_login(personas.admin_org)
    page = client.get(reverse("audit")).context["page"]
    assert page.paginator.count < entries
    assert {(e.domain_id, e.domain_name) for e in page} == {(personas.org.pk, "example.org")}
    client.force_login(personas.user)
    assert client.get(reverse("audit")).status_code == 403
    client.force_login(personas.superuser)
    assert client.post(reverse("audit")).status_code == 405


def test_panel_changes_are_logged_with_the_client_address(client, personas):
    client.force_login(personas.admin_org)
    client.post(reverse("accounts:toggle", args=[personas.user.pk, "active"]), REMOTE_ADDR="192.0.2.55")

    entry = AuditEntry.objects.filter(action="mailbox.update").latest("id")
    assert (entry.origin, entry.actor, entry.domain, entry.domain_name) == (
        "192.0.2.55",
        personas.admin_org,
        personas.org,
        "example.org",
    )


def test_admins_see_the_client_address_of_their_own_actions_only(client, personas):
    root, admin = Client(REMOTE_ADDR="198.51.100.7"), Client(REMOTE_ADDR="192.0.2.55")
    root.force_login(personas.superuser)
    admin.force_login(personas.admin_org)
    root.post(reverse("accounts:toggle", args=[personas.user.pk, "may_relay"]))
    admin.post(reverse("accounts:toggle", args=[personas.user.pk, "filtering"]))
    content = admin.get(reverse("audit")).content.decode()
    assert "root@example.org" in content and "198.51.100.7" not in content
    assert "192.0.2.55" in content
    content = root.get(reverse("audit")).content.decode()
    assert "198.51.100.7" in content and "192.0.2.55" in content
