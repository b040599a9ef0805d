"""Over quota: a temporary failure at RCPT (never a bounce after acceptance), delivered once fixed."""

from __future__ import annotations

import pytest

from accounts import services as accounts
from accounts.models import Mailbox
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
    accounts.mailbox_update(acting_user=None, mailbox=mailbox, quota_mb=1)
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
        accounts.mailbox_update(acting_user=None, mailbox=mailbox, quota_mb=0)
        stack.flush_auth_cache()
    stack.run_queue()
    stack.wait_for("carol@alpha.test", PASSWORD, "too big for the quota")
    assert " ** " not in stack.log(), "a message bounced"
    assert not [m for m in stack.sink.messages if b"Mail delivery failed" in m[2]]
