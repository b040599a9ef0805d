"""Hostile headers and senders at every auto-reply path: the reply goes to the sender only.

The vacation reply is the one message the server writes from another message's data. An
attacker who can put a line break into one of its headers turns the vacationer's address into
an open relay (a Bcc: to anyone, a body of the attacker's choosing). Each case below is sent,
as raw bytes, to a vacationing mailbox directly, through an alias, through a domain alias and
through a catch-all; whatever comes back must go to the envelope sender alone and carry only
the directory's text.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import time
import uuid

import pytest

from accounts import services as accounts
from aliases import services as aliases
from tests.mailstack.conftest import PASSWORD
from tests.mailstack.test_full import sink_wait
from vacation.services import vacation_set

pytestmark = [pytest.mark.mailstack, pytest.mark.mailstack_full]

BODY = "Back on Monday.\nRegards"
SUBJECT = "Away until Monday"
MARK = "ATTACKER-TEXT"
VICTIMS = ("victim@elsewhere.test", "bob@alpha.test")
# path name -> (address the mail is sent to, the mailbox on vacation)
PATHS = {
    "mailbox": ("vacationer@alpha.test", "vacationer@alpha.test"),
    "alias": ("away@alpha.test", "vacationer@alpha.test"),
    "domain alias": ("vacationer@alias.test", "vacationer@alpha.test"),
    "catch-all": ("whoever@beta.test", "erin@beta.test"),
}
INJECT = f"Bcc: {VICTIMS[0]}, {VICTIMS[1]}"
CRLF = "\r\n"


def _q(text: str) -> str:
    """RFC 2047 Q-encoding of every byte: the decoded header carries the CR/LF."""
    return "=?utf-8?q?" + "".join(f"={b:02X}" for b in text.encode()) + "?="


# case -> (extra header lines as bytes, envelope sender template if no reply is due, else None)
CASES = {
    "repeated message-id": (f"Message-ID: <a@outside.test>\r\nMessage-ID: {INJECT}\r\n".encode(), None),
    "rfc2047 crlf message-id": (f"Message-ID: {_q(f'<b@x>{CRLF}{INJECT}{CRLF}{CRLF}{MARK}')}\r\n".encode(), None),
    "rfc2047 crlf references": (
        f"Message-ID: <c@outside.test>\r\nReferences: {_q(f'<r@x>{CRLF}{INJECT}')}\r\n".encode(),
        None,
    ),
    "bare cr": (f"Message-ID: <d@outside.test>\r{INJECT}\r\n".encode(), None),
    "nul": (f"Message-ID: <e@outside.test>\x00\r\n{INJECT}\r\n".encode().replace(b"\r\nBcc", b"Bcc"), None),
    # no reply: Exim would copy it into In-Reply-To, past SMTP's line limit (the reply would freeze)
    "over-long": (f"Message-ID: <{'f' * 5000}@outside.test>\r\n".encode(), "s-{tag}@outside.test"),
    "folded": (f"Message-ID: <g@outside.test>\r\n {INJECT}\r\n".encode(), None),
    "hostile envelope sender": (b"Message-ID: <h@outside.test>\r\n", '"x>,<{victim}"@outside.test'),
}


@pytest.fixture(scope="module")
def vacations(stack, django_db_blocker):
    today = datetime.date.today()
    with django_db_blocker.unblock():
        away = aliases.alias_create(
            origin="test",
            acting_user=None,
            domain=accounts.get_mailbox("vacationer@alpha.test").domain,
            local_part="away",
            destinations=["vacationer@alpha.test"],
        )
        boxes = [accounts.get_mailbox(a) for a in {box for _, box in PATHS.values()}]
        for box in boxes:
            vacation_set(
                origin="test",
                acting_user=None,
                mailbox=box,
                mode="custom",
                subject=SUBJECT,
                body=BODY,
                first_day=today - datetime.timedelta(days=1),
                last_day=today + datetime.timedelta(days=1),
            )
    yield
    with django_db_blocker.unblock():
        for box in boxes:
            vacation_set(origin="test", acting_user=None, mailbox=box, mode="off")
        aliases.alias_delete(origin="test", acting_user=None, alias=away)


def send_raw(stack, sender: str, rcpt: str, headers: bytes) -> tuple[int, int]:
    """One SMTP transaction with the message as raw bytes (no line-ending repair by smtplib)."""
    conn = stack.smtp()
    try:
        conn.send(f"MAIL FROM:<{sender}>\r\n".encode())
        mail_code, _ = conn.getreply()
        if mail_code != 250:
            return mail_code, 0
        code, _ = conn.docmd("RCPT", f"TO:<{rcpt}>")
        assert code == 250, code
        code, _ = conn.docmd("DATA")
        assert code == 354, code
        message = (
            b"From: Someone <someone@outside.test>\r\n"
            + f"To: {rcpt}\r\nSubject: {MARK} hello\r\n".encode()
            + headers
            + f"\r\n{MARK} in the body\r\n.\r\n".encode()
        )
        conn.send(message)
        code, _ = conn.getreply()
        return mail_code, code
    finally:
        conn.close()


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_headers_never_reach_anyone_but_the_sender(stack, vacations, case):
    headers, sender_template = CASES[case]
    mainlog = stack.root / "log" / "mainlog"
    seen, log_start = len(stack.sink.messages), mainlog.stat().st_size
    senders = {}
    for path, (rcpt, _) in PATHS.items():
        tag = uuid.uuid4().hex[:8]
        sender = (sender_template or "s-{tag}@outside.test").format(tag=tag, victim=VICTIMS[0])
        mail_code, data_code = send_raw(stack, sender, rcpt, headers)
        if sender_template and mail_code != 250:
            continue  # refused at MAIL: nothing will be sent to it either
        assert data_code == 250, (path, data_code, stack.log())
        senders[path] = sender
    # every reply arrives, to its sender
    for path, sender in senders.items():
        if not sender_template:
            assert sink_wait(stack, lambda m, s=sender: m[1] == [s]), (path, stack.log())
    stack.run_queue()
    time.sleep(1)
    new = stack.sink.messages[seen:]
    for _sender, rcpts, data in new:
        assert not set(rcpts) & set(VICTIMS), (case, rcpts, data[:2000])
        assert MARK.encode() not in data, (case, data[:2000])
    replies = [m for m in new if b"Auto-Submitted: auto-replied" in m[2]]
    for _, rcpts, data in [m for m in replies if set(m[1]) & set(senders.values())]:
        reply = email.message_from_bytes(data, policy=email.policy.default)
        assert rcpts in ([s] for s in senders.values()), rcpts
        assert reply["Bcc"] is None and reply["Cc"] is None
        assert len(reply.get_all("In-Reply-To") or []) <= 1
        assert reply.get_content().replace("\r\n", "\n").strip() == BODY
        assert str(reply["Subject"]) == SUBJECT
    assert not [s for s in stack.subjects("bob@alpha.test", PASSWORD) if MARK in s]
    new_log = mainlog.read_bytes()[log_start:].decode(errors="replace")
    assert " ** " not in new_log and "Frozen" not in new_log, new_log
