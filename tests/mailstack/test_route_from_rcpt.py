"""The delivery right after reception routes a plain mailbox by what its RCPT read
(deploy/exim/20-routers.conf, "received_mailbox"), and only a plain mailbox, and only for
MAIL_ROUTE_FROM_RCPT_SECONDS (the test stack's ROUTE_FROM_RCPT_SECONDS); everything else asks
the directory."""

from __future__ import annotations

import re
import time

import pytest

from accounts import services as accounts
from mailadmin.lib.sizes import MB
from tests import factories
from tests.mailstack.conftest import PASSWORD
from tests.mailstack.stack import ROUTE_FROM_RCPT_SECONDS
from tests.mailstack.test_core import _eventually, accepted, message, send

pytestmark = pytest.mark.mailstack


def routers(stack, subject_id: str) -> dict[str, str]:
    """Which mailbox got the message with Exim id `subject_id`, by which router: the "=>" and "->"
    lines of the mainlog, with the address Dovecot confirmed (C="250 2.0.0 <address> ... Saved")."""
    found = {}
    for line in stack.log().splitlines():
        hit = re.search(rf'{subject_id} [=-]> \S+(?: <[^>]*>)? R=(\w+) T=\w+ C="250 2.0.0 <([^>]+)>', line)
        if hit:
            found[hit.group(2)] = hit.group(1)
    return found


def exim_id(stack, subject: str) -> str:
    """The Exim id of the message received with `subject` (the mainlog's "<=" line shows it)."""
    for line in stack.log().splitlines():
        if "<=" in line and f'T="{subject}"' in line:
            return line.split()[2]
    raise AssertionError(f"no reception of {subject!r} in the log:\n{stack.log()}")


def test_only_plain_mailboxes_skip_the_directory_and_every_recipient_gets_what_it_should(stack, directory):
    """One message to a plain mailbox, a mailbox that forwards, an alias chain and an address at a
    domain alias: the plain mailbox is routed by its RCPT's row; the others through the routers that
    read the directory, so the forwarder's mail goes on and its own mailbox keeps nothing."""
    forwarder = factories.mailbox("passes-on@alpha.test")
    accounts.mailbox_set_forwarding(
        origin="test", acting_user=None, mailbox=forwarder, destinations=["dave@alpha.test"], keep_copy=False
    )
    rcpts = ["alice@alpha.test", "passes-on@alpha.test", "chain1@alpha.test", "carol@alias.test"]
    subject, replies, data = send(stack, rcpts)
    assert all(code == 250 for code, _ in replies.values()) and data[0] == 250, (replies, data)
    for box in ("alice@alpha.test", "dave@alpha.test", "bob@alpha.test", "carol@alpha.test"):
        stack.wait_for(box, PASSWORD, subject)
    assert stack.maildir_count("passes-on@alpha.test", subject) == 0
    ident = exim_id(stack, subject)
    assert _eventually(lambda: len(routers(stack, ident)) == 4), stack.log()
    assert routers(stack, ident) == {
        "alice@alpha.test": "received_mailbox",
        "dave@alpha.test": "mailbox",  # forwarded by passes-on@
        "bob@alpha.test": "mailbox",  # at the end of chain1 -> chain2 -> chain3
        "carol@alpha.test": "mailbox",  # carol@alias.test, at its target domain
    }, stack.log()


def test_a_retry_after_the_window_routes_by_the_directory_as_it_is_then(stack, directory):
    """A message Dovecot could not take at once (its quota) waits in the queue; meanwhile the
    mailbox starts forwarding with a copy. Retried once MAIL_ROUTE_FROM_RCPT_SECONDS have passed,
    the message is routed by the directory as it is now: the forwarding's target gets it too."""
    box = factories.mailbox("late-forward@alpha.test", quota_bytes=1 * MB)
    stack.flush_auth_cache()
    first = message(box.address, "fills the quota")
    first.set_content("x" * 900_000)
    accepted(stack, box.address, msg=first)
    assert _eventually(lambda: stack.maildir_count(box.address, "fills the quota") == 1), stack.log()
    waiting = message(box.address, "waits for room")
    waiting.set_content("y" * 200_000)
    accepted(stack, box.address, msg=waiting)
    assert _eventually(lambda: "late-forward@alpha.test" in stack.log() and "quota" in stack.log().lower())
    assert stack.maildir_count(box.address, "waits for room") == 0
    ident = exim_id(stack, "waits for room")
    received = time.monotonic()
    accounts.mailbox_set_forwarding(
        origin="test", acting_user=None, mailbox=box, destinations=["dave@alpha.test"], keep_copy=True
    )
    accounts.mailbox_update(origin="test", acting_user=None, mailbox=box, quota_bytes=0)
    stack.flush_auth_cache()
    time.sleep(max(0.0, ROUTE_FROM_RCPT_SECONDS + 1 - (time.monotonic() - received)))
    stack.run_queue()
    assert _eventually(lambda: stack.maildir_count(box.address, "waits for room") == 1), stack.log()
    stack.wait_for("dave@alpha.test", PASSWORD, "waits for room")
    assert routers(stack, ident) == {"late-forward@alpha.test": "mailbox", "dave@alpha.test": "mailbox"}, stack.log()
    assert " ** " not in stack.log()
