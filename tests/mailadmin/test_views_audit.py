"""The audit log pages: everything for superusers, their domains' entries for admins."""

import pytest
from django.urls import reverse

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
    from mailadmin.models import AuditEntry

    entry = AuditEntry.objects.filter(action="mailbox.update").latest("id")
    assert (entry.origin, entry.actor, entry.domain, entry.domain_name) == (
        "192.0.2.55",
        personas.admin_org,
        personas.org,
        "example.org",
    )
