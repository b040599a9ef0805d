"""Deleted mailboxes of a domain: the list of their archives, and restoring one from the panel."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts import archives, services
from accounts.models import Mailbox, MailboxArchive
from domains import services as domains
from mailadmin.lib.sizes import MB
from mailadmin.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db


def deleted(address, **fields):
    """Create (unless it exists) and delete a mailbox; its archive is pending (mail not yet moved)."""
    if not Mailbox.objects.filter(address=address).exists():
        factories.mailbox(address, **fields)
    services.mailbox_delete(origin="test", acting_user=None, mailbox=services.get_mailbox(address))
    return MailboxArchive.objects.filter(address=address).latest("pk")


def flashes(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def list_url(domain):
    return reverse("accounts:archives", args=[domain.pk])


def restore_url(archive):
    return reverse("accounts:restore", args=[archive.pk])


def test_domain_page_links_the_deleted_mailboxes_with_their_count(client, personas):
    deleted("gone@example.org")
    deleted("left@example.org")
    archives.mailbox_restore(
        origin="test", acting_user=None, archive=deleted("back@example.org")
    )  # restored: not counted
    client.force_login(personas.admin_org)
    page = client.get(reverse("domains:detail", args=[personas.org.pk])).content.decode()
    assert f'href="{list_url(personas.org)}">Deleted mailboxes (2)</a>' in page


def test_the_list_shows_who_deleted_what_when_and_when_the_mail_goes(client, personas, settings):
    settings.MAIL_ARCHIVE_GRACE_DAYS = 30
    factories.mailbox("gone@example.org")
    services.mailbox_delete(
        origin="test", acting_user=personas.admin_org, mailbox=services.get_mailbox("gone@example.org")
    )
    archive = MailboxArchive.objects.get(address="gone@example.org")
    deleted("other@example.net")
    client.force_login(personas.admin_org)
    response = client.get(list_url(personas.org))
    assert response.status_code == 200
    page = response.content.decode()
    assert "gone@example.org" in page and "other@example.net" not in page
    assert "admin@example.org" in page and "Waiting to be archived" in page
    assert timezone.localtime(archive.deleted_at).strftime("%Y-%m-%d %H:%M") in page
    purge = timezone.localtime(archive.deleted_at + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    assert purge in page
    assert f'action="{restore_url(archive)}"' in page
    assert 'data-confirm="Restore gone@example.org with its old password and mail?"' in page
    assert client.post(list_url(personas.org)).status_code == 405


def test_restored_and_purged_ones_only_on_request(client, personas):
    archives.mailbox_restore(origin="test", acting_user=None, archive=deleted("back@example.org"))
    client.force_login(personas.superuser)
    assert "back@example.org" not in client.get(list_url(personas.org)).content.decode()
    page = client.get(list_url(personas.org) + "?all=1").content.decode()
    assert "back@example.org" in page and "Restored" in page and "Restore back@example.org" not in page


def test_admin_restores_a_deleted_mailbox_with_its_password(client, personas):
    archive = deleted("gone@example.org", first_name="Gina", quota_bytes=20 * MB)
    client.force_login(personas.admin_org)
    response = client.post(restore_url(archive))
    assert response["Location"] == list_url(personas.org)
    assert flashes(response) == ["Mailbox gone@example.org restored with its old password and mail."]
    mailbox = Mailbox.objects.get(address="gone@example.org")
    assert (mailbox.first_name, mailbox.quota_bytes) == ("Gina", 20 * MB)
    assert mailbox.check_password(factories.PASSWORD)
    assert AuditEntry.objects.filter(action="mailbox.restore", actor=personas.admin_org).exists()
    assert client.get(restore_url(archive)).status_code == 405


def test_archived_mail_comes_back_with_the_job(client, personas):
    archive = deleted("gone@example.org")
    MailboxArchive.objects.filter(pk=archive.pk).update(state="archived", archive_path=".archive/x")
    client.force_login(personas.superuser)
    response = client.post(restore_url(archive))
    assert "within a minute" in flashes(response)[0]
    assert MailboxArchive.objects.get(pk=archive.pk).state == "restoring"
    assert "Restore gone@example.org" not in client.get(list_url(personas.org)).content.decode()


def test_outsiders_get_404(client, personas):
    archive = deleted("gone@example.org")
    client.force_login(personas.admin_net)
    assert client.get(list_url(personas.org)).status_code == 404
    assert client.post(restore_url(archive)).status_code == 404
    client.force_login(personas.admin_org)
    other = deleted("bob@example.net")
    assert client.get(list_url(personas.net)).status_code == 404
    assert client.post(restore_url(other)).status_code == 404
    client.force_login(personas.user)
    assert client.get(list_url(personas.org)).status_code == 404
    assert client.post(restore_url(archive)).status_code == 404
    assert MailboxArchive.objects.filter(state="pending").count() == 2
    assert not Mailbox.objects.filter(address__in=["gone@example.org", "bob@example.net"]).exists()


def test_admin_without_the_create_capability_cannot_restore(client, personas):
    archive = deleted("gone@example.org")
    domains.grant_set(
        origin="test", acting_user=None, admin=personas.admin_org, domains=[personas.org], can_create_mailboxes=False
    )
    client.force_login(personas.admin_org)
    page = client.get(list_url(personas.org)).content.decode()
    assert "gone@example.org" in page and "Restore gone@example.org" not in page
    assert client.post(restore_url(archive)).status_code == 403
    assert MailboxArchive.objects.get(pk=archive.pk).state == "pending"


@pytest.mark.parametrize("role", ["superuser", "admin"])
def test_admin_cannot_restore_a_mailbox_that_outranked_it(client, personas, role):
    factories.mailbox("boss@example.org")
    if role == "superuser":
        services.superuser_create(origin="test", address="boss@example.org", password=None)
    else:
        domains.grant_set(
            origin="test", acting_user=None, admin=services.get_mailbox("boss@example.org"), domains=[personas.org]
        )
    archive = deleted("boss@example.org")
    assert archive.settings["role"] == role
    client.force_login(personas.admin_org)
    page = client.get(list_url(personas.org)).content.decode()
    assert f'boss@example.org <span class="badge">{role}</span>' in page and "Restore boss@example.org" not in page
    assert client.post(restore_url(archive)).status_code == 403
    assert not Mailbox.objects.filter(address="boss@example.org").exists()
    client.force_login(personas.superuser)
    assert client.post(restore_url(archive)).status_code == 302
    restored = Mailbox.objects.get(address="boss@example.org")
    assert not restored.is_superuser and not hasattr(restored, "grant")  # status is never restored


def test_an_archive_without_a_recorded_role_is_for_superusers(client, personas):
    archive = deleted("gone@example.org")
    MailboxArchive.objects.filter(pk=archive.pk).update(
        settings={"quota_bytes": 10 * MB}
    )  # made before roles were kept
    client.force_login(personas.admin_org)
    assert client.post(restore_url(archive)).status_code == 403
    client.force_login(personas.superuser)
    assert client.post(restore_url(archive)).status_code == 302
    assert Mailbox.objects.filter(address="gone@example.org").exists()


def test_domain_limit_refusal_is_a_clear_message(client, personas):
    archive = deleted("gone@example.org")
    domains.domain_update(origin="test", acting_user=None, domain=personas.org, max_mailboxes=3)  # root, admin, user
    client.force_login(personas.admin_org)
    response = client.post(restore_url(archive))
    assert response["Location"] == list_url(personas.org)
    assert flashes(response) == [
        "gone@example.org was not restored: example.org may have at most 3 mailboxes and has 3."
    ]
    assert MailboxArchive.objects.get(pk=archive.pk).state == "pending"
    assert not Mailbox.objects.filter(address="gone@example.org").exists()


def test_grant_limit_refusal_names_no_other_admin(client, personas):
    """Another admin's grant also covers the domain: its limit refuses, without naming it."""
    archive = deleted("gone@example.org", quota_bytes=50 * MB)
    MailboxArchive.objects.filter(pk=archive.pk).update(state="archived")  # the path the job finishes
    Mailbox.objects.filter(domain__isnull=False).update(quota_bytes=10 * MB)  # 40 MB in all
    domains.grant_set(
        origin="test",
        acting_user=None,
        admin=personas.admin_net,
        domains=[personas.net, personas.org],
        quota_bytes=40 * MB,
    )
    client.force_login(personas.admin_org)
    [message] = flashes(client.post(restore_url(archive)))
    assert message.startswith("gone@example.org was not restored: ") and "not enough quota left" in message
    assert "admin@example.net" not in message
    assert MailboxArchive.objects.get(pk=archive.pk).state == "archived"


def test_no_restore_after_the_grace_period(client, personas, settings):
    archive = deleted("gone@example.org")
    MailboxArchive.objects.filter(pk=archive.pk).update(
        deleted_at=timezone.now() - timedelta(days=settings.MAIL_ARCHIVE_GRACE_DAYS, minutes=1)
    )
    client.force_login(personas.superuser)
    assert "Restore gone@example.org" not in client.get(list_url(personas.org)).content.decode()
    [message] = flashes(client.post(restore_url(archive)))
    assert "grace period" in message
    assert not Mailbox.objects.filter(address="gone@example.org").exists()
