"""Content checks at DATA (MariaDB/MySQL only): ClamAV, SpamAssassin, executable attachments, opt-out."""

from __future__ import annotations

import smtplib

import pytest

from tests.mailstack.conftest import PASSWORD
from tests.mailstack.stack import EICAR, GTUBE
from tests.mailstack.test_core import accepted, message, send

pytestmark = [pytest.mark.mailstack, pytest.mark.mailstack_full]


def with_body(to: str, subject: str, body: str):
    msg = message(to, subject)
    msg.set_content(body + "\n")
    return msg


def test_eicar_is_rejected_at_data(stack):
    _, replies, data = send(stack, "alice@alpha.test", msg=with_body("alice@alpha.test", "virus", EICAR))
    assert replies["alice@alpha.test"][0] == 250
    assert data[0] == 550 and b"virus" in data[1], data


def test_gtube_is_rejected_at_data(stack):
    _, _, data = send(stack, "alice@alpha.test", msg=with_body("alice@alpha.test", "spam", GTUBE))
    assert data[0] == 550 and b"spam" in data[1], data


def test_clean_mail_is_tagged_with_its_score_and_delivered(stack):
    subject = accepted(stack, "bob@alpha.test")
    stack.wait_for("bob@alpha.test", PASSWORD, subject)
    conn = stack.imap("bob@alpha.test", PASSWORD)
    try:
        conn.select("INBOX", readonly=True)
        _, found = conn.search(None, "SUBJECT", f'"{subject}"')
        _, parts = conn.fetch(found[0].split()[-1], "(BODY.PEEK[HEADER])")
        assert b"X-Spam-Score:" in parts[0][1]
    finally:
        conn.logout()


def test_executable_attachment_is_rejected(stack):
    msg = message("alice@alpha.test", "invoice")
    msg.add_attachment(
        b"MZ\x90\x00 not really a program", maintype="application", subtype="octet-stream", filename="invoice.exe"
    )
    _, _, data = send(stack, "alice@alpha.test", msg=msg)
    assert data[0] == 550 and b"invoice.exe" in data[1], data


def test_executable_attachment_name_with_encoded_line_breaks_is_one_line_in_the_reply(stack):
    # an RFC 2231 file name that decodes to "a\r\n550 injected\r\n.exe" (raw: email.message rewrites it)
    raw = (
        "From: someone@outside.test\r\nTo: alice@alpha.test\r\nSubject: invoice 2\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n'
        "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment; filename*=utf-8''a%0D%0A550%20injected%0D%0A.exe\r\n\r\nTVo=\r\n--b1--\r\n"
    )
    conn = stack.smtp()
    try:
        conn.mail("someone@outside.test")
        assert conn.rcpt("alice@alpha.test")[0] == 250
        code, text = conn.data(raw.encode())
    except smtplib.SMTPDataError as exc:
        code, text = exc.smtp_code, exc.smtp_error
    finally:
        conn.close()
    assert code == 550 and b"Executable attachments (a??550 injected??.exe)" in text, (code, text)


def test_filtering_off_sole_recipient_receives_the_eicar_test(stack):
    subject, replies, data = send(stack, "nofilter@alpha.test", msg=with_body("nofilter@alpha.test", "eicar ok", EICAR))
    assert data[0] == 250, data
    stack.wait_for("nofilter@alpha.test", PASSWORD, "eicar ok")


def test_filtering_off_is_not_honoured_with_another_recipient(stack):
    msg = with_body("nofilter@alpha.test, alice@alpha.test", "eicar two", EICAR)
    _, replies, data = send(stack, ["nofilter@alpha.test", "alice@alpha.test"], msg=msg)
    assert data[0] == 550, data
