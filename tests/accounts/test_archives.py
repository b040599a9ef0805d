"""Deleting a mailbox archives its mail; restore within the grace period; purge after it."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts import archives, services, usage
from accounts.models import Mailbox, MailboxArchive
from domains import services as domains
from mailadmin.lib.sizes import MB
from tests import factories
from tests.dbutil import login_ok, lookup
from tests.maildirs import make_maildir, tree

OLD_PASSWORD, NEW_PASSWORD = "old secret 123", "new secret 456"


@pytest.fixture
def user(db, store):
    factories.domain("example.org")
    mailbox = factories.mailbox("user@example.org", password=OLD_PASSWORD, quota_bytes=50 * MB, first_name="Ann")
    make_maildir(store / "example.org/user", [b"Subject: one\n\nold mail\n", b"Subject: two\n\nmore\n"])
    return mailbox


def delete(address):
    services.mailbox_delete(origin="test", acting_user=None, mailbox=services.get_mailbox(address))


def test_delete_archives_the_maildir_and_recreate_starts_empty(user, store):
    old_mail = tree(store / "example.org/user")
    delete("user@example.org")
    archive = MailboxArchive.objects.get(address="user@example.org")
    assert archive.state == "pending" and (store / "example.org/user").is_dir()  # nothing moved yet
    assert lookup("lookup_mailboxes_v1", "address", "user@example.org") is None
    with pytest.raises(ValidationError, match="still being archived"):
        factories.mailbox("user@example.org")  # would see the old mail

    assert archives.mailstore_run(store=store) == {"archived": 1, "restored": 0, "purged": 0, "errors": []}
    archive.refresh_from_db()
    assert archive.state == "archived"
    assert archive.archive_path.startswith(".archive/example.org/user-")
    assert tree(store / archive.archive_path) == old_mail
    assert not (store / "example.org/user").exists()

    factories.mailbox("user@example.org", password=NEW_PASSWORD)
    assert not (store / "example.org/user").exists()  # the new mailbox starts empty
    usage.mailbox_usage_refresh(store=store)
    assert Mailbox.objects.get(address="user@example.org").message_count == 0
    assert not login_ok("user@example.org", OLD_PASSWORD)
    assert archives.mailstore_run(store=store)["archived"] == 0  # idempotent


def test_restore_brings_back_mailbox_settings_password_and_mail(user, store):
    old_mail = tree(store / "example.org/user")
    delete("user@example.org")
    archives.mailstore_run(store=store)
    archive = archives.mailbox_restore(
        origin="test", acting_user=None, archive=archives.get_archive("user@example.org")
    )
    assert archive.state == "restoring"
    assert not Mailbox.objects.filter(address="user@example.org").exists()  # not before its mail is back

    assert archives.mailstore_run(store=store)["restored"] == 1
    restored = Mailbox.objects.get(address="user@example.org")
    assert (restored.quota_bytes, restored.first_name) == (50 * MB, "Ann")
    assert tree(store / "example.org/user") == old_mail
    assert login_ok("user@example.org", OLD_PASSWORD)
    archive.refresh_from_db()
    assert archive.state == "restored" and archive.password == ""


def test_restore_before_the_job_ran_is_immediate(user, store):
    delete("user@example.org")
    archives.mailbox_restore(origin="test", acting_user=None, archive=archives.get_archive("user@example.org"))
    assert Mailbox.objects.filter(address="user@example.org").exists()
    assert (store / "example.org/user/new").is_dir()
    assert archives.mailstore_run(store=store)["archived"] == 0


def test_restore_refused_when_the_address_is_taken(user, store):
    delete("user@example.org")
    archives.mailstore_run(store=store)
    factories.alias("user@example.org", "other@example.net")
    with pytest.raises(ValidationError, match="in use again"):
        archives.mailbox_restore(origin="test", acting_user=None, archive=archives.get_archive("user@example.org"))


def test_purge_after_the_grace_period(user, store, settings):
    settings.MAIL_ARCHIVE_GRACE_DAYS = 7
    delete("user@example.org")
    archives.mailstore_run(store=store)
    archive = MailboxArchive.objects.get()
    assert archives.mailstore_run(store=store, now=timezone.now() + timedelta(days=6))["purged"] == 0
    assert (store / archive.archive_path).is_dir()

    assert archives.mailstore_run(store=store, now=timezone.now() + timedelta(days=7, minutes=1))["purged"] == 1
    archive.refresh_from_db()
    assert archive.state == "purged" and archive.password == ""
    assert not (store / archive.archive_path).exists()
    assert (store / ".archive/example.org").is_dir()
    with pytest.raises(ValidationError, match="No deleted mailbox"):
        archives.get_archive("user@example.org")


def test_restore_refused_after_the_grace_period(user, store, settings):
    delete("user@example.org")
    MailboxArchive.objects.update(deleted_at=timezone.now() - timedelta(days=settings.MAIL_ARCHIVE_GRACE_DAYS + 1))
    with pytest.raises(ValidationError, match="grace period"):
        archives.mailbox_restore(origin="test", acting_user=None, archive=archives.get_archive("user@example.org"))


def test_domain_delete_archives_every_mailbox(user, store):
    domains.domain_delete(origin="test", acting_user=None, domain=domains.get_domain("example.org"), force=True)
    assert list(MailboxArchive.objects.values_list("address", "state")) == [("user@example.org", "pending")]
    archives.mailstore_run(store=store)
    assert not (store / "example.org/user").exists()


def test_cli_delete_run_restore(user, store):
    call_command("mailbox", "delete", "user@example.org", stdout=StringIO())
    call_command("mailstore", "run", "--quiet", stdout=StringIO())
    out = StringIO()
    call_command("mailstore", "archives", "--json", stdout=out)
    assert json.loads(out.getvalue())[0]["state"] == "archived"
    out = StringIO()
    call_command("mailstore", "restore", "user@example.org", "--json", stdout=out)
    assert json.loads(out.getvalue())["state"] == "restored"
    assert (store / "example.org/user/new").is_dir()
    with pytest.raises(CommandError, match="No deleted mailbox"):
        call_command("mailstore", "restore", "user@example.org", stdout=StringIO())


def test_a_failed_move_is_reported_and_retried(user, store):
    delete("user@example.org")
    archives.mailstore_run(store=store)
    archive = MailboxArchive.objects.get()
    archives.mailbox_restore(origin="test", acting_user=None, archive=archive)
    (store / "example.org/user").mkdir()  # something is in the way
    (store / "example.org/user/stray").write_text("x")
    result = archives.mailstore_run(store=store)
    assert result["restored"] == 0 and "already exists" in result["errors"][0]
    archive.refresh_from_db()
    assert archive.state == "restoring" and "already exists" in archive.note
    (store / "example.org/user/stray").unlink()
    (store / "example.org/user").rmdir()
    assert archives.mailstore_run(store=store)["restored"] == 1


def test_address_taken_between_request_and_job_keeps_the_archive(user, store):
    delete("user@example.org")
    archives.mailstore_run(store=store)
    archive = archives.mailbox_restore(
        origin="test", acting_user=None, archive=archives.get_archive("user@example.org")
    )
    factories.alias("user@example.org", "other@example.net")
    result = archives.mailstore_run(store=store)
    assert "already exists as an alias" in result["errors"][0]
    archive.refresh_from_db()
    assert archive.state == "archived" and (store / archive.archive_path / "new").is_dir()
    assert not (store / "example.org/user").exists()


def test_restore_checks_the_limits_when_asked_not_only_when_the_job_runs(user, store):
    delete("user@example.org")
    archives.mailstore_run(store=store)
    domains.domain_update(
        origin="test",
        acting_user=None,
        domain=domains.get_domain("example.org"),
        max_quota_bytes=20 * MB,
        default_quota_bytes=20 * MB,
    )
    with pytest.raises(ValidationError, match="at most 20 MB"):  # it had 50 MB
        archives.mailbox_restore(origin="test", acting_user=None, archive=archives.get_archive("user@example.org"))
    assert MailboxArchive.objects.get().state == "archived"


def test_the_archive_records_the_role_and_only_superusers_restore_outranking_ones(user, store):
    from django.core.exceptions import PermissionDenied

    domain = domains.get_domain("example.org")
    admin = factories.mailbox("admin@example.org")
    domains.grant_set(origin="test", acting_user=None, admin=admin, domains=[domain])
    boss = factories.mailbox("boss@example.org")
    domains.grant_set(origin="test", acting_user=None, admin=boss, domains=[domain])
    delete("boss@example.org")
    delete("user@example.org")
    assert dict(MailboxArchive.objects.values_list("address", "settings__role")) == {
        "boss@example.org": "admin",
        "user@example.org": "user",
    }
    admin = Mailbox.objects.get(pk=admin.pk)
    with pytest.raises(PermissionDenied):
        archives.mailbox_restore(origin="test", acting_user=admin, archive=archives.get_archive("boss@example.org"))
    archives.mailbox_restore(origin="test", acting_user=admin, archive=archives.get_archive("user@example.org"))
    assert Mailbox.objects.filter(address="user@example.org").exists()
    assert not Mailbox.objects.filter(address="boss@example.org").exists()


def test_no_new_mailbox_at_an_address_being_restored(user, store):
    delete("user@example.org")
    archives.mailstore_run(store=store)
    archives.mailbox_restore(origin="test", acting_user=None, archive=archives.get_archive("user@example.org"))
    with pytest.raises(ValidationError, match="is being restored"):  # its mail moves back into that maildir
        factories.mailbox("user@example.org", password=NEW_PASSWORD)
    assert archives.mailstore_run(store=store)["restored"] == 1
    assert login_ok("user@example.org", OLD_PASSWORD)
