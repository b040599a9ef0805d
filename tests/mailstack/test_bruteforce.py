"""Password guessing over IMAP, POP3 and SMTP AUTH is slowed or refused per client address.

A second Exim + Dovecot over the same directory runs with the production throttling on
(Dovecot's anvil auth penalty, Exim's limit of failed AUTH per client). All of loopback's
127.0.0.0/8 reaches the servers, so the guesser (127.0.0.2) and the real user (127.0.0.3) are
two different clients, as on the internet.
"""

from __future__ import annotations

import imaplib
import smtplib
import socket
import time

import pytest

from tests.mailstack.conftest import PASSWORD
from tests.mailstack.stack import MailStack

pytestmark = [pytest.mark.mailstack, pytest.mark.mailstack_full]

GUESSER, OWNER, SMTP_GUESSER = "127.0.0.2", "127.0.0.3", "127.0.0.4"
USER = "alice@alpha.test"


@pytest.fixture(scope="module")
def hardened(stack):
    mail = MailStack(
        stack.database,
        stack.credentials,
        extra={"MAIL_AUTH_PENALTY": True, "MAIL_AUTH_FAILURE_LIMIT": 2, "MAIL_AUTH_FAILURE_DELAY": "0 s"},
    )
    try:
        mail.start()
        yield mail
    finally:
        mail.stop()


class _SourcedIMAP(imaplib.IMAP4_SSL):
    source = "127.0.0.1"

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout, source_address=(self.source, 0))
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def imap_login(mail, source: str, password: str) -> tuple[bool, float]:
    """(logged in, seconds it took) for one IMAP login from ``source``."""
    cls = type("IMAP", (_SourcedIMAP,), {"source": source})
    started = time.monotonic()
    conn = cls("127.0.0.1", mail.ports["imaps"], ssl_context=mail.tls_context(), timeout=60)
    try:
        conn.login(USER, password)
        return True, time.monotonic() - started
    except imaplib.IMAP4.error:
        return False, time.monotonic() - started
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def smtp_auth(mail, source: str, password: str) -> int:
    """The reply code to one SMTP AUTH from ``source``."""
    conn = smtplib.SMTP("127.0.0.1", mail.ports["submission"], timeout=30, source_address=(source, 0))
    try:
        conn.ehlo("client.test")
        conn.starttls(context=mail.tls_context())
        conn.ehlo("client.test")
        code, _ = conn.docmd("AUTH", "PLAIN " + _plain(USER, password))
        return code
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()


def _plain(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def test_imap_guessing_is_slowed_for_the_guesser_only(hardened):
    took = []
    deadline = time.monotonic() + 10
    for n in range(20):
        if time.monotonic() > deadline:
            break
        ok, seconds = imap_login(hardened, GUESSER, f"guess number {n}")
        assert not ok
        took.append(seconds)
    # the penalty grows with each failure (2, 4, 8, up to 15 s): the guesser got nowhere near
    # 20 tries in 10 s, and its last tries waited seconds each
    assert len(took) < 10 and min(took[-2:]) >= 2, took
    ok, seconds = imap_login(hardened, OWNER, PASSWORD)
    assert ok and seconds < 2, (ok, seconds)


def test_smtp_auth_guessing_is_refused_for_the_guesser_only(hardened):
    codes = [smtp_auth(hardened, SMTP_GUESSER, f"guess {n}") for n in range(20)]
    assert codes[0] == 535, codes
    # refused (454, without asking Dovecot) past the limit (2 here) and from then on, long before the 20th
    refused = [i for i, code in enumerate(codes) if code == 454]
    assert refused and refused[0] <= 4 and refused == list(range(refused[0], 20)), codes
    assert smtp_auth(hardened, OWNER, PASSWORD) == 235
