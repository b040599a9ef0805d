"""Two-factor login to the panel: setting it up, the login's second step, recovery codes, who must
use it, who may reset it, and what a wrong, replayed, raced or hostile code gets."""

import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import twofactor
from accounts.models import RecoveryCode
from domains import services as domains
from mailadmin.models import AuditEntry
from tests import factories
from tests.dbutil import at_once

pytestmark = pytest.mark.django_db


def code_for(device, ahead: int = 0) -> str:
    """What the user's app shows ``ahead`` steps from now (the server accepts one step either side)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enrol(mailbox) -> tuple[TOTPDevice, list[str]]:
    device = twofactor.start_enrolment(mailbox=mailbox)
    codes = twofactor.enrol(acting_user=mailbox, mailbox=mailbox, code=code_for(device), origin="test")
    device.refresh_from_db()
    return device, codes


def log_in(client, mailbox, password):
    return client.post(reverse("login"), {"username": mailbox.address, "password": password})


def second_step(client, code):
    return client.post(reverse("login_verify"), {"code": code})


def logged_in_as(client):
    return client.session.get("_auth_user_id")


def as_if_seconds_passed(device, seconds):
    """The throttle counts from the last wrong code: move that moment back, as waiting would."""
    device.refresh_from_db()
    if device.throttling_failure_timestamp:
        device.throttling_failure_timestamp -= timedelta(seconds=seconds)
        device.save(update_fields=["throttling_failure_timestamp"])


# --- setting it up ----------------------------------------------------------------------


def test_setting_it_up_shows_a_qr_code_and_the_secret_then_recovery_codes_once(client, personas):
    user = personas.user
    client.force_login(user)
    page = client.get(reverse("accounts:two_factor_setup"))
    assert page.status_code == 200 and b"data:image/svg+xml;base64," in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert twofactor.secret_text(device).encode() in page.content
    assert client.get(reverse("accounts:two_factor_setup")).context["secret"] == twofactor.secret_text(device)

    wrong = client.post(
        reverse("accounts:two_factor_setup"), {"code": "000000" if code_for(device) != "000000" else "1"}
    )
    assert wrong.status_code == 200 and twofactor.WRONG_CODE in wrong.content.decode()
    assert not twofactor.is_enrolled(user)

    as_if_seconds_passed(device, 2)
    done = client.post(reverse("accounts:two_factor_setup"), {"code": code_for(device)})
    assert done.status_code == 200 and "no-store" in done["Cache-Control"]
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(code in done.content.decode() for code in codes)
    assert twofactor.is_enrolled(user)
    # Only hashes are kept: no column of any row holds a code.
    stored = [str(v) for row in RecoveryCode.objects.filter(mailbox=user).values() for v in row.values()]
    assert not any(code in value or code.replace("-", "") in value for code in codes for value in stored)
    entry = AuditEntry.objects.get(action="two_factor.enrol")
    assert entry.actor_id == user.pk and entry.domain_id == user.domain_id
    assert client.get(reverse("accounts:two_factor")).context["status"]["codes_left"] == 10


def test_an_administrator_cannot_set_it_up_for_someone_else(personas):
    device = twofactor.start_enrolment(mailbox=personas.user)
    with pytest.raises(PermissionDenied):
        twofactor.enrol(acting_user=personas.admin_org, mailbox=personas.user, code=code_for(device), origin="test")
    assert not twofactor.is_enrolled(personas.user)


# --- logging in -------------------------------------------------------------------------


def test_with_it_on_the_password_alone_does_not_log_in(client, personas):
    device, _ = enrol(personas.user)
    response = log_in(client, personas.user, personas.password)
    assert response.status_code == 302 and response["Location"] == reverse("login_verify")
    assert logged_in_as(client) is None
    assert client.get(reverse("accounts:me"))["Location"].startswith(reverse("login"))
    response = second_step(client, code_for(device, ahead=1))
    assert response.status_code == 302 and logged_in_as(client) == str(personas.user.pk)
    assert client.get(reverse("accounts:me")).status_code == 200
    entry = AuditEntry.objects.filter(action="two_factor.login").get()
    assert entry.after == {"method": "authenticator"}


def test_a_wrong_code_is_refused_recorded_and_slows_the_next_one(client, personas):
    device, _ = enrol(personas.user)
    log_in(client, personas.user, personas.password)
    good = code_for(device, ahead=1)
    wrong = second_step(client, "000000" if good != "000000" else "111111")
    assert wrong.status_code == 200 and twofactor.WRONG_CODE in wrong.content.decode()
    assert logged_in_as(client) is None
    assert AuditEntry.objects.get(action="two_factor.refused").after == {"refused": "wrong"}
    # At once, even the right code waits for the throttle, and says so.
    throttled = second_step(client, good)
    assert "Too many wrong codes: wait 1 seconds" in throttled.content.decode() and logged_in_as(client) is None
    as_if_seconds_passed(device, 2)
    assert second_step(client, good).status_code == 302 and logged_in_as(client) == str(personas.user.pk)


def test_a_code_is_taken_once(personas):
    device, _ = enrol(personas.user)
    code = code_for(device, ahead=1)
    assert twofactor.verify_login(mailbox=personas.user, code=code, origin="test") == "authenticator"
    with pytest.raises(ValidationError, match="not right"):
        twofactor.verify_login(mailbox=personas.user, code=code, origin="test")


def test_a_recovery_code_logs_in_once_and_not_twice(client, personas):
    _, codes = enrol(personas.user)
    log_in(client, personas.user, personas.password)
    response = second_step(client, "  " + codes[3].upper().replace("-", " ") + " ")  # as people type it
    assert response.status_code == 302 and logged_in_as(client) == str(personas.user.pk)
    assert AuditEntry.objects.get(action="two_factor.login").after == {
        "method": "recovery code",
        "recovery_codes_left": 9,
    }
    other = Client()
    log_in(other, personas.user, personas.password)
    again = second_step(other, codes[3])
    assert again.status_code == 200 and logged_in_as(other) is None


def test_the_second_step_expires_and_cannot_be_reached_without_the_password(client, personas, settings):
    device, _ = enrol(personas.user)
    assert client.get(reverse("login_verify"))["Location"] == reverse("login")
    log_in(client, personas.user, personas.password)
    settings.TWO_FACTOR_PENDING_SECONDS = 0
    time.sleep(0.01)
    response = second_step(client, code_for(device, ahead=1))
    assert response["Location"] == reverse("login") and logged_in_as(client) is None


def test_a_mailbox_switched_off_meanwhile_is_not_logged_in(client, personas):
    device, _ = enrol(personas.user)
    log_in(client, personas.user, personas.password)
    type(personas.user).objects.filter(pk=personas.user.pk).update(active=False)
    response = second_step(client, code_for(device, ahead=1))
    assert response["Location"] == reverse("login") and logged_in_as(client) is None


def test_the_next_address_survives_the_second_step_and_a_foreign_one_does_not(client, personas):
    device, codes = enrol(personas.user)
    client.post(
        reverse("login") + "?next=/me/forwarding/",
        {"username": personas.user.address, "password": personas.password, "next": "/me/forwarding/"},
    )
    assert second_step(client, code_for(device, ahead=1))["Location"] == "/me/forwarding/"
    other = Client()
    other.post(
        reverse("login"),
        {"username": personas.user.address, "password": personas.password, "next": "https://evil.example/"},
    )
    # A recovery code here: another authenticator code would need the clock to move on a step.
    assert second_step(other, codes[0])["Location"] == "/"


@pytest.mark.parametrize(
    "code",
    [
        "١٢٣٤٥٦",  # Arabic-Indic digits: int() reads them, the check must not
        "123456\x00",
        "12345\n6",
        "' OR 1=1 --",
        "a" * 5000,
        "%s%s%s",
        "",
        "１２３４５６",  # full-width digits
    ],
)
def test_hostile_codes_get_a_clear_refusal_and_log_nobody_in(client, personas, code):
    enrol(personas.user)
    log_in(client, personas.user, personas.password)
    response = second_step(client, code)
    assert response.status_code == 200 and logged_in_as(client) is None
    assert response.context["form"].errors["code"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_same_code_posted_in_parallel_logs_in_once():
    from tests import factories

    personas = factories.make_personas()
    device, _ = enrol(personas.user)
    code = code_for(device, ahead=1)
    clients = [Client() for _ in range(6)]
    for c in clients:
        log_in(c, personas.user, personas.password)
    results = at_once([(lambda c=c: second_step(c, code).status_code) for c in clients])
    assert sorted(results) == [200] * 5 + [302]
    assert AuditEntry.objects.filter(action="two_factor.login").count() == 1
    assert AuditEntry.objects.filter(action="two_factor.refused").count() == 5


# --- who must use it --------------------------------------------------------------------


def test_an_admin_who_must_use_it_sees_only_the_setup_page_until_it_is_on(client, personas, settings):
    settings.TWO_FACTOR_REQUIRED = "admins"
    assert log_in(client, personas.admin_org, personas.password).status_code == 302
    for name in ("domains:list", "accounts:me", "audit"):
        assert client.get(reverse(name))["Location"] == reverse("accounts:two_factor_setup")
    assert client.post(reverse("domains:create"), {"name": "x.example"})["Location"] == reverse(
        "accounts:two_factor_setup"
    )
    page = client.get(reverse("accounts:two_factor_setup"))
    assert page.status_code == 200 and page.context["required"]
    device = TOTPDevice.objects.get(user=personas.admin_org)
    done = client.post(reverse("accounts:two_factor_setup"), {"code": code_for(device)})
    assert len(done.context["codes"]) == 10
    assert client.get(reverse("domains:list")).status_code == 200


def test_a_requirement_switched_on_ends_the_sessions_of_admins_without_a_second_factor(personas):
    """An administrator already logged in with a password alone does not keep working: the next
    request is the login page, and logging in again leads to setting the second factor up."""
    clients = {}
    for who in ("admin_org", "admin_net", "user"):
        clients[who] = Client()
        assert log_in(clients[who], getattr(personas, who), personas.password).status_code == 302
    enrolled = Client()  # an administrator of example.org with its second factor, logged in with it
    boss = factories.mailbox("boss@example.org")
    domains.grant_set(origin="test", acting_user=None, admin=boss, domains=[personas.org])
    device, _ = enrol(boss)
    log_in(enrolled, boss, personas.password)
    assert second_step(enrolled, code_for(device, ahead=1)).status_code == 302
    home = reverse("domains:list")
    assert all(c.get(home).status_code == 200 for c in (clients["admin_org"], clients["admin_net"], enrolled))
    assert clients["user"].get(reverse("accounts:me")).status_code == 200

    domains.domain_update(acting_user=None, domain=personas.org, origin="test", require_two_factor=True)
    assert clients["admin_org"].get(home)["Location"].startswith(reverse("login"))
    assert clients["admin_net"].get(home).status_code == 200  # not an admin of example.org
    assert clients["user"].get(reverse("accounts:me")).status_code == 200  # not an admin at all
    assert enrolled.get(home).status_code == 200  # it has one: its session stays
    log_in(clients["admin_org"], personas.admin_org, personas.password)
    assert clients["admin_org"].get(home)["Location"] == reverse("accounts:two_factor_setup")

    # appointed to a domain that requires it: the same
    domains.grant_set(origin="test", acting_user=None, admin=personas.admin_net, domains=[personas.net, personas.org])
    assert clients["admin_net"].get(home)["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("required", "domain_requires", "expected"),
    [
        ("", False, {"superuser": False, "admin_org": False, "admin_net": False, "user": False}),
        ("superusers", False, {"superuser": True, "admin_org": False, "admin_net": False, "user": False}),
        ("admins", False, {"superuser": True, "admin_org": True, "admin_net": True, "user": False}),
        ("", True, {"superuser": False, "admin_org": True, "admin_net": False, "user": False}),
    ],
)
def test_who_must_use_it(personas, settings, required, domain_requires, expected):
    from mailadmin import permissions

    settings.TWO_FACTOR_REQUIRED = required
    if domain_requires:
        domains.domain_update(acting_user=None, domain=personas.org, origin="test", require_two_factor=True)
    found = {name: permissions.must_use_two_factor(getattr(personas, name)) for name in expected}
    assert found == expected


def test_a_domain_requiring_it_is_set_in_the_panel_and_on_the_command_line(client, personas):
    call_command("domain", "set", "example.net", "--require-two-factor")
    personas.net.refresh_from_db()
    assert personas.net.require_two_factor
    client.force_login(personas.superuser)
    page = client.get(reverse("domains:settings", args=[personas.org.pk]))
    assert "require_two_factor" in page.context["form"].fields


# --- switching it off, resetting it ------------------------------------------------------


def test_switching_it_off_needs_a_code(client, personas):
    _, codes = enrol(personas.user)
    client.force_login(personas.user)
    refused = client.post(reverse("accounts:two_factor_remove"), {"code": "nonsense"})
    assert refused.status_code == 200 and twofactor.is_enrolled(personas.user)
    device = TOTPDevice.objects.get(user=personas.user)
    as_if_seconds_passed(device, 2)
    response = client.post(reverse("accounts:two_factor_remove"), {"code": codes[0]})
    assert response["Location"] == reverse("accounts:two_factor")
    assert not twofactor.is_enrolled(personas.user) and not RecoveryCode.objects.exists()
    assert AuditEntry.objects.filter(action="two_factor.remove").count() == 1


def test_new_recovery_codes_replace_the_old_ones(client, personas):
    _, old = enrol(personas.user)
    client.force_login(personas.user)
    response = client.post(reverse("accounts:two_factor_codes"), {"code": old[0]})
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    with pytest.raises(ValidationError):
        twofactor.verify_login(mailbox=personas.user, code=old[1], origin="test")
    as_if_seconds_passed(TOTPDevice.objects.get(user=personas.user), 2)
    assert twofactor.verify_login(mailbox=personas.user, code=new[1], origin="test") == "recovery code"


def test_an_admin_resets_a_user_of_its_domain_but_never_a_higher_ranked_one(client, personas):
    for mailbox in (personas.user, personas.superuser, personas.admin_net):
        enrol(mailbox)
    client.force_login(personas.admin_org)
    page = client.get(reverse("accounts:detail", args=[personas.user.pk]))
    assert reverse("accounts:two_factor_reset", args=[personas.user.pk]) in page.content.decode()
    response = client.post(reverse("accounts:two_factor_reset", args=[personas.user.pk]))
    assert response.status_code == 302 and not twofactor.is_enrolled(personas.user)
    entry = AuditEntry.objects.get(action="two_factor.reset")
    assert entry.actor_id == personas.admin_org.pk and entry.object_repr == personas.user.address
    assert client.post(reverse("accounts:two_factor_reset", args=[personas.superuser.pk])).status_code == 403
    assert client.post(reverse("accounts:two_factor_reset", args=[personas.admin_net.pk])).status_code == 404
    assert twofactor.is_enrolled(personas.superuser) and twofactor.is_enrolled(personas.admin_net)
    with pytest.raises(PermissionDenied):
        twofactor.reset(acting_user=personas.admin_org, mailbox=personas.admin_org, origin="test")


def test_the_command_line_resets_a_superuser_who_lost_the_phone(personas, capsys):
    enrol(personas.superuser)
    call_command("mailbox", "two-factor", personas.superuser.address)
    assert "on" in capsys.readouterr().out
    call_command("mailbox", "two-factor", personas.superuser.address, "--reset")
    assert "off" in capsys.readouterr().out and not twofactor.is_enrolled(personas.superuser)
    entry = AuditEntry.objects.get(action="two_factor.reset")
    assert (entry.actor_id, entry.origin) == (None, "cli")
    with pytest.raises(Exception, match="no two-factor login"):
        call_command("mailbox", "two-factor", personas.superuser.address, "--reset")
