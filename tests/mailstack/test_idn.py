"""Internationalised domain names as clients write them, against the real Exim on every database.

The directory keeps a domain as IDNA A-labels (xn--bcher-kva.example). A client without SMTPUTF8
writes that form; a client speaking SMTPUTF8 (RFC 6531) may write the Unicode form
(anna@bücher.example) in MAIL and RCPT. Both must reach the same mailbox, meet the same sender
lists, and an authenticated mailbox may send as itself in either form."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest

from domains.models import Domain
from policy import services as senders
from tests import factories

pytestmark = pytest.mark.mailstack

PASSWORD = factories.PASSWORD


@pytest.fixture
def idn(directory):
    unicode_name = f"bücher-{uuid.uuid4().hex[:6]}.test"
    domain = factories.domain(unicode_name)
    assert domain.name.startswith("xn--")  # (stored as A-labels)
    anna = factories.mailbox(f"anna@{domain.name}")
    return unicode_name, domain, anna


def _message(sender: str, rcpt: str, subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, rcpt, subject
    msg.set_content("Grüße\n")
    return msg.as_bytes()


def _send(conn, sender: str, rcpt: str, subject: str, utf8: bool):
    options = ["SMTPUTF8"] if utf8 else []
    code, text = conn.mail(sender, options)
    assert code == 250, (code, text)
    code, text = conn.rcpt(rcpt)
    if code != 250:
        conn.rset()
        return code, text
    conn.command_encoding = "utf-8" if utf8 else "ascii"
    return conn.data(_message(sender, rcpt, subject))


def test_the_unicode_and_the_a_label_form_reach_the_same_mailbox(stack, idn):
    unicode_name, domain, anna = idn
    conn = stack.smtp()
    try:
        assert "smtputf8" in conn.esmtp_features
        conn.command_encoding = "utf-8"
        one, two = f"idn {uuid.uuid4().hex[:8]}", f"idn {uuid.uuid4().hex[:8]}"
        assert _send(conn, "someone@outside.test", f"Anna@{unicode_name.upper()}", one, utf8=True)[0] == 250
        conn.command_encoding = "ascii"
        assert _send(conn, "someone@outside.test", f"anna@{domain.name}", two, utf8=False)[0] == 250
        conn.command_encoding = "utf-8"
        code, _ = _send(conn, "someone@outside.test", f"nobody@{unicode_name}", "x", utf8=True)
        assert code == 550  # unknown in either form: refused, not "relaying denied" for a foreign domain
    finally:
        conn.close()
    stack.wait_for(anna.address, PASSWORD, one)
    stack.wait_for(anna.address, PASSWORD, two)


def test_a_sender_list_entry_matches_a_unicode_sender(stack, idn):
    unicode_name, domain, anna = idn
    spam = f"spämmer-{uuid.uuid4().hex[:6]}.test"
    senders.sender_rule_add(acting_user=None, mailbox=anna, action="deny", pattern=f"@{spam}", origin="test")
    conn = stack.smtp()
    try:
        conn.command_encoding = "utf-8"
        code, text = _send(conn, f"pest@{spam}", anna.address, "x", utf8=True)
        assert code == 550 and b"sender list" in text, (code, text)
    finally:
        conn.close()


def test_a_mailbox_sends_as_itself_in_the_unicode_form(stack, idn):
    unicode_name, domain, anna = idn
    conn = stack.smtp("smtps")
    try:
        conn.login(anna.address, PASSWORD)
        conn.command_encoding = "utf-8"
        subject = f"own {uuid.uuid4().hex[:8]}"
        code, text = _send(conn, f"anna@{unicode_name}", anna.address, subject, utf8=True)
        assert code == 250, (code, text)
    finally:
        conn.close()
    stack.wait_for(anna.address, PASSWORD, subject)
    assert Domain.objects.filter(name=domain.name).exists()
