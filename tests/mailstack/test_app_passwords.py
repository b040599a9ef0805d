"""App passwords against the real Dovecot and Exim, on every database: what a mail program sees.

Each test makes its own mailbox (in a domain of its own where it changes the domain), creates app
passwords through the service the panel uses, and logs in over IMAP, POP3 and SMTP submission.
"""

from __future__ import annotations

import imaplib
import poplib
import smtplib
import uuid

import pytest

from accounts import apppasswords
from accounts.models import AppPassword
from tests import factories
from tests.mailstack.conftest import PASSWORD

pytestmark = pytest.mark.mailstack


def _mailbox(domain: str | None = None):
    domain = domain or "alpha.test"
    return factories.mailbox(f"app-{uuid.uuid4().hex[:10]}@{domain}")


def _create(mailbox, protocols, name=None):
    _, shown = apppasswords.create(
        acting_user=mailbox, mailbox=mailbox, name=name or uuid.uuid4().hex[:8], protocols=protocols, origin="test"
    )
    return shown


def _imap_ok(stack, address, password) -> bool:
    try:
        stack.imap(address, password).logout()
    except imaplib.IMAP4.error:
        return False
    return True


def _pop3_ok(stack, address, password) -> bool:
    try:
        stack.pop3(address, password).quit()
    except poplib.error_proto:
        return False
    return True


def _smtp_ok(stack, address, password) -> bool:
    conn = stack.smtp("submission")
    try:
        conn.starttls(context=stack.tls_context())
        conn.ehlo("client.mailstack.test")
        conn.login(address, password)
    except smtplib.SMTPAuthenticationError:
        return False
    finally:
        conn.close()
    return True


def test_an_app_password_for_imap_logs_in_over_imap_only(stack, directory):
    mailbox = _mailbox()
    shown = _create(mailbox, ["imap"])
    assert _imap_ok(stack, mailbox.address, shown)
    assert not _pop3_ok(stack, mailbox.address, shown)
    assert not _smtp_ok(stack, mailbox.address, shown)
    # once accepted over IMAP, the cache does not let it in over the other protocols either
    assert _imap_ok(stack, mailbox.address, shown)
    assert not _pop3_ok(stack, mailbox.address, shown)
    # the main password still works everywhere (the domain does not require app passwords)
    assert _pop3_ok(stack, mailbox.address, PASSWORD) and _smtp_ok(stack, mailbox.address, PASSWORD)


def test_app_passwords_for_pop3_and_smtp_as_typed_by_hand(stack, directory):
    mailbox = _mailbox()
    shown = _create(mailbox, ["pop3", "smtp"])
    typed = shown.replace("-", " ").upper()
    assert _pop3_ok(stack, mailbox.address, typed)
    assert _smtp_ok(stack, mailbox.address, shown.replace("-", ""))
    assert not _imap_ok(stack, mailbox.address, shown)


def test_a_revoked_app_password_is_refused_at_once_after_the_cache_flush(stack, directory):
    mailbox = _mailbox()
    shown = _create(mailbox, ["imap", "smtp"], name="phone")
    assert _imap_ok(stack, mailbox.address, shown) and _smtp_ok(stack, mailbox.address, shown)
    apppasswords.revoke(acting_user=mailbox, app_password=apppasswords.get(mailbox, "phone"), origin="test")
    stack.flush_auth_cache()
    assert not _imap_ok(stack, mailbox.address, shown)
    assert not _smtp_ok(stack, mailbox.address, shown)
    assert _imap_ok(stack, mailbox.address, PASSWORD)


def test_another_mailboxs_app_password_or_a_forged_one_is_refused(stack, directory):
    owner, other = _mailbox(), _mailbox()
    shown = _create(owner, ["imap"])
    assert not _imap_ok(stack, other.address, shown)
    key_id = AppPassword.objects.get(mailbox=owner).key_id
    forged = key_id + "a" * (apppasswords.SECRET_CHARS)  # the right key id, a wrong secret
    assert not _imap_ok(stack, owner.address, forged)
    assert _imap_ok(stack, owner.address, shown)


def test_the_twentieth_of_twenty_app_passwords_logs_in_and_its_use_is_recorded(stack, directory):
    mailbox = _mailbox()
    shown = [_create(mailbox, ["imap"], name=f"device {i}") for i in range(20)]
    assert AppPassword.objects.get(mailbox=mailbox, name="device 19").last_used_at is None
    assert _imap_ok(stack, mailbox.address, shown[19])
    used = AppPassword.objects.get(mailbox=mailbox, name="device 19").last_used_at
    assert used is not None
    assert AppPassword.objects.filter(mailbox=mailbox, last_used_at__isnull=False).count() == 1


def test_where_the_domain_requires_app_passwords_the_main_password_logs_in_to_the_panel_only(stack, directory):
    from django.test import Client
    from django.urls import reverse

    from domains import services as domains

    def panel_login(password) -> bool:
        response = Client().post(reverse("login"), {"username": mailbox.address, "password": password})
        return response.status_code == 302 and "_auth_user_id" in response.client.session

    domain = factories.domain(f"apps-{uuid.uuid4().hex[:8]}.test")
    mailbox = _mailbox(domain.name)
    shown = _create(mailbox, ["imap", "pop3", "smtp"])
    assert _imap_ok(stack, mailbox.address, PASSWORD)
    domains.domain_update(acting_user=None, domain=domain, origin="test", require_app_passwords=True)
    stack.flush_auth_cache()
    assert not _imap_ok(stack, mailbox.address, PASSWORD)
    assert not _pop3_ok(stack, mailbox.address, PASSWORD)
    assert not _smtp_ok(stack, mailbox.address, PASSWORD)
    assert _imap_ok(stack, mailbox.address, shown) and _smtp_ok(stack, mailbox.address, shown)
    assert panel_login(PASSWORD)
    assert not panel_login(shown)  # the panel never takes an app password
    domains.domain_update(acting_user=None, domain=domain, origin="test", require_app_passwords=False)
    stack.flush_auth_cache()
    assert _imap_ok(stack, mailbox.address, PASSWORD)
