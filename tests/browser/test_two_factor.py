"""Two-factor login in a real Chromium: set it up, log out, log in with the app's code, then with a
recovery code once, and not twice. Screenshots in tests/artifacts/two-factor-*.png."""

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from mailadmin.models import AuditEntry
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def app_code(secret: str, ahead: int = 0) -> str:
    """What an authenticator app shows for the secret the page printed (base32, in groups)."""
    key = b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time() + ahead * 30
    return f"{totp.token():06d}"


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def test_set_up_log_in_with_the_app_then_with_a_recovery_code_once(page, personas, shot):
    user = personas.user
    log_in(page, user.address, personas.password)
    page.get_by_role("link", name="Set up two-factor login").click()
    page.get_by_role("link", name="Set up two-factor login").click()
    expect(page.get_by_role("img", name="QR code of your authenticator's secret")).to_be_visible()
    shot(page, "two-factor-01-setup")
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(app_code(secret))
    page.get_by_role("button", name="Switch two-factor login on").click()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    shot(page, "two-factor-02-recovery-codes")
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_text("Recovery codes left")).to_be_visible()
    log_out(page)

    # The password alone leads to the second step; the app's next code finishes the login.
    log_in(page, user.address, personas.password)
    expect(page.get_by_role("heading", name="Second step of the login")).to_be_visible()
    shot(page, "two-factor-03-second-step")
    page.get_by_label("Code").fill(app_code(secret, ahead=1))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Two-factor login")).to_be_visible()
    expect(page.locator("#h-two-factor + p")).to_contain_text("10 recovery codes left")
    log_out(page)

    # A recovery code instead of the app, once.
    log_in(page, user.address, personas.password)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".flash.warning")).to_contain_text("You logged in with a recovery code; 9 left")
    log_out(page)

    # The same recovery code again: refused, still not logged in.
    log_in(page, user.address, personas.password)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".error")).to_contain_text("That code is not right (or was used already).")
    shot(page, "two-factor-04-used-code-refused")
    assert page.url.endswith("/login/verify/")
    page.goto("/me/")
    assert "/login/" in page.url
    assert list(
        AuditEntry.objects.filter(action__startswith="two_factor").order_by("pk").values_list("action", flat=True)
    ) == [
        "two_factor.enrol",
        "two_factor.login",
        "two_factor.login",
        "two_factor.refused",
    ]


def _enrolled(mailbox):
    """Two-factor login set up with the app (as the test above does through the pages)."""
    from accounts import twofactor

    device = twofactor.start_enrolment(mailbox=mailbox)
    totp = TOTP(device.bin_key, step=30, t0=0, digits=6)
    totp.time = time.time()
    twofactor.enrol(acting_user=mailbox, mailbox=mailbox, code=f"{totp.token():06d}", origin="test")


def test_a_security_key_logs_in_in_place_of_the_code_until_it_is_removed(page, personas, shot):
    """Chromium's virtual authenticator (DevTools' WebAuthn domain) as the key: added on the
    two-factor page, it answers the login's second step; a key that is removed is not asked again."""
    from accounts.models import SecurityKey

    user = personas.user
    _enrolled(user)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": False,
                "hasUserVerification": False,
                "automaticPresenceSimulation": True,
            }
        },
    )
    log_in(page, user.address, personas.password)
    page.get_by_label("Code").fill(app_code(_secret_of(user), ahead=1))
    page.get_by_role("button", name="Log in").click()
    page.goto("/me/two-factor/")
    page.get_by_label("Name of the key").fill("blue key")
    page.get_by_role("button", name="Add a security key").click()
    expect(page.locator(".flash.success")).to_contain_text("The security key blue key logs you in from now on.")
    expect(page.get_by_role("row", name="blue key")).to_be_visible()
    shot(page, "two-factor-05-security-key-added")
    [key] = SecurityKey.objects.filter(mailbox=user)
    assert key.public_key and key.credential_id
    log_out(page)

    log_in(page, user.address, personas.password)
    expect(page.get_by_role("heading", name="Second step of the login")).to_be_visible()
    shot(page, "two-factor-06-security-key-login")
    page.get_by_role("button", name="Use my security key").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto("/me/two-factor/")
    expect(page.get_by_role("row", name="blue key")).not_to_contain_text("not yet")
    last = AuditEntry.objects.filter(action="two_factor.login").order_by("pk").last()
    assert last.after == {"method": "security key", "key": "blue key"}

    page.get_by_role("button", name="Remove blue key").click()
    expect(page.locator(".flash.success")).to_contain_text("no longer logs you in")
    assert not SecurityKey.objects.filter(mailbox=user).exists()
    log_out(page)
    log_in(page, user.address, personas.password)
    expect(page.get_by_role("heading", name="Second step of the login")).to_be_visible()
    expect(page.get_by_role("button", name="Use my security key")).to_have_count(0)


def _secret_of(mailbox) -> str:
    from accounts import twofactor

    return twofactor.secret_text(twofactor.device_of(mailbox))
