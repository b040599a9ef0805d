"""The password policy (AUTH_PASSWORD_VALIDATORS) is applied by the services, whoever calls them.

The panel, the command line and bulk creation refuse the same passwords with the same
messages, including a password too similar to the mailbox's address, local part or names
(Django's similarity validator looks for ``username``/``email``, which a mailbox does not
have). Imports and restores carry passwords that are already in use and opt out;
generated passwords always pass.
"""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Mailbox
from imports.csvfile import CsvImporter
from tests import factories
from tests.dbutil import run_cli, run_cli_inprocess, table_snapshot

pytestmark = pytest.mark.django_db

SIMILAR = "wonderland.alice"  # 16 characters, not common, not numeric: only similarity refuses it
TOO_SIMILAR = "The password is too similar to the"


# --- the service, whatever the caller -------------------------------------------------------------


def test_the_service_refuses_a_password_like_the_address_or_the_names(personas):
    with pytest.raises(ValidationError) as caught:
        services.mailbox_create(
            origin="test", acting_user=None, domain=personas.org, local_part="alice.wonderland", password=SIMILAR
        )
    assert TOO_SIMILAR in caught.value.message_dict["password"][0]
    with pytest.raises(ValidationError) as caught:
        services.mailbox_create(
            origin="test",
            acting_user=None,
            domain=personas.org,
            local_part="aw",
            first_name="Wonderland",
            last_name="Aliceson",
            password="Wonderland1!",
        )
    assert "too similar to the first name" in caught.value.message_dict["password"][0]
    assert not Mailbox.objects.filter(domain=personas.org, local_part__in=["alice.wonderland", "aw"]).exists()


def test_setting_a_password_runs_the_policy_for_that_mailbox(personas):
    box = factories.mailbox("alice.wonderland@example.org")
    for weak, message in [("short", "too short"), ("password123", "too common"), ("12345678901", "entirely numeric")]:
        with pytest.raises(ValidationError, match=message):
            services.mailbox_set_password(origin="test", acting_user=None, mailbox=box, password=weak)
    with pytest.raises(ValidationError, match="too similar to the address"):
        services.mailbox_set_password(origin="test", acting_user=None, mailbox=box, password="alice.wonderland@example")
    box.refresh_from_db()
    assert box.check_password(factories.PASSWORD)


def test_superuser_create_runs_the_policy(personas):
    with pytest.raises(ValidationError, match="too short"):
        services.superuser_create(origin="test", address="boss@panel.example", password="short")
    with pytest.raises(ValidationError, match="too short"):
        services.superuser_create(origin="test", address=personas.user.address, password="short")
    assert not Mailbox.objects.filter(address="boss@panel.example").exists()
    assert not Mailbox.objects.get(pk=personas.user.pk).is_superuser


# --- the command line refuses exactly what the panel refuses ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_echo_short_into_mailbox_add_exits_1_with_the_validators_message():
    factories.domain("example.org")
    result = run_cli("mailbox", "add", "x@example.org", "--password-stdin", stdin="short\n")
    assert result.returncode == 1
    assert "This password is too short. It must contain at least 10 characters." in result.stderr
    assert "Traceback" not in result.stderr
    assert not Mailbox.objects.filter(address="x@example.org").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("mailbox", "add", "alice.wonderland@example.org", "--password-stdin"),
        ("mailbox", "passwd", "alice.wonderland@example.org", "--password-stdin"),
        ("superuser", "grant", "alice.wonderland@example.org", "--password-stdin"),
    ],
)
def test_the_cli_refuses_a_password_like_the_address(personas, args):
    if args[1] != "add":
        factories.mailbox("alice.wonderland@example.org")
    before = table_snapshot()
    result = run_cli_inprocess(*args, stdin=SIMILAR + "\n")
    assert result.returncode == 1, result.stderr
    assert f"password: {TOO_SIMILAR}" in result.stderr
    assert table_snapshot() == before


def _panel_message(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def test_the_panel_refuses_the_same_passwords_with_the_same_message(personas):
    admin = Client()
    admin.force_login(personas.admin_org)
    response = admin.post(
        reverse("accounts:create", args=[personas.org.pk]), {"local_part": "alice.wonderland", "password": SIMILAR}
    )
    assert response.status_code == 200 and TOO_SIMILAR + " address." in _panel_message(response)
    assert not Mailbox.objects.filter(local_part="alice.wonderland").exists()

    box = factories.mailbox("alice.wonderland@example.org")
    response = admin.post(reverse("accounts:password", args=[box.pk]), {"password": SIMILAR}, follow=True)
    assert TOO_SIMILAR + " address." in _panel_message(response)

    own = Client()
    own.force_login(box)
    response = own.post(
        reverse("accounts:password_change"),
        {"current_password": factories.PASSWORD, "new_password": SIMILAR, "new_password_again": SIMILAR},
    )
    assert response.status_code == 200 and TOO_SIMILAR + " address." in _panel_message(response)
    box.refresh_from_db()
    assert box.check_password(factories.PASSWORD)


# --- generated passwords pass; imports and restores opt out ---------------------------------------


def test_generated_passwords_pass_the_policy_for_their_mailbox(personas):
    # Names made of the generator's own letters: a random password is often "too similar" to them.
    names = {"first_name": "abcdefghijkmnpqrstu", "last_name": "vwxyzABCDEFGHJKLMN"}
    draft = Mailbox(domain=personas.org, local_part="abcdefghijkmnpqrs", address="abcdefghijkmnpqrs@example.org")
    for key, value in names.items():
        setattr(draft, key, value)
    for _ in range(100):
        validate_password(services.generate_password(mailbox=draft), draft)

    admin = Client()
    admin.force_login(personas.admin_org)
    lines = "\n".join(f"abcdefghijkmnpq{n},,abcdefghijkmnpqrstu,vwxyzABCDEFGHJKLMN" for n in range(20))
    response = admin.post(reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": lines}, follow=True)
    assert response.status_code == 200
    created = response.context["created"]
    assert len(created) == 20
    for address, password in created:
        mailbox = Mailbox.objects.get(address=address)
        validate_password(password, mailbox)
        assert Mailbox.objects.get(pk=mailbox.pk).check_password(password)


def test_imports_keep_the_passwords_users_already_have(tmp_path, personas):
    path = tmp_path / "m.csv"
    path.write_text("address,password\nshorty@example.org,short\n")
    report = CsvImporter(path).run()
    assert not report.failures
    assert Mailbox.objects.get(address="shorty@example.org").check_password("short")


def test_the_opt_out_is_explicit(personas):
    box = services.mailbox_create(
        origin="test",
        acting_user=None,
        domain=personas.org,
        local_part="legacy",
        password="short",
        validate_password=False,
    )
    assert box.check_password("short")
    services.mailbox_set_password(
        origin="test", acting_user=None, mailbox=box, password="tiny", validate_password=False
    )
    assert Mailbox.objects.get(pk=box.pk).check_password("tiny")
