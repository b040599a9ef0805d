"""Login, logout, throttling and the security headers of the panel."""

import os

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Mailbox
from domains import services as domains

pytestmark = pytest.mark.django_db


def login(client, address, password, **extra):
    return client.post(reverse("login"), {"username": address, "password": password}, **extra)


def test_login_with_mail_address_and_password(client, personas):
    response = login(client, "USER@Example.ORG", personas.password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(personas.user.pk)


def test_login_page_is_public_and_other_pages_are_not(client, personas):
    assert client.get(reverse("login")).status_code == 200
    response = client.get(reverse("domains:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_wrong_password_is_refused_with_a_message(client, personas):
    response = login(client, personas.user.address, "wrong password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"correct" in response.content  # Django's "Please enter a correct ..." message


def test_inactive_mailbox_cannot_log_in(client, personas):
    from accounts import services

    services.mailbox_update(origin="test", acting_user=None, mailbox=personas.user, active=False)
    assert login(client, personas.user.address, personas.password).status_code == 200
    assert "_auth_user_id" not in client.session


def test_legacy_hash_is_rehashed_at_login(client, personas):

    Mailbox.objects.filter(pk=personas.user.pk).update(password="{PLAIN}" + "legacy password 1")
    assert login(client, personas.user.address, "legacy password 1").status_code == 302
    assert Mailbox.objects.get(pk=personas.user.pk).password.startswith("{ARGON2ID}")


def test_lockout_per_address_after_repeated_failures(settings, personas):
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(Client(REMOTE_ADDR=f"192.0.2.{n + 1}"), personas.user.address, "wrong")
    client = Client(REMOTE_ADDR="198.51.100.7")
    response = login(client, personas.user.address.upper(), personas.password)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_per_client_across_addresses(settings, personas):
    settings.CLIENTS_CONNECT_DIRECTLY = True  # no proxy: the connecting address is the client's own
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"nobody{n}@example.org", "wrong")
    assert login(client, personas.user.address, personas.password).status_code == 429
    # The same address from elsewhere still works.
    assert login(Client(REMOTE_ADDR="203.0.113.10"), personas.user.address, personas.password).status_code == 302


@pytest.mark.parametrize("direct", [False, True])
@pytest.mark.parametrize("trusted", [[], ["192.0.2.1"]])
def test_failures_from_a_loopback_proxy_lock_out_nobody_else(settings, personas, direct, trusted):
    """Behind a proxy that is not in TRUSTED_PROXIES every user arrives from the proxy's address.

    Counted per client, five bad logins with made-up addresses would lock everybody out
    for the cool-off, again and again; such failures count per address only.
    """
    settings.CLIENTS_CONNECT_DIRECTLY = direct
    settings.TRUSTED_PROXIES = trusted
    proxy = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9")
    for n in range(settings.AXES_FAILURE_LIMIT * 2):
        assert login(proxy, f"made-up-{n}@example.org", "wrong").status_code == 200
    someone_else = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert login(someone_else, personas.user.address, personas.password).status_code == 302


def test_failures_from_a_trusted_proxy_without_forwarded_for_count_per_address_only(settings, personas):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    proxy = Client(REMOTE_ADDR="127.0.0.1")  # the proxy itself, or a request that bypassed it
    for n in range(settings.AXES_FAILURE_LIMIT * 2):
        login(proxy, f"made-up-{n}@example.org", "wrong")
    assert login(Client(REMOTE_ADDR="127.0.0.1"), personas.user.address, personas.password).status_code == 302


@pytest.mark.parametrize("proxies", [["127.0.0.1"], ["127.0.0.0/8", "::1"]])
def test_through_a_trusted_proxy_each_forwarded_client_has_its_own_counter(settings, personas, proxies):
    settings.TRUSTED_PROXIES = proxies
    attacker = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(attacker, f"made-up-{n}@example.org", "wrong")
    assert login(attacker, personas.user.address, personas.password).status_code == 429
    # A forged X-Forwarded-For does not escape: the proxy appends the real address last.
    forged = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9")
    assert login(forged, personas.user.address, personas.password).status_code == 429
    other = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert login(other, personas.user.address, personas.password).status_code == 302


def test_a_forwarded_for_from_an_untrusted_client_is_ignored(settings, personas):
    settings.CLIENTS_CONNECT_DIRECTLY = True
    for n in range(settings.AXES_FAILURE_LIMIT):
        client = Client(REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 1}")
        login(client, f"made-up-{n}@example.org", "wrong")
    assert login(Client(REMOTE_ADDR="198.51.100.66"), personas.user.address, personas.password).status_code == 429
    assert login(Client(REMOTE_ADDR="198.51.100.67"), personas.user.address, personas.password).status_code == 302


def test_success_resets_the_counter(settings, personas):
    client = Client(REMOTE_ADDR="203.0.113.20")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, personas.user.address, "wrong")
    assert login(client, personas.user.address, personas.password).status_code == 302


def test_login_form_requires_csrf(personas):
    client = Client(enforce_csrf_checks=True)
    assert login(client, personas.user.address, personas.password).status_code == 403


def test_logout_is_post_only(client, personas):
    client.force_login(personas.user)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_security_headers(client, personas):
    response = client.get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response  # plain HTTP: no HSTS
    secure = client.get(reverse("login"), secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_flags(client, personas, settings):
    response = login(client, personas.user.address, personas.password)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_cookies_are_secure_by_default(personas, settings):
    """With the default host list kept behind HTTPS the session must not leak over plain HTTP.

    Browsers accept Secure cookies from http://localhost and http://127.0.0.1 (the local trial);
    plain HTTP on any other host needs SECURE_COOKIES=false.
    """
    assert "SECURE_COOKIES" not in os.environ, "this test checks the default"
    client = Client()
    page = client.get(reverse("login"))
    assert page.cookies[settings.CSRF_COOKIE_NAME]["secure"]
    response = login(client, personas.user.address, personas.password)
    assert response.status_code == 302
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"]
    assert "; Secure" in response.cookies[settings.SESSION_COOKIE_NAME].output()


def test_home_sends_each_role_to_its_start(client, personas):
    client.force_login(personas.admin_org)
    assert client.get("/")["Location"] == reverse("domains:list")
    client.force_login(personas.user)
    assert client.get("/")["Location"] == reverse("accounts:me")
    assert client.post("/").status_code == 405


def test_error_pages_use_the_layout(client, personas):
    client.force_login(personas.admin_org)
    missing = client.get(reverse("domains:detail", args=[personas.net.pk]))
    assert missing.status_code == 404 and b"Not found" in missing.content and b"panel.css" in missing.content
    refused = client.post(reverse("accounts:toggle", args=[personas.superuser.pk, "active"]))
    assert refused.status_code == 403 and b"Not allowed" in refused.content


def test_csrf_failure_page(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.user)
    response = client.post(reverse("vacation:own"), {"mode": "off", "interval_days": 7})
    assert response.status_code == 403 and b"The form has expired" in response.content


def test_a_login_without_cookies_says_why(personas):
    """Plain HTTP on another host name: the browser drops the Secure CSRF cookie; the page says so."""
    client = Client(enforce_csrf_checks=True)
    response = login(client, personas.user.address, personas.password)
    assert response.status_code == 403
    assert b"<code>SECURE_COOKIES=false</code>" in response.content


# --- login throttling -------------------------------------------------------------------------


def test_own_successful_login_does_not_reset_failures_against_another_address(settings, personas):
    """An attacker with any valid mailbox must not clear the counter of the address it guesses.

    django-axes' reset-on-success deleted every attempt from the client's address,
    including the failures against the victim, so 4 guesses + 1 own login repeated forever.
    """
    attacker = Client(REMOTE_ADDR="198.51.100.66")
    victim = personas.admin_org.address
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(attacker, victim, "guess")
    assert login(attacker, personas.user.address, personas.password).status_code == 302  # attacker's own mailbox
    attacker.logout()
    login(attacker, victim, "guess")
    # The victim's address has had AXES_FAILURE_LIMIT failures: locked from everywhere.
    response = login(Client(REMOTE_ADDR="203.0.113.77"), victim, personas.password)
    assert response.status_code == 429


def test_own_successful_login_still_clears_own_failures(settings, personas):
    client = Client(REMOTE_ADDR="203.0.113.21")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, personas.user.address, "wrong")
    assert login(client, personas.user.address, personas.password).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(Client(REMOTE_ADDR="203.0.113.22"), personas.user.address, "wrong")
    assert login(Client(REMOTE_ADDR="203.0.113.23"), personas.user.address, personas.password).status_code == 302


@pytest.mark.parametrize("switch", [{"active": False}, {"logins_enabled": False}], ids=["inactive", "logins-off"])
def test_end_users_of_a_domain_that_is_off_cannot_log_in_to_the_panel(personas, switch):
    domains.domain_update(origin="test", acting_user=None, domain=personas.org, **switch)
    response = login(Client(), personas.user.address, personas.password)
    assert response.status_code == 200
    assert "Logins for the mailboxes of example.org are switched off" in response.content.decode()
    for keeper in (personas.admin_org, personas.superuser):  # they can switch it back on
        assert login(Client(), keeper.address, personas.password).status_code == 302
    # a session from before the switch is worth nothing either
    client = Client()
    client.force_login(personas.user)
    response = client.post(reverse("vacation:own"), {"mode": "default", "interval_days": 7})
    assert response.status_code == 403
