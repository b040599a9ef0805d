import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import services
from accounts.models import Mailbox
from mailadmin.lib.sizes import MB
from mailadmin.models import AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_mailbox_is_the_login_identity_with_a_dovecot_hash():
    f.domain("example.org")
    box = f.mailbox("Alice@Example.ORG", password="s3cret pass")
    assert box.address == "alice@example.org" and box.maildir == "example.org/alice/"
    assert box.password.startswith("{ARGON2ID}$argon2id$")
    assert f.authenticate(username="ALICE@example.org", password="s3cret pass") == box
    assert f.authenticate(username="alice@example.org", password="wrong") is None
    assert f.authenticate(username="alice@example.org", password=box.password) is None


def test_the_clear_text_password_is_never_stored_or_audited():
    f.domain("example.org")
    f.mailbox("alice@example.org", password="Unique-Clear-Text-42")
    for entry in AuditEntry.objects.all():
        assert "Unique-Clear-Text-42" not in str(entry.before) + str(entry.after)
        assert "password" not in (entry.after or {})
    assert not Mailbox.objects.filter(password__contains="Unique-Clear-Text-42").exists()


def test_legacy_hash_is_rehashed_at_the_next_successful_login(settings):
    f.domain("example.org")
    box = f.mailbox("alice@example.org")
    services.mailbox_set_password_hash(
        origin="test", acting_user=None, mailbox=box, password_hash="5f4dcc3b5aa765d61d8327deb882cf99"
    )  # md5("password")
    box.refresh_from_db()
    assert box.password == "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"
    assert f.authenticate(username="alice@example.org", password="wrong") is None
    box.refresh_from_db()
    assert box.password.startswith("{PLAIN-MD5}")  # a failed login changes nothing
    assert f.authenticate(username="alice@example.org", password="password") is not None
    box.refresh_from_db()
    assert box.password.startswith("{ARGON2ID}")
    assert f.authenticate(username="alice@example.org", password="password") is not None


def test_unknown_hash_schemes_are_refused_on_import():
    f.domain("example.org")
    box = f.mailbox("alice@example.org")
    before = box.password
    with pytest.raises(ValidationError, match="Unknown password scheme"):
        services.mailbox_set_password_hash(origin="test", acting_user=None, mailbox=box, password_hash="{ROT13}frperg")
    box.refresh_from_db()
    assert box.password == before


@pytest.mark.parametrize("scheme", ["BLF-CRYPT", "SHA512-CRYPT"])
def test_the_scheme_for_new_hashes_is_a_setting(settings, scheme):
    settings.MAIL_PASSWORD_SCHEME = scheme
    settings.MAIL_BCRYPT_ROUNDS = 4
    f.domain("example.org")
    box = f.mailbox("alice@example.org", password="s3cret pass")
    assert box.password.startswith("{%s}" % scheme)
    assert f.authenticate(username="alice@example.org", password="s3cret pass") == box


def test_an_inactive_mailbox_cannot_log_in_to_the_panel():
    f.domain("example.org")
    f.mailbox("alice@example.org", password="s3cret pass", active=False)
    assert f.authenticate(username="alice@example.org", password="s3cret pass") is None


def test_mailbox_and_alias_never_share_an_address():
    f.domain("example.org")
    f.alias("info@example.org", "a@example.net")
    with pytest.raises(ValidationError, match="already exists as an alias"):
        f.mailbox("info@example.org")
    f.mailbox("bob@example.org")
    with pytest.raises(ValidationError, match="already exists as a mailbox"):
        f.alias("BOB@example.org", "a@example.net")


def test_case_insensitive_uniqueness():
    f.domain("example.org")
    f.mailbox("alice@example.org")
    with pytest.raises(ValidationError, match="already exists"):
        f.mailbox("ALICE@example.org")
    assert Mailbox.objects.count() == 1


def test_new_mailboxes_take_the_domain_defaults():
    f.domain("example.org", default_may_relay=False, max_quota_bytes=500 * MB, default_quota_bytes=100 * MB)
    box = f.mailbox("alice@example.org")
    assert box.quota_bytes == 100 * MB and box.may_relay is False


def test_end_users_and_outranked_admins_cannot_manage_others(personas):
    with pytest.raises(PermissionDenied):
        services.mailbox_update(
            origin="test", acting_user=personas.user, mailbox=personas.admin_org, quota_bytes=1 * MB
        )
    with pytest.raises(PermissionDenied):  # a superuser's mailbox inside the admin's own domain
        services.mailbox_set_password(
            origin="test", acting_user=personas.admin_org, mailbox=personas.superuser, password="taken over!"
        )
    with pytest.raises(PermissionDenied):
        services.mailbox_delete(origin="test", acting_user=personas.admin_org, mailbox=personas.superuser)
    with pytest.raises(PermissionDenied):  # another domain
        services.mailbox_update(origin="test", acting_user=personas.admin_net, mailbox=personas.user, active=False)
    personas.user.refresh_from_db()
    assert personas.user.active
    services.mailbox_update(origin="test", acting_user=personas.admin_org, mailbox=personas.user, first_name="Ann")
    assert Mailbox.objects.get(pk=personas.user.pk).first_name == "Ann"


def test_superuser_status_is_granted_as_a_panel_only_account_when_there_is_no_mailbox():
    user = services.superuser_create(origin="test", address="Root@Admin.Example", password="long enough secret")
    assert user.is_superuser and not user.has_mailbox and user.address == "root@admin.example"
    assert f.authenticate(username="root@admin.example", password="long enough secret") == user
    with pytest.raises(ValidationError, match="last superuser"):
        services.superuser_revoke(origin="test", address="root@admin.example")


def test_the_last_active_superuser_cannot_be_switched_off(personas):
    root = personas.superuser
    with pytest.raises(ValidationError, match="last active superuser") as refused:
        services.mailbox_update(origin="test", acting_user=root, mailbox=root, active=False)
    assert "active" in refused.value.message_dict
    with pytest.raises(ValidationError, match="last active superuser"):  # the command line too, and in bulk
        services.mailbox_bulk_update(origin="test", acting_user=None, mailboxes=[personas.user, root], active=False)
    assert Mailbox.objects.get(pk=root.pk).active and Mailbox.objects.get(pk=personas.user.pk).active

    other = services.superuser_create(origin="test", address="ops@example.net", password="long enough secret")
    services.mailbox_update(origin="test", acting_user=None, mailbox=other, active=False)
    with pytest.raises(ValidationError, match="last active superuser"):  # an inactive one does not count
        services.mailbox_update(origin="test", acting_user=root, mailbox=root, active=False)
    services.mailbox_update(origin="test", acting_user=root, mailbox=other, active=True)
    services.mailbox_update(origin="test", acting_user=other, mailbox=root, active=False)  # another is active now
    assert not Mailbox.objects.get(pk=root.pk).active
    services.mailbox_update(origin="test", acting_user=None, mailbox=personas.user, active=False)  # end users as before


# --- superuser status: the command line only, also at the service layer -------------------------


def test_superuser_services_refuse_panel_actors(personas):
    with pytest.raises(PermissionDenied):
        services.superuser_create(
            origin="test", address=personas.user.address, password=None, acting_user=personas.admin_org
        )
    with pytest.raises(PermissionDenied):
        services.superuser_create(
            origin="test", address=personas.user.address, password=None, acting_user=personas.superuser
        )
    assert not Mailbox.objects.get(pk=personas.user.pk).is_superuser
    services.superuser_create(origin="test", address=personas.admin_net.address, password=None)
    with pytest.raises(PermissionDenied):
        services.superuser_revoke(origin="test", address=personas.admin_net.address, acting_user=personas.admin_org)
    assert Mailbox.objects.get(pk=personas.admin_net.pk).is_superuser
