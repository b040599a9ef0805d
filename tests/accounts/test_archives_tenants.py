"""A domain deleted and made again starts with no past: its old deleted mailboxes and history stay apart.

Personas as in STYLE.md. ``shop.example`` is a customer's domain that a superuser deletes
with ``--force`` and creates again for someone else within the grace period.
"""

import importlib
import json
from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts import archives
from accounts import services as accounts
from accounts.models import Mailbox, MailboxArchive
from domains import services as domains
from mailadmin.models import AuditEntry
from tests import factories
from tests.maildirs import make_maildir, tree

pytestmark = pytest.mark.django_db

OLD_PASSWORD = "the old owner's secret 1"


def login(client, address, password):
    return client.post(reverse("login"), {"username": address, "password": password})


def _delete_and_recreate_shop(personas):
    """shop.example with the old owner's mailboxes, deleted with --force, then made again for
    example.net's admin; returns the new domain."""
    factories.domain("shop.example")
    factories.mailbox("boss@shop.example", password=OLD_PASSWORD)
    factories.mailbox("gone@shop.example", password=OLD_PASSWORD, first_name="Olga")
    accounts.mailbox_delete(origin="test", acting_user=None, mailbox=accounts.get_mailbox("gone@shop.example"))
    domains.domain_delete(origin="test", acting_user=None, domain=domains.get_domain("shop.example"), force=True)
    new = factories.domain("shop.example")
    domains.grant_set(origin="test", acting_user=None, admin=personas.admin_net, domains=[personas.net, new])
    return new


@pytest.fixture
def recreated(personas):
    personas.shop = _delete_and_recreate_shop(personas)
    return personas


def admin_of_new_shop(p):
    return Mailbox.objects.get(pk=p.admin_net.pk)


# --- 1. a re-created domain starts with no past ------------------------------------------------


def test_new_domain_of_an_old_name_lists_none_of_the_old_deleted_mailboxes(client, recreated):
    p = recreated
    client.force_login(p.admin_net)
    page = client.get(reverse("accounts:archives", args=[p.shop.pk])).content.decode()
    assert "gone@shop.example" not in page and "boss@shop.example" not in page
    page = client.get(reverse("accounts:archives", args=[p.shop.pk]) + "?all=1").content.decode()
    assert "gone@shop.example" not in page
    detail = client.get(reverse("domains:detail", args=[p.shop.pk])).content.decode()
    assert "Deleted mailboxes (0)" in detail


def test_its_admin_cannot_restore_the_old_owners_mailbox(client, recreated):
    p = recreated
    old = MailboxArchive.objects.get(address="gone@shop.example")
    client.force_login(p.admin_net)
    assert client.post(reverse("accounts:restore", args=[old.pk])).status_code == 404
    with pytest.raises(ValidationError, match="no longer exists"):
        archives.mailbox_restore(origin="test", acting_user=admin_of_new_shop(p), archive=old)
    with pytest.raises(PermissionDenied):  # naming the domain is for superusers only
        archives.mailbox_restore(origin="test", acting_user=admin_of_new_shop(p), archive=old, into=p.shop)
    assert not Mailbox.objects.filter(address="gone@shop.example").exists()
    assert MailboxArchive.objects.get(pk=old.pk).state == "pending"
    assert factories.authenticate("gone@shop.example", OLD_PASSWORD) is None


def test_its_admin_reads_none_of_the_old_owners_audit_history(client, recreated):
    p = recreated
    client.force_login(p.admin_net)
    page = client.get(reverse("audit"), {"q": "shop.example"})
    content = page.content.decode()
    assert "boss@shop.example" not in content and "gone@shop.example" not in content
    assert "domain.delete" not in content
    entries = list(page.context["page"])
    assert entries and all(e.domain_id == p.shop.pk for e in entries)  # its own: domain.create, grant.set
    client.force_login(p.superuser)  # superusers still see all of it, with the old domain's name
    content = client.get(reverse("audit"), {"q": "shop.example"}).content.decode()
    assert "gone@shop.example" in content and "domain.delete" in content


def test_the_job_never_restores_into_a_new_domain_that_merely_has_the_name(recreated_store):
    """A restore requested before the domain was deleted and made again must not land in the new one."""
    p, store = recreated_store
    assert not Mailbox.objects.filter(address="late@shop.example").exists()
    result = archives.mailstore_run(store=store)
    assert result["restored"] == 0 and "was deleted" in result["errors"][0]
    archive = MailboxArchive.objects.get(address="late@shop.example")
    assert archive.state == "archived" and (store / archive.archive_path / "new").is_dir()
    assert not Mailbox.objects.filter(address="late@shop.example").exists()


@pytest.fixture
def recreated_store(personas, tmp_path, settings):
    store = tmp_path / "vmail"
    store.mkdir()
    settings.MAIL_STORE = store
    factories.domain("shop.example")
    factories.mailbox("late@shop.example", password=OLD_PASSWORD)
    make_maildir(store / "shop.example/late", [b"Subject: old\n\nold mail\n"])
    accounts.mailbox_delete(origin="test", acting_user=None, mailbox=accounts.get_mailbox("late@shop.example"))
    archives.mailstore_run(store=store)
    archives.mailbox_restore(
        origin="test", acting_user=None, archive=archives.get_archive("late@shop.example")
    )  # restoring
    domains.domain_delete(origin="test", acting_user=None, domain=domains.get_domain("shop.example"), force=True)
    personas.shop = factories.domain("shop.example")
    return personas, store


def test_superuser_restores_an_archive_of_a_deleted_domain_explicitly_on_the_cli(recreated_store):
    p, store = recreated_store
    old_mail = tree(store / MailboxArchive.objects.get().archive_path)
    archives.mailstore_run(store=store)  # the job finds its domain gone: archived again
    with pytest.raises(CommandError, match="--into-domain"):
        call_command("mailstore", "restore", "late@shop.example", "--store", str(store), stdout=StringIO())
    out = StringIO()
    call_command(
        "mailstore", "restore", "late@shop.example", "--into-domain", "shop.example", "--store", str(store),
        "--json", stdout=out,
    )  # fmt: skip
    assert json.loads(out.getvalue())["state"] == "restored"
    restored = Mailbox.objects.get(address="late@shop.example")
    assert restored.domain_id == p.shop.pk and restored.check_password(OLD_PASSWORD)
    assert tree(store / "shop.example/late") == old_mail
    entry = AuditEntry.objects.filter(action="mailbox.restore").latest("pk")
    assert (entry.domain_id, entry.before["domain"], entry.after["domain"]) == (p.shop.pk, None, p.shop.pk)


def test_superuser_may_restore_into_a_domain_of_another_name(recreated_store):
    p, store = recreated_store
    archives.mailstore_run(store=store)
    other = factories.domain("new-shop.example")
    archive = archives.get_archive("late@shop.example")
    archives.mailbox_restore(origin="test", acting_user=p.superuser, archive=archive, into=other)
    assert archives.mailstore_run(store=store)["restored"] == 1
    restored = Mailbox.objects.get(address="late@new-shop.example")
    assert restored.check_password(OLD_PASSWORD)
    assert (store / "new-shop.example/late/new").is_dir()


def test_into_is_only_for_an_archive_whose_domain_is_gone(personas):
    factories.mailbox("gone@example.org")
    accounts.mailbox_delete(origin="test", acting_user=None, mailbox=accounts.get_mailbox("gone@example.org"))
    archive = archives.get_archive("gone@example.org")
    with pytest.raises(ValidationError, match="which exists"):
        archives.mailbox_restore(origin="test", acting_user=None, archive=archive, into=personas.net)
    assert not Mailbox.objects.filter(domain=personas.net, local_part="gone").exists()


def test_superuser_restores_one_into_the_new_domain_from_its_deleted_mailboxes_page(client, recreated):
    p = recreated
    old = MailboxArchive.objects.get(address="gone@shop.example")
    url = reverse("accounts:restore_into", args=[p.shop.pk, old.pk])
    list_url = reverse("accounts:archives", args=[p.shop.pk])
    client.force_login(p.admin_net)  # the new domain's admin: neither the list nor the action
    assert url not in client.get(list_url).content.decode()
    assert client.post(url).status_code == 403
    for outsider in (p.admin_org, p.user):
        client.force_login(outsider)
        assert client.post(url).status_code == 404
    assert not Mailbox.objects.filter(address="gone@shop.example").exists()
    client.force_login(p.superuser)
    page = client.get(list_url).content.decode()
    assert "Of an earlier domain shop.example" in page and f'action="{url}"' in page
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == list_url
    restored = Mailbox.objects.get(address="gone@shop.example")
    assert (restored.domain_id, restored.first_name) == (p.shop.pk, "Olga")
    other = reverse("accounts:restore_into", args=[p.org.pk, old.pk])  # restored now, and another name
    assert client.post(other).status_code == 404


def test_migrations_link_existing_rows_to_the_domain_of_their_time(personas):
    """Rows written before the domain of that name was (re)created stay with no domain."""
    org = personas.org
    AuditEntry.objects.update(domain=None)
    MailboxArchive.objects.create(
        address="x@example.org", domain_name="example.org", local_part="x", maildir="example.org/x/",
        deleted_at=org.created, settings={},
    )  # fmt: skip
    older = AuditEntry.objects.create(actor_label="system", origin="cli", action="x", object_type="x",
                                      object_repr="older", domain_name="example.org")  # fmt: skip
    AuditEntry.objects.filter(pk=older.pk).update(created=org.created.replace(year=org.created.year - 1))
    importlib.import_module("mailadmin.migrations.0004_audit_entry_domain").link_domains(apps, None)
    importlib.import_module("accounts.migrations.0004_archive_domain").link_domains(apps, None)
    assert AuditEntry.objects.get(pk=older.pk).domain_id is None
    linked = AuditEntry.objects.filter(domain_name="example.org").exclude(pk=older.pk)
    assert linked.exists() and set(linked.values_list("domain_id", flat=True)) == {org.pk}
    assert MailboxArchive.objects.get(address="x@example.org").domain_id == org.pk
