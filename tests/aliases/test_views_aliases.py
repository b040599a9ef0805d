"""Alias pages: create one or many (all or nothing), destinations, on/off, delete."""

import pytest
from django.urls import reverse

from aliases.models import Alias
from tests import factories

pytestmark = pytest.mark.django_db


def test_create_alias_and_catchall(client, personas):
    client.force_login(personas.admin_org)
    url = reverse("aliases:create", args=[personas.org.pk])
    assert client.get(url).status_code == 200
    assert (
        client.post(url, {"local_part": "Sales", "destinations": "user, root@example.org", "active": "on"}).status_code
        == 302
    )
    assert Alias.objects.get(address="sales@example.org").destination_list == ["user@example.org", "root@example.org"]
    client.post(url, {"local_part": "", "destinations": "user", "active": "on"})
    assert Alias.objects.get(address="@example.org").is_catchall
    response = client.post(url, {"local_part": "user", "destinations": "root"})
    assert response.status_code == 200 and "already exists as a mailbox" in response.content.decode()


def test_bulk_aliases_all_or_nothing(client, personas):
    client.force_login(personas.admin_org)
    url = reverse("aliases:bulk_create", args=[personas.org.pk])
    response = client.post(url, {"lines": "sales user,root\ninfo bad@@x\nuser root\nnodest"})
    text = " ".join(response.context["form"].errors.get("lines", []))
    assert "Line 4" in text
    response = client.post(url, {"lines": "sales user,root\ninfo bad@@x\nuser root"})
    text = " ".join(response.context["form"].non_field_errors())
    assert "Line 2 (info)" in text and "Line 3 (user)" in text and "Line 1" not in text
    assert not Alias.objects.exists()
    response = client.post(url, {"lines": "sales user,root\n@ user\nteam anna@elsewhere.example"})
    assert response.status_code == 302
    assert set(Alias.objects.values_list("address", flat=True)) == {
        "sales@example.org",
        "@example.org",
        "team@example.org",
    }


def test_alias_destinations_toggle_delete_and_outsider(client, personas):
    alias = factories.alias("info@example.org", "user")
    client.force_login(personas.admin_net)
    assert client.get(reverse("aliases:detail", args=[alias.pk])).status_code == 404
    assert client.post(reverse("aliases:delete", args=[alias.pk])).status_code == 404
    client.force_login(personas.admin_org)
    url = reverse("aliases:detail", args=[alias.pk])
    assert client.post(url, {"destinations": "root\nuser"}).status_code == 302
    alias.refresh_from_db()
    assert alias.destination_list == ["root@example.org", "user@example.org"]
    response = client.post(url, {"destinations": "info"})
    assert response.status_code == 200 and "itself" in response.content.decode()
    assert client.get(reverse("aliases:toggle", args=[alias.pk])).status_code == 405
    client.post(reverse("aliases:toggle", args=[alias.pk]))
    alias.refresh_from_db()
    assert not alias.active
    client.post(reverse("aliases:delete", args=[alias.pk]))
    assert not Alias.objects.exists()
