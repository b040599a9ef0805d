"""Mailbox forwarding through real Exim and Dovecot, on every database: keeping a copy or not,
to local and outside addresses, loops, and together with a vacation reply."""

from __future__ import annotations

import datetime
import email
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts import services as accounts
from mailserver.trace import trace
from tests import factories
from tests.mailstack.conftest import PASSWORD
from tests.mailstack.stack import parse_bt
from tests.mailstack.test_core import _eventually, accepted
from vacation.services import vacation_set

pytestmark = pytest.mark.mailstack

SENDER = "someone@outside.test"


def forwarding(address: str, destinations: list[str], *, keep_copy: bool):
    mailbox = accounts.get_mailbox(address) if _exists(address) else factories.mailbox(address)
    return accounts.mailbox_set_forwarding(
        origin="test", acting_user=None, mailbox=mailbox, destinations=destinations, keep_copy=keep_copy
    )


def _exists(address: str) -> bool:
    from accounts.models import Mailbox

    return Mailbox.objects.filter(address=address).exists()


def sink_for(stack, rcpt: str, subject: str) -> list:
    return [m for m in stack.sink.messages if m[1] == [rcpt] and subject.encode() in m[2]]


def settle(stack) -> None:
    """Let every delivery of the queue finish (nothing may still be on its way)."""
    stack.run_queue()
    time.sleep(1.0)


def bounces_to(stack, sender: str) -> list:
    return [m for m in stack.sink.messages if m[1] == [sender] and m[0] == ""]


def test_forwarding_with_a_copy_reaches_the_mailbox_a_local_and_an_outside_address(stack, directory):
    forwarding("fwd-keep@alpha.test", ["bob@alpha.test", "far@outside.test"], keep_copy=True)
    subject = accepted(stack, "fwd-keep@alpha.test")
    stack.wait_for("fwd-keep@alpha.test", PASSWORD, subject)
    stack.wait_for("bob@alpha.test", PASSWORD, subject)
    assert _eventually(lambda: sink_for(stack, "far@outside.test", subject)), stack.log()
    settle(stack)
    assert stack.maildir_count("fwd-keep@alpha.test", subject) == 1
    assert len(sink_for(stack, "far@outside.test", subject)) == 1
    assert not bounces_to(stack, SENDER)


def test_forwarding_without_a_copy_leaves_nothing_in_the_mailbox(stack, directory):
    forwarding("fwd-only@alpha.test", ["carol@alpha.test"], keep_copy=False)
    subject = accepted(stack, "fwd-only@alpha.test")
    stack.wait_for("carol@alpha.test", PASSWORD, subject)
    settle(stack)
    assert stack.maildir_count("fwd-only@alpha.test", subject) == 0
    assert stack.maildir_count("carol@alpha.test", subject) == 1


def test_forwarding_switched_off_delivers_to_the_mailbox_again(stack, directory):
    mailbox = forwarding("fwd-off@alpha.test", ["dave@alpha.test"], keep_copy=False)
    accounts.mailbox_set_forwarding(origin="test", acting_user=None, mailbox=mailbox, destinations=[])
    subject = accepted(stack, "fwd-off@alpha.test")
    stack.wait_for("fwd-off@alpha.test", PASSWORD, subject)
    settle(stack)
    assert stack.maildir_count("dave@alpha.test", subject) == 0


def test_a_forwarding_loop_ends_once_in_the_mailbox_where_it_comes_round(stack, directory):
    forwarding("ring-x@alpha.test", ["ring-y@alpha.test"], keep_copy=False)
    forwarding("ring-y@alpha.test", ["ring-x@alpha.test"], keep_copy=False)
    assert trace("ring-x@alpha.test").mailboxes == ["ring-x@alpha.test"]
    subject = accepted(stack, "ring-x@alpha.test")
    stack.wait_for("ring-x@alpha.test", PASSWORD, subject)
    settle(stack)
    assert stack.maildir_count("ring-x@alpha.test", subject) == 1
    assert stack.maildir_count("ring-y@alpha.test", subject) == 0
    assert not bounces_to(stack, SENDER)


def test_a_mailbox_forwarding_to_an_alias_that_points_back_gets_one_copy(stack, directory):
    factories.alias("back@alpha.test", ["fwd-back@alpha.test", "alice@alpha.test"])
    forwarding("fwd-back@alpha.test", ["back@alpha.test"], keep_copy=True)
    subject = accepted(stack, "fwd-back@alpha.test")
    stack.wait_for("alice@alpha.test", PASSWORD, subject)
    stack.wait_for("fwd-back@alpha.test", PASSWORD, subject)
    settle(stack)
    assert stack.maildir_count("fwd-back@alpha.test", subject) == 1
    assert stack.maildir_count("alice@alpha.test", subject) == 1


def test_vacation_and_forwarding_send_one_reply_and_forward_the_mail(stack, directory):
    mailbox = forwarding("away-fwd@alpha.test", ["bob@alpha.test"], keep_copy=False)
    today = datetime.date.today()
    vacation_set(
        origin="test",
        acting_user=None,
        mailbox=mailbox,
        mode="custom",
        subject="Away, mail forwarded",
        body="Bob reads my mail.",
        first_day=today,
        last_day=today + datetime.timedelta(days=1),
    )
    sender = "asker@outside.test"
    # the same sender on six connections at once, as a busy correspondent's server does
    with ThreadPoolExecutor(max_workers=6) as pool:
        subjects = list(pool.map(lambda _: accepted(stack, "away-fwd@alpha.test", sender=sender), range(6)))
    for subject in subjects:
        stack.wait_for("bob@alpha.test", PASSWORD, subject)
    settle(stack)
    replies = [m for m in stack.sink.messages if m[1] == [sender] and b"Auto-Submitted: auto-replied" in m[2]]
    assert len(replies) == 1, stack.log()
    reply = email.message_from_bytes(replies[0][2])
    assert "Bob reads my mail." in reply.get_payload(decode=True).decode()
    assert [stack.maildir_count("away-fwd@alpha.test", s) for s in subjects] == [0] * 6


@pytest.mark.parametrize(
    ("address", "destinations", "keep_copy"),
    [
        ("bt-keep@alpha.test", ["bob@alpha.test", "far@outside.test"], True),
        ("bt-only@alpha.test", ["info@alpha.test"], False),
        ("bt-unknown@alpha.test", ["nobody-here@alpha.test"], False),
    ],
)
def test_trace_and_exim_agree_on_forwarding(stack, directory, address, destinations, keep_copy):
    forwarding(address, destinations, keep_copy=keep_copy)
    exim = parse_bt(stack.exim("-bt", address).stdout)
    traced = {(o.kind, o.address) for o in trace(address).outcomes}
    assert traced == exim
