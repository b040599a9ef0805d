"""The full matrix (MariaDB/MySQL only): relay, vacation, hostile recipients."""

from __future__ import annotations

import datetime
import email
import time

import pytest
from django.conf import settings

from accounts import services as accounts
from tests.mailstack.conftest import PASSWORD
from tests.mailstack.test_core import _authenticated, _eventually, accepted, message, send
from vacation.models import default_text
from vacation.services import vacation_set

pytestmark = [pytest.mark.mailstack, pytest.mark.mailstack_full]


def sink_wait(stack, predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in stack.sink.messages if predicate(m)]
        if found:
            return found
        time.sleep(0.1)
    return []


# --- relay ------------------------------------------------------------------------------------
def test_relay_allowed_for_an_authenticated_mailbox_that_may_relay(stack):
    conn = _authenticated(stack, "relayer@alpha.test")
    try:
        subject, replies, data = send(stack, "friend@elsewhere.test", sender="relayer@alpha.test", conn=conn)
    finally:
        conn.close()
    assert replies["friend@elsewhere.test"][0] == 250 and data[0] == 250
    got = sink_wait(stack, lambda m: subject.encode() in m[2])
    assert got and got[0][1] == ["friend@elsewhere.test"], stack.log()


# --- vacation -----------------------------------------------------------------------------------
VACATIONER = "vacationer@alpha.test"


@pytest.fixture
def vacation(stack, directory):
    mailbox = accounts.get_mailbox(VACATIONER)
    today = datetime.date.today()
    vacation_set(
        origin="test",
        acting_user=None,
        mailbox=mailbox,
        mode="custom",
        subject="Away until Monday",
        body="Back on Monday.\nRegards",
        first_day=today - datetime.timedelta(days=1),
        last_day=today + datetime.timedelta(days=1),
    )
    yield mailbox
    vacation_set(origin="test", acting_user=None, mailbox=mailbox, mode="off")


def replies_to(stack, sender):
    return [m for m in stack.sink.messages if m[1] == [sender] and b"Auto-Submitted: auto-replied" in m[2]]


def test_vacation_replies_once_per_sender_and_the_original_is_delivered(stack, vacation):
    sender = "friend1@outside.test"
    first = accepted(stack, VACATIONER, sender=sender)
    stack.wait_for(VACATIONER, PASSWORD, first)
    assert sink_wait(stack, lambda m: m[1] == [sender]), stack.log()
    reply = email.message_from_bytes(replies_to(stack, sender)[0][2])
    assert str(email.header.make_header(email.header.decode_header(reply["Subject"]))) == "Away until Monday"
    assert "Back on Monday." in reply.get_payload(decode=True).decode()
    second = accepted(stack, VACATIONER, sender=sender)
    stack.wait_for(VACATIONER, PASSWORD, second)
    stack.run_queue()
    time.sleep(0.5)
    assert len(replies_to(stack, sender)) == 1
    # another sender gets their own reply
    accepted(stack, VACATIONER, sender="friend2@outside.test")
    assert sink_wait(stack, lambda m: m[1] == ["friend2@outside.test"]), stack.log()


def test_twenty_messages_at_once_from_one_sender_get_exactly_one_reply(stack, vacation):
    """Parallel deliveries must not race on the once-file (measured: 4-6 replies to 6 messages)."""
    import threading

    sender, subjects, errors = "burst@outside.test", [], []

    def one(n: int) -> None:
        try:
            subjects.append(accepted(stack, VACATIONER, sender=sender, subject=f"burst {n}"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(subjects) == 20, errors
    for subject in subjects:
        stack.wait_for(VACATIONER, PASSWORD, subject, timeout=30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and stack.exim("-bpc").stdout.strip() != "0":
        stack.run_queue()
        time.sleep(0.5)
    time.sleep(1)
    assert len(replies_to(stack, sender)) == 1, stack.log()


@pytest.mark.parametrize("language", ["", "de", "fr"])
def test_vacation_default_text_goes_out_in_the_language_it_was_set_in(stack, vacation, language):
    """The default reply (settings.VACATION_DEFAULT_*) in the language of whoever set the vacation,
    as the catalogues translate it (empty: the server's); Exim chooses the text by the row's
    language, from the rendered configuration."""
    vacation_set(origin="test", acting_user=None, mailbox=vacation, mode="default", language=language)
    sender = f"friend-{language or 'server'}@outside.test"
    accepted(stack, VACATIONER, sender=sender)
    got = sink_wait(stack, lambda m: m[1] == [sender])
    assert got, stack.log()
    reply = email.message_from_bytes(got[0][2])
    subject, body = default_text(language)
    if language:  # (a catalogue that lacks the text would send the English one: not this test's answer)
        assert subject != settings.VACATION_DEFAULT_SUBJECT and body != settings.VACATION_DEFAULT_BODY
    assert str(email.header.make_header(email.header.decode_header(reply["Subject"]))) == subject
    assert body in reply.get_payload(decode=True).decode()


@pytest.mark.parametrize(
    "case",
    ["list", "bulk", "auto-submitted", "null-sender", "not-named", "mailer-daemon"],
)
def test_vacation_never_replies_to_lists_bulk_automatic_null_or_unnamed(stack, vacation, case):
    sender = f"{case}@outside.test"
    headers = {
        "list": {"List_Id": "<news.outside.test>"},
        "bulk": {"Precedence": "bulk"},
        "auto-submitted": {"Auto_Submitted": "auto-replied"},
    }.get(case, {})
    to = "undisclosed-recipients:;" if case == "not-named" else VACATIONER
    envelope_sender = {"null-sender": "", "mailer-daemon": "MAILER-DAEMON@outside.test"}.get(case, sender)
    msg = message(to, f"no reply please ({case})", sender=sender, **headers)
    _, replies, data = send(stack, VACATIONER, sender=envelope_sender, msg=msg)
    assert data[0] == 250, data
    stack.wait_for(VACATIONER, PASSWORD, f"no reply please ({case})")
    stack.run_queue()
    time.sleep(0.5)
    assert not [m for m in stack.sink.messages if m[1] == [envelope_sender or sender]], stack.log()


def test_vacation_outside_its_days_sends_nothing(stack, vacation):
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    vacation_set(origin="test", acting_user=None, mailbox=vacation, mode="custom", first_day=tomorrow, last_day=None)
    sender = "early@outside.test"
    subject = accepted(stack, VACATIONER, sender=sender)
    stack.wait_for(VACATIONER, PASSWORD, subject)
    stack.run_queue()
    time.sleep(0.5)
    assert not replies_to(stack, sender)


# --- hostile recipients -------------------------------------------------------------------------
HOSTILE_REFUSED = [
    "alice'--@alpha.test",
    "alice' OR '1'='1@alpha.test",
    "x' UNION SELECT address FROM lookup_mailboxes_v1 --@alpha.test",
    'alice"@alpha.test',
    "al%ce@alpha.test",
    "%@alpha.test",
    "a_ice@alpha.test",
    "_____@alpha.test",
    "alice\\@alpha.test",
    "alice@alpha.test'",
    "alice;@alpha.test",
    "a" * 65 + "@alpha.test",
    "b" * 300 + "@alpha.test",
    "%@beta.test",
    "x' OR 1=1 --@beta.test",
    "${run{/bin/touch${tod_epoch}}}@alpha.test",  # legal atext: must never be expanded again
    "$local_part@alpha.test",
    "{$domain}@alpha.test",
]


def _raw_rcpt(conn, address: str) -> int:
    local, _, domain = address.rpartition("@")
    if any(ch in local for ch in ' "\\;') or "'" in domain:
        local = '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"'
    conn.send(f"RCPT TO:<{local}@{domain}>\r\n".encode())
    code, _ = conn.getreply()
    return code


@pytest.mark.parametrize("address", HOSTILE_REFUSED)
def test_hostile_recipients_are_refused(stack, address):
    conn = stack.smtp()
    try:
        assert conn.mail("someone@outside.test")[0] == 250
        code = _raw_rcpt(conn, address)
        assert 500 <= code < 600, (address, code)
    finally:
        conn.close()


@pytest.mark.parametrize("raw", ["al\u00edce@alpha.test", "\u0430lice@alpha.test", "alice\u200b@alpha.test"])
def test_unicode_look_alikes_of_a_mailbox_are_refused(stack, raw):
    """Raw UTF-8 bytes without SMTPUTF8: never routed to alice@alpha.test."""
    conn = stack.smtp()
    try:
        assert conn.mail("someone@outside.test")[0] == 250
        conn.send(b"RCPT TO:<" + raw.encode() + b">\r\n")
        code, _ = conn.getreply()
        assert 500 <= code < 600, (raw, code)
    finally:
        conn.close()


def test_hostile_but_valid_local_parts_route_exactly_as_written(stack):
    # a_b does not exist at beta.test: the catch-all takes it (not a LIKE match of another mailbox)
    subject = accepted(stack, "d_ve@beta.test")
    stack.wait_for("erin@beta.test", PASSWORD, subject)
    assert subject not in stack.subjects("dave@beta.test", PASSWORD)
    # a quoted local part that spells an existing mailbox is that mailbox (RFC 5321)
    conn = stack.smtp()
    try:
        assert conn.mail("someone@outside.test")[0] == 250
        conn.send(b'RCPT TO:<"alice"@alpha.test>\r\n')
        code, _ = conn.getreply()
        assert code == 250
        subject = "quoted alice"
        assert conn.data(message("alice@alpha.test", subject).as_bytes())[0] == 250
    finally:
        conn.close()
    stack.wait_for("alice@alpha.test", PASSWORD, subject)
    assert _eventually(lambda: True)
