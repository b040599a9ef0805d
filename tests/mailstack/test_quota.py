"""Over quota: a temporary failure at RCPT (never a bounce after acceptance), delivered once fixed."""

from __future__ import annotations

import pytest

from accounts import services as accounts
from accounts import usage
from accounts.models import Mailbox
from mailadmin.lib.sizes import MB
from tests.mailstack.conftest import PASSWORD
from tests.mailstack.test_core import _eventually, accepted, message, send

pytestmark = pytest.mark.mailstack


def test_over_quota_flag_defers_at_rcpt_and_mail_arrives_once_cleared(stack, directory):
    Mailbox.objects.filter(address="full@alpha.test").update(over_quota=True)
    try:
        for rcpt in ("full@alpha.test", "full@alias.test"):
            _, replies, _ = send(stack, rcpt)
            code, text = replies[rcpt]
            assert 400 <= code < 500, (rcpt, code, text)
            assert b"quota" in text.lower()
    finally:
        Mailbox.objects.filter(address="full@alpha.test").update(over_quota=False)
    subject = accepted(stack, "full@alpha.test")
    stack.wait_for("full@alpha.test", PASSWORD, subject)


def test_full_mailbox_keeps_accepted_mail_queued_until_the_quota_is_raised(stack, directory):
    mailbox = accounts.get_mailbox("carol@alpha.test")
    accounts.mailbox_update(origin="test", acting_user=None, mailbox=mailbox, quota_bytes=1 * MB)
    stack.flush_auth_cache()
    first = message("carol@alpha.test", "fills the quota")
    first.set_content("x" * 800_000)
    big = message("carol@alpha.test", "too big for the quota")
    big.set_content("y" * 800_000)
    try:
        send(stack, "carol@alpha.test", msg=first)
        assert _eventually(lambda: stack.maildir_count("carol@alpha.test", "fills the quota") == 1), stack.log()
        _, replies, data = send(stack, "carol@alpha.test", msg=big)
        assert replies["carol@alpha.test"][0] == 250 and data[0] == 250, (replies, data)
        # Dovecot refuses it with a temporary error: Exim keeps it queued, nothing bounces.
        assert _eventually(lambda: "quota" in stack.log().lower()), stack.log()
        assert stack.maildir_count("carol@alpha.test", "too big for the quota") == 0
        assert stack.exim("-bpc").stdout.strip() != "0"
    finally:
        accounts.mailbox_update(origin="test", acting_user=None, mailbox=mailbox, quota_bytes=0)
        stack.flush_auth_cache()
    stack.run_queue()
    stack.wait_for("carol@alpha.test", PASSWORD, "too big for the quota")
    assert " ** " not in stack.log(), "a message bounced"
    assert not [m for m in stack.sink.messages if b"Mail delivery failed" in m[2]]


def _sized(to: str, subject: str, size: int):
    msg = message(to, subject)
    msg.set_content("z" * size)
    return msg


def test_a_quota_of_no_whole_megabytes_is_the_limit_dovecot_enforces(stack, directory):
    """1,500,000 bytes: a 1.4 MB message fits (it would not under 1 MB), another 150 kB does not
    (it would under 2 MB): the byte value reaches Dovecot, not a rounded one."""
    from tests import factories

    factories.mailbox("exact@alpha.test", quota_bytes=1_500_000)
    accepted(stack, "exact@alpha.test", msg=_sized("exact@alpha.test", "fits", 1_400_000))
    assert _eventually(lambda: stack.maildir_count("exact@alpha.test", "fits") == 1), stack.log()
    _, replies, data = send(stack, "exact@alpha.test", msg=_sized("exact@alpha.test", "no room", 150_000))
    assert data[0] == 250  # the directory has no usage figure yet: Dovecot decides, with a 4xx
    assert _eventually(lambda: "exact@alpha.test" in stack.log() and "quota" in stack.log().lower()), stack.log()
    assert stack.maildir_count("exact@alpha.test", "no room") == 0
    mailbox = accounts.get_mailbox("exact@alpha.test")
    accounts.mailbox_update(origin="test", acting_user=None, mailbox=mailbox, quota_bytes=0)
    stack.flush_auth_cache()
    stack.run_queue()
    assert _eventually(lambda: stack.maildir_count("exact@alpha.test", "no room") == 1), stack.log()
    assert " ** " not in stack.log()


def test_no_room_for_the_size_is_a_4xx_at_rcpt_when_declared_and_at_data_otherwise(stack, directory):
    from tests import factories

    factories.mailbox("room@alpha.test", quota_bytes=1 * MB)
    accepted(stack, "room@alpha.test", msg=_sized("room@alpha.test", "most of it", 900_000))
    assert _eventually(lambda: stack.maildir_count("room@alpha.test", "most of it") == 1), stack.log()
    usage.mailbox_usage_refresh(store=stack.root / "store")  # the usage job (cron, every minute)
    assert accounts.get_mailbox("room@alpha.test").usage_bytes > 900_000

    conn = stack.smtp()
    try:
        # declared: refused at RCPT already, before any data is sent
        assert conn.mail("someone@outside.test", ["SIZE=200000"])[0] == 250
        code, text = conn.rcpt("room@alpha.test")
        assert code == 452 and b"full" in text, (code, text)
        conn.rset()
        # a small one still fits
        assert conn.mail("someone@outside.test", ["SIZE=1000"])[0] == 250
        assert conn.rcpt("room@alpha.test")[0] == 250
        conn.rset()
    finally:
        conn.close()
    # undeclared, and the only recipient: refused at DATA once the size is known
    _, replies, data = send(stack, "room@alpha.test", msg=_sized("room@alpha.test", "undeclared", 200_000))
    assert replies["room@alpha.test"][0] == 250 and data[0] == 452, (replies, data)
    # undeclared, with a recipient that has room: accepted; the full mailbox's copy waits, nothing bounces
    subject, replies, data = send(
        stack, ["room@alpha.test", "alice@alpha.test"], msg=_sized("room, alice", "shared", 200_000)
    )
    assert data[0] == 250, data
    stack.wait_for("alice@alpha.test", PASSWORD, "shared")
    assert stack.maildir_count("room@alpha.test", "shared") == 0
    accounts.mailbox_update(
        origin="test", acting_user=None, mailbox=accounts.get_mailbox("room@alpha.test"), quota_bytes=0
    )
    stack.flush_auth_cache()
    stack.run_queue()
    assert _eventually(lambda: stack.maildir_count("room@alpha.test", "shared") == 1), stack.log()
    assert " ** " not in stack.log()
