"""App passwords in the panel, the CLI and the lookup data: who may create and revoke them, what a
bad or hostile name or protocol gets, the limit, the same form posted twice at once, and what
Dovecot's view and lookup table say (the logins themselves: tests/mailstack/test_app_passwords.py)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import apppasswords
from accounts.models import AppPassword
from domains import services as domains
from mailadmin.lib import passwords
from mailadmin.models import AuditEntry
from mailserver import lookup
from tests.dbutil import at_once

pytestmark = pytest.mark.django_db


def create(mailbox, name="phone", protocols=("imap",), acting_user="self"):
    actor = mailbox if acting_user == "self" else acting_user
    return apppasswords.create(acting_user=actor, mailbox=mailbox, name=name, protocols=protocols, origin="test")


def view_row(key_id):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT address, password, imap, pop3, smtp, sieve FROM lookup_app_passwords_v2 WHERE key_id = %s", [key_id]
        )
        return cursor.fetchone()


def test_a_new_app_password_is_shown_once_and_stored_only_as_a_salted_hash(personas):
    app, shown = create(personas.user, protocols=["imap", "smtp"])
    groups = shown.split("-")
    assert len(groups) == 9 and all(len(g) == 4 for g in groups)
    typed = apppasswords.canonical(shown)
    assert app.key_id == typed[:8] and shown not in app.password and typed not in app.password
    assert app.password.startswith("{SSHA512}") and passwords.verify_password(typed, app.password)
    assert not passwords.verify_password(typed[:-1] + ("a" if typed[-1] != "a" else "b"), app.password)
    other_app, other_shown = create(personas.user, name="laptop")
    assert other_shown != shown and other_app.password != app.password
    address, stored, imap, pop3, smtp, sieve = view_row(app.key_id)
    assert (address, stored, imap, pop3, smtp, sieve) == ("user@example.org", app.password, 1, 0, 1, 0)
    entry = AuditEntry.objects.get(action="app_password.create", object_repr__contains="'phone'")
    assert entry.after == {"name": "phone", "protocols": ["imap", "smtp"]} and typed not in str(entry.after)


@pytest.mark.parametrize(
    ("name", "protocols", "field"),
    [
        ("", ["imap"], "name"),
        ("   ", ["imap"], "name"),
        ("x" * 65, ["imap"], "name"),
        ("phone\r\nBcc: victim@example.net", ["imap"], "name"),
        ("nul\x00byte", ["imap"], "name"),
        ("phone", [], "protocols"),
        ("phone", ["ftp"], "protocols"),
        ("phone", ["imap", "IMAP'; DROP TABLE accounts_apppassword; --"], "protocols"),
    ],
)
def test_bad_names_and_protocols_get_a_clear_error_and_write_nothing(personas, name, protocols, field):
    with pytest.raises(ValidationError) as caught:
        create(personas.user, name=name, protocols=protocols)
    assert field in caught.value.message_dict
    assert not AppPassword.objects.exists() and not AuditEntry.objects.filter(action="app_password.create").exists()


def test_hostile_names_are_kept_as_typed_and_shown_escaped(client, personas):
    name = "<script>alert(1)</script> Ünïcode ☃ ' \" `"
    create(personas.user, name=name)
    client.force_login(personas.user)
    page = client.get(reverse("accounts:app_passwords")).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Ünïcode ☃" in page
    assert AppPassword.objects.get().name == name


def test_names_are_unique_per_mailbox_and_the_limit_holds(personas, monkeypatch):
    create(personas.user)
    with pytest.raises(ValidationError, match="already an app password named 'phone'"):
        create(personas.user)
    create(personas.admin_org)  # another mailbox may use the name
    monkeypatch.setattr(apppasswords, "MAX_PER_MAILBOX", 3)
    create(personas.user, name="two")
    create(personas.user, name="three")
    with pytest.raises(ValidationError, match="at most 3 app passwords"):
        create(personas.user, name="four")
    assert AppPassword.objects.filter(mailbox=personas.user).count() == 3


def test_only_the_account_itself_creates_its_app_passwords(personas):
    for actor in (personas.admin_org, personas.superuser, personas.admin_net):
        with pytest.raises(PermissionDenied):
            create(personas.user, acting_user=actor)
    assert not AppPassword.objects.exists()


def test_revoking_by_the_account_and_its_managers_never_a_higher_rank(personas):
    app, _ = create(personas.user)
    with pytest.raises(PermissionDenied):
        apppasswords.revoke(acting_user=personas.admin_net, app_password=app, origin="test")
    apppasswords.revoke(acting_user=personas.admin_org, app_password=app, origin="test")
    assert not AppPassword.objects.exists() and view_row(app.key_id) is None
    boss, _ = create(personas.superuser)
    with pytest.raises(PermissionDenied):
        apppasswords.revoke(acting_user=personas.admin_org, app_password=boss, origin="test")
    apppasswords.revoke(acting_user=personas.superuser, app_password=boss, origin="test")
    with pytest.raises(ValidationError, match="revoked already"):
        apppasswords.revoke(acting_user=personas.superuser, app_password=boss, origin="test")
    assert AuditEntry.objects.filter(action="app_password.revoke").count() == 2


def test_the_pages_create_show_once_and_revoke(client, personas):
    client.force_login(personas.user)
    response = client.post(reverse("accounts:app_passwords"), {"name": "Thunderbird", "protocols": ["imap", "smtp"]})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    shown = response.context["password"]
    assert shown in response.content.decode()
    listing = client.get(reverse("accounts:app_passwords")).content.decode()
    assert "Thunderbird" in listing and shown not in listing and "IMAP, SMTP" in listing
    app = AppPassword.objects.get()
    response = client.post(reverse("accounts:app_passwords"), {"name": "Thunderbird", "protocols": ["imap"]})
    assert response.status_code == 200 and response.context["form"].errors["name"]
    response = client.post(reverse("accounts:app_passwords"), {"name": "no protocol"})
    assert response.context["form"].errors["protocols"]
    assert client.post(reverse("accounts:app_password_revoke", args=[app.pk])).status_code == 302
    assert not AppPassword.objects.exists()
    # an administrator sees and revokes them on the mailbox's page
    app, _ = create(personas.user, name="phone")
    admin = Client()
    admin.force_login(personas.admin_org)
    page = admin.get(reverse("accounts:detail", args=[personas.user.pk])).content.decode()
    assert "phone" in page and "last used never" in page
    response = admin.post(reverse("accounts:app_password_revoke", args=[app.pk]))
    assert response["Location"] == reverse("accounts:detail", args=[personas.user.pk])
    assert not AppPassword.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_same_form_posted_twice_at_once_creates_one_app_password():
    from tests import factories

    personas = factories.make_personas()
    clients = [Client() for _ in range(4)]
    for c in clients:
        c.force_login(personas.user)
    url, data = reverse("accounts:app_passwords"), {"name": "phone", "protocols": ["imap"]}
    results = at_once([(lambda c=c: 'id="app-password"' in c.post(url, data).content.decode()) for c in clients])
    assert sorted(results) == [False, False, False, True]
    assert AppPassword.objects.count() == 1
    assert AuditEntry.objects.filter(action="app_password.create").count() == 1


def test_the_domain_requirement_reaches_dovecots_lookup_table(personas):
    def only():
        with connection.cursor() as cursor:
            cursor.execute("SELECT app_passwords_only FROM lookup_logins_v2 WHERE address = 'user@example.org'")
            return cursor.fetchone()[0]

    assert only() == 0
    call_command("domain", "set", "example.org", "--require-app-passwords", stdout=open("/dev/null", "w"))
    personas.org.refresh_from_db()
    assert personas.org.require_app_passwords and only() == 1
    assert lookup.out_of_step(connection) == {}
    domains.domain_update(acting_user=None, domain=personas.org, origin="test", require_app_passwords=False)
    assert only() == 0 and lookup.out_of_step(connection) == {}


def test_the_command_line_creates_lists_and_revokes(personas, capsys):
    call_command("mailbox", "app-password", "user@example.org", "--create", "cli phone", "--protocols", "pop3,SMTP")
    out = capsys.readouterr().out
    assert "password=" in out
    shown = out.split("password=")[1].split()[0]
    app = AppPassword.objects.get()
    assert app.protocols == ["pop3", "smtp"] and passwords.verify_password(apppasswords.canonical(shown), app.password)
    call_command("mailbox", "app-password", "user@example.org")
    assert "cli phone" in capsys.readouterr().out and shown not in out.split("password=")[0]
    with pytest.raises(CommandError, match="Unknown protocol ftp"):
        call_command("mailbox", "app-password", "user@example.org", "--create", "x", "--protocols", "ftp")
    call_command("mailbox", "app-password", "user@example.org", "--revoke", "cli phone")
    assert not AppPassword.objects.exists()
    with pytest.raises(CommandError, match="no app password named"):
        call_command("mailbox", "app-password", "user@example.org", "--revoke", "cli phone")
