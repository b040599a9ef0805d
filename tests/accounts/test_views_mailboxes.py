"""Mailbox pages: own account and password, one mailbox, bulk work, CSV."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Mailbox
from domains import services as domains
from mailadmin.lib.sizes import MB
from mailadmin.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db
NEW = "a brand new secret 42"


def fresh(mailbox):
    return Mailbox.objects.get(pk=mailbox.pk)


# --- own account ---------------------------------------------------------------------


def test_me_shows_usage_and_vacation(client, personas):
    Mailbox.objects.filter(pk=personas.user.pk).update(usage_bytes=5 * 1024 * 1024, quota_bytes=10 * MB)
    client.force_login(personas.user)
    response = client.get(reverse("accounts:me"))
    assert response.status_code == 200
    assert b"<meter" in response.content and b"5 MB of 10 MB" in response.content
    assert client.post(reverse("accounts:me")).status_code == 405


def test_own_password_change_keeps_session_and_works_for_login(client, personas):
    client.force_login(personas.user)
    data = {"current_password": personas.password, "new_password": NEW, "new_password_again": NEW}
    assert client.post(reverse("accounts:password_change"), data)["Location"] == reverse("accounts:me")
    assert client.get(reverse("accounts:me")).status_code == 200  # still logged in
    user = fresh(personas.user)
    assert user.password.startswith("{ARGON2ID}") and user.check_password(NEW)
    assert AuditEntry.objects.filter(action="mailbox.password", actor=user).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"current_password": "wrong", "new_password": NEW, "new_password_again": NEW}, "current_password"),
        (
            {
                "current_password": "correct horse battery staple",
                "new_password": "short",
                "new_password_again": "short",
            },
            "new_password",
        ),
        (
            {
                "current_password": "correct horse battery staple",
                "new_password": "1234567890123",
                "new_password_again": "1234567890123",
            },
            "new_password",
        ),
        (
            {"current_password": "correct horse battery staple", "new_password": NEW, "new_password_again": NEW + "x"},
            "new_password_again",
        ),
    ],
)
def test_own_password_change_refusals(client, personas, data, field):
    client.force_login(personas.user)
    response = client.post(reverse("accounts:password_change"), data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert fresh(personas.user).check_password(personas.password)


# --- one mailbox ---------------------------------------------------------------------------


def test_admin_edits_a_mailbox(client, personas):
    client.force_login(personas.admin_org)
    url = reverse("accounts:detail", args=[personas.user.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"Inbox last changed" in page.content
    data = {"first_name": "Ulla", "last_name": "User", "quota_bytes": "50M", "active": "on", "filtering": "on"}
    assert client.post(url, data)["Location"] == url
    user = fresh(personas.user)
    assert (user.first_name, user.quota_bytes, user.may_relay, user.filtering) == ("Ulla", 50 * MB, False, True)


def test_quota_beyond_the_grant_is_a_field_error(client, personas):
    domains.grant_set(origin="test", acting_user=None, admin=personas.admin_org, domains=[personas.org], quota_bytes=0)
    Mailbox.objects.filter(domain=personas.org).update(quota_bytes=10 * MB)
    domains.grant_set(
        origin="test", acting_user=None, admin=personas.admin_org, domains=[personas.org], quota_bytes=100 * MB
    )
    client.force_login(personas.admin_org)
    response = client.post(reverse("accounts:detail", args=[personas.user.pk]), {"quota_bytes": "500M", "active": "on"})
    assert response.status_code == 200 and "quota_bytes" in response.context["form"].errors
    assert fresh(personas.user).quota_bytes == 10 * MB


def test_end_user_sees_own_mailbox_read_only(client, personas):
    client.force_login(personas.user)
    response = client.get(reverse("accounts:detail", args=[personas.user.pk]))
    assert response.status_code == 200 and not response.context["can_manage"]
    assert client.post(reverse("accounts:detail", args=[personas.user.pk]), {"quota_bytes": 0}).status_code == 403
    assert client.get(reverse("accounts:detail", args=[personas.admin_org.pk])).status_code == 404


def test_password_reset_generated_is_shown_once(client, personas):
    client.force_login(personas.admin_org)
    response = client.post(reverse("accounts:password", args=[personas.user.pk]), {"password": ""})
    assert response.status_code == 200
    [(mailbox, password)] = response.context["created"]
    assert password.encode() in response.content and fresh(personas.user).check_password(password)
    assert "no-store" in response["Cache-Control"]


def test_password_reset_typed_runs_validators(client, personas):
    client.force_login(personas.admin_org)
    url = reverse("accounts:password", args=[personas.user.pk])
    client.post(url, {"password": "short"})
    assert fresh(personas.user).check_password(personas.password)
    assert client.post(url, {"password": NEW}).status_code == 302
    assert fresh(personas.user).check_password(NEW)


def test_admin_cannot_touch_outranking_mailboxes(client, personas):
    client.force_login(personas.admin_org)
    for target in (personas.superuser, personas.admin_org):
        assert client.post(reverse("accounts:password", args=[target.pk]), {"password": NEW}).status_code == 403
        assert client.post(reverse("accounts:toggle", args=[target.pk, "active"])).status_code == 403
        assert client.post(reverse("accounts:delete", args=[target.pk])).status_code == 403
        assert fresh(target).active and fresh(target).check_password(personas.password)


def test_the_last_active_superuser_is_not_switched_off(client, personas):
    client.force_login(personas.superuser)
    toggle = reverse("accounts:toggle", args=[personas.superuser.pk, "active"])
    response = client.post(toggle, {"back": "domain"}, follow=True)
    assert "root@example.org is the last active superuser" in response.content.decode()
    detail = reverse("accounts:detail", args=[personas.superuser.pk])
    response = client.post(detail, {"first_name": "Root", "quota_bytes": 0})  # "active" unticked
    assert response.status_code == 200 and "last active superuser" in response.context["form"].errors["active"][0]
    assert fresh(personas.superuser).active and fresh(personas.superuser).first_name == ""


def test_toggles_flip_one_flag_and_return_to_the_domain_page(client, personas):
    client.force_login(personas.admin_org)
    url = reverse("accounts:toggle", args=[personas.user.pk, "filtering"])
    assert client.get(url).status_code == 405
    response = client.post(url, {"back": "domain", "q": "us", "page": "1"})
    assert response["Location"] == reverse("domains:detail", args=[personas.org.pk]) + "?q=us&page=1"
    assert not fresh(personas.user).filtering
    assert client.post(reverse("accounts:toggle", args=[personas.user.pk, "is_superuser"])).status_code == 404


def test_capabilities_of_the_grant_are_enforced(client, personas):
    domains.grant_set(
        origin="test",
        acting_user=None,
        admin=personas.admin_org,
        domains=[personas.org],
        can_create_mailboxes=False,
        can_delete_mailboxes=False,
    )
    client.force_login(personas.admin_org)
    assert client.get(reverse("accounts:create", args=[personas.org.pk])).status_code == 403
    assert client.post(reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": "x"}).status_code == 403
    assert client.post(reverse("accounts:delete", args=[personas.user.pk])).status_code == 403
    assert (
        client.post(
            reverse("accounts:bulk_delete", args=[personas.org.pk]), {"mailboxes": [personas.user.pk]}
        ).status_code
        == 403
    )
    assert Mailbox.objects.filter(domain=personas.org).count() == 3
    assert b"Delete ticked" not in client.get(reverse("domains:detail", args=[personas.org.pk])).content


def test_create_one_mailbox(client, personas):
    client.force_login(personas.admin_org)
    url = reverse("accounts:create", args=[personas.org.pk])
    response = client.post(url, {"local_part": "Anna", "password": NEW, "first_name": "Anna"})
    anna = Mailbox.objects.get(address="anna@example.org")
    assert response["Location"] == reverse("accounts:detail", args=[anna.pk]) and anna.check_password(NEW)
    response = client.post(url, {"local_part": "anna"})
    assert response.status_code == 200 and "already exists" in response.content.decode()


# --- bulk ------------------------------------------------------------------------------------


def test_bulk_create_mailboxes_with_generated_passwords(client, personas):
    client.force_login(personas.admin_org)
    lines = 'anna\nbert,500M,Bert,Miller,+49 30 1234,bert@home.example,"Sales, north"\n\n  carl , ,Carl\n'
    response = client.post(reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": lines}, follow=True)
    assert response.status_code == 200 and response.redirect_chain[0][0].startswith("/jobs/")
    created = dict(response.context["created"])
    assert set(created) == {"anna@example.org", "bert@example.org", "carl@example.org"}
    bert = Mailbox.objects.get(address="bert@example.org")
    assert (bert.quota_bytes, bert.last_name, bert.other_email, bert.notes) == (
        500 * MB,
        "Miller",
        "bert@home.example",
        "Sales, north",
    )
    assert bert.check_password(created["bert@example.org"])
    for password in created.values():
        assert password.encode() in response.content


def test_bulk_create_all_or_nothing_with_errors_per_line(client, personas):
    client.force_login(personas.admin_org)
    lines = "good1\nuser\nbad/name\ngood2\ngood3,lots"
    response = client.post(reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": lines})
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors() + response.context["form"].errors.get("lines", [])
    text = " ".join(errors)
    assert "Line 5" in text  # syntax errors come first, from the form
    assert not Mailbox.objects.filter(local_part__startswith="good").exists()
    response = client.post(
        reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": "good1\nuser\nbad/name\ngood2"}
    )
    text = " ".join(response.context["form"].non_field_errors())
    assert "Line 2 (user)" in text and "Line 3 (bad/name)" in text and "Line 1" not in text
    assert not Mailbox.objects.filter(local_part__startswith="good").exists()
    assert not AuditEntry.objects.filter(action="mailbox.create", object_repr__startswith="good").exists()


def test_bulk_create_respects_the_grant_count(client, personas):
    domains.grant_set(
        origin="test", acting_user=None, admin=personas.admin_org, domains=[personas.org], max_mailboxes=5
    )
    client.force_login(personas.admin_org)
    response = client.post(reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": "a\nb\nc"})
    assert "Line 3 (c)" in " ".join(response.context["form"].non_field_errors())
    assert Mailbox.objects.filter(domain=personas.org).count() == 3


def test_bulk_update_and_delete(client, personas):
    factories.mailbox("anna@example.org")
    anna = Mailbox.objects.get(address="anna@example.org")
    client.force_login(personas.admin_org)
    url = reverse("accounts:bulk_update", args=[personas.org.pk])
    client.post(url, {"mailboxes": [anna.pk, personas.user.pk], "may_relay": "off", "quota_bytes": "20M"})
    assert set(Mailbox.objects.filter(pk__in=[anna.pk, personas.user.pk]).values_list("may_relay", "quota_bytes")) == {
        (False, 20 * MB)
    }
    # one outranking mailbox in the selection: refused, nothing changed
    assert client.post(url, {"mailboxes": [anna.pk, personas.superuser.pk], "active": "off"}).status_code == 403
    assert fresh(anna).active and fresh(personas.superuser).active
    # a foreign id is not a choice: nothing changed
    bob = factories.mailbox("bob@example.net")
    client.post(url, {"mailboxes": [bob.pk], "active": "off"})
    assert fresh(bob).active
    # no change chosen: a message, nothing changed
    response = client.post(url, {"mailboxes": [anna.pk]}, follow=True)
    assert "Choose at least one change" in response.content.decode()
    client.post(reverse("accounts:bulk_delete", args=[personas.org.pk]), {"mailboxes": [anna.pk, personas.user.pk]})
    assert not Mailbox.objects.filter(pk__in=[anna.pk, personas.user.pk]).exists()


# --- CSV --------------------------------------------------------------------------------------


def test_csv_export_neutralises_formulas(client, personas):
    factories.mailbox(
        "calc@example.org", first_name='=HYPERLINK("http://x")', last_name="+1", phone="-2", notes="@SUM(A1)"
    )
    client.force_login(personas.admin_org)
    response = client.get(reverse("accounts:export", args=[personas.org.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    calc = next(r for r in rows if r["name"] == "calc")
    assert calc["first_name"] == '\'=HYPERLINK("http://x")'
    assert (calc["last_name"], calc["phone"], calc["notes"]) == ("'+1", "'-2", "'@SUM(A1)")
    assert {r["name"] for r in rows} == {"calc", "root", "admin", "user"}


def test_csv_export_then_import_into_another_domain(client, personas):
    factories.mailbox("calc@example.org", first_name="=1+1", quota_bytes=30 * MB, may_relay=False)
    client.force_login(personas.superuser)
    exported = client.get(reverse("accounts:export", args=[personas.org.pk])).content
    upload = SimpleUploadedFile("m.csv", exported, content_type="text/csv")
    fresh_domain = factories.domain("fresh.example")
    response = client.post(reverse("accounts:import", args=[fresh_domain.pk]), {"file": upload}, follow=True)
    assert response.status_code == 200, response.content
    assert response.context.get("form") is None or not response.context["form"].errors, response.context["form"].errors
    assert len(response.context["created"]) == 4
    calc = Mailbox.objects.get(address="calc@fresh.example")
    assert (calc.first_name, calc.quota_bytes, calc.may_relay) == ("=1+1", 30 * MB, False)


def test_csv_import_errors_per_line_and_nothing_created(client, personas):
    client.force_login(personas.admin_org)
    content = b"name,quota_bytes,active\nok1,10,yes\nuser,5,yes\nok2,x,yes\nok3,1,maybe\n"
    response = client.post(
        reverse("accounts:import", args=[personas.org.pk]), {"file": SimpleUploadedFile("m.csv", content)}
    )
    text = " ".join(response.context["form"].non_field_errors())
    assert "Line 4" in text and "Line 5" in text
    assert not Mailbox.objects.filter(local_part__startswith="ok").exists()
    response = client.post(
        reverse("accounts:import", args=[personas.org.pk]), {"file": SimpleUploadedFile("m.csv", b"\xff\xfe")}
    )
    assert "not UTF-8" in response.content.decode()


def test_bulk_create_is_capped_per_request(client, personas):
    from accounts.forms import MAX_BULK_MAILBOXES

    client.force_login(personas.admin_org)
    lines = "\n".join(f"n{i}" for i in range(MAX_BULK_MAILBOXES + 1))
    response = client.post(reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": lines})
    assert f"At most {MAX_BULK_MAILBOXES} " in response.content.decode()  # lines (the field) or mailboxes
    assert Mailbox.objects.filter(domain=personas.org).count() == 3


# --- a domain with two administrators ----------------------------------------------------------


def test_admin_of_a_domain_with_a_co_admin_can_open_its_own_mailbox(client, personas):
    """The visible-mailbox join gave one row per grant of the domain: the own page was a 500."""
    co_admin = factories.mailbox("co@example.org")
    domains.grant_set(origin="test", acting_user=None, admin=co_admin, domains=[personas.org])
    client.force_login(personas.admin_org)
    assert client.get(reverse("accounts:detail", args=[personas.admin_org.pk])).status_code == 200
    assert client.get(reverse("vacation:mailbox", args=[personas.admin_org.pk])).status_code == 200
    assert client.get(reverse("accounts:detail", args=[co_admin.pk])).status_code == 200
    visible = Mailbox.objects.visible_to(personas.admin_org)
    assert visible.count() == len(set(visible.values_list("pk", flat=True)))


def test_limit_errors_do_not_describe_another_admins_grant(client, personas):
    """A co-admin's grant may span domains this admin must not know of: no address, no usage."""
    factories.domain("secret.example")
    co_admin = factories.mailbox("x@secret.example")
    domains.grant_set(
        origin="test",
        acting_user=None,
        admin=co_admin,
        domains=[personas.org, domains.get_domain("secret.example")],
        max_mailboxes=4,
    )
    client.force_login(personas.admin_org)
    response = client.post(
        reverse("accounts:create", args=[personas.org.pk]), {"local_part": "n1", "quota_bytes": "1M"}
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert b"secret.example" not in response.content
    assert not Mailbox.objects.filter(address="n1@example.org").exists()
    client.force_login(personas.superuser)  # superusers still get the details
    response = client.post(
        reverse("accounts:create", args=[personas.org.pk]), {"local_part": "n1", "quota_bytes": "1M"}
    )
    assert b"x@secret.example" in response.content


LOOKALIKES = ["＝1+1", "＋1", "－2", "＠SUM(A1)", "﹦1+1", "⁼1", "\t=1", "\r=1", "  =1+1", "\u00a0=1"]


def test_csv_export_neutralises_look_alike_formula_starts_and_round_trips(client, personas):
    for number, value in enumerate(LOOKALIKES):
        factories.mailbox(f"calc{number}@example.org", first_name=value)
    client.force_login(personas.superuser)
    exported = client.get(reverse("accounts:export", args=[personas.org.pk])).content
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(exported.decode()))}
    for number, value in enumerate(LOOKALIKES):
        assert rows[f"calc{number}"]["first_name"] == "'" + value
    fresh = factories.domain("fresh.example")
    upload = SimpleUploadedFile("m.csv", exported, content_type="text/csv")
    assert client.post(reverse("accounts:import", args=[fresh.pk]), {"file": upload}, follow=True).status_code == 200
    back = dict(Mailbox.objects.filter(domain=fresh).values_list("local_part", "first_name"))
    assert [back[f"calc{n}"] for n in range(len(LOOKALIKES))] == [v.strip() for v in LOOKALIKES]  # import strips
