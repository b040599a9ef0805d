"""Sender allow/deny lists (issue 15.3) against the real Exim on every database: a refused address,
domain or client network gets 550 at RCPT naming the list, an allowed sender beats every refusal
at either level, a domain's list covers its mailboxes, aliases and domain aliases, and a list
changed in the panel counts for the next connection without touching Exim."""

from __future__ import annotations

import uuid

import pytest

from domains import services as domains
from policy import services as senders
from tests import factories
from tests.mailstack.test_core import send

pytestmark = pytest.mark.mailstack


@pytest.fixture
def world(directory):
    name = f"lists-{uuid.uuid4().hex[:8]}.test"
    domain = factories.domain(name)
    rita, sam = factories.mailbox(f"rita@{name}"), factories.mailbox(f"sam@{name}")
    factories.alias(f"team@{name}", ["rita", "sam"])
    domains.domain_alias_create(acting_user=None, target=domain, name=f"alias-{name}", origin="test")
    return domain, rita, sam


def _rule(action, pattern, **where):
    return senders.sender_rule_add(acting_user=None, action=action, pattern=pattern, origin="test", **where)


def _rcpt(stack, rcpt, sender):
    _, replies, _ = send(stack, rcpt, sender=sender)
    return replies[rcpt]


def test_a_mailbox_refuses_an_address_and_a_domain_and_its_neighbour_does_not(stack, world):
    domain, rita, sam = world
    _rule("deny", "Pest@Spam.Example", mailbox=rita)
    _rule("deny", "@junk.example", mailbox=rita)
    code, text = _rcpt(stack, rita.address, "pest@spam.example")
    assert code == 550 and b"refused by the recipient's sender list" in text, (code, text)
    assert _rcpt(stack, rita.address, "PEST@spam.example")[0] == 550  # as the sender typed it
    assert _rcpt(stack, rita.address, "anyone@junk.example")[0] == 550
    assert _rcpt(stack, rita.address, "anyone@sub.junk.example")[0] == 250  # @domain is that domain only
    assert _rcpt(stack, rita.address, "friend@spam.example")[0] == 250
    assert _rcpt(stack, sam.address, "pest@spam.example")[0] == 250
    # bounces (an empty sender) are never refused by address
    assert _rcpt(stack, rita.address, "")[0] == 250


def test_a_domain_list_covers_mailboxes_aliases_and_domain_aliases_and_allow_beats_deny(stack, world):
    domain, rita, sam = world
    _rule("deny", "@spam.example", domain=domain)
    for rcpt in (rita.address, sam.address, f"team@{domain.name}", f"rita@alias-{domain.name}"):
        assert _rcpt(stack, rcpt, "pest@spam.example")[0] == 550, rcpt
    _rule("allow", "newsletter@spam.example", mailbox=sam)  # the mailbox's allow beats the domain's deny
    assert _rcpt(stack, sam.address, "newsletter@spam.example")[0] == 250
    assert _rcpt(stack, rita.address, "newsletter@spam.example")[0] == 550
    _rule("allow", "friend@spam.example", domain=domain)  # and the domain's allow beats the mailbox's deny
    _rule("deny", "friend@spam.example", mailbox=rita)
    assert _rcpt(stack, rita.address, "friend@spam.example")[0] == 250


def test_a_refused_network_is_refused_unless_the_sender_is_allowed(stack, world):
    domain, rita, sam = world
    network = _rule("deny", "127.0.0.0/8", mailbox=rita)  # the tests' clients connect from 127.0.0.1
    _rule("deny", "2001:db8::/32", mailbox=rita)  # (an IPv6 entry in the same list must not break it)
    code, text = _rcpt(stack, rita.address, "someone@outside.test")
    assert code == 550 and b"your network (127.0.0.1)" in text, (code, text)
    assert _rcpt(stack, sam.address, "someone@outside.test")[0] == 250
    _rule("allow", "partner@outside.test", mailbox=rita)
    assert _rcpt(stack, rita.address, "partner@outside.test")[0] == 250
    senders.sender_rule_delete(acting_user=None, rule=network, origin="test")
    assert _rcpt(stack, rita.address, "someone@outside.test")[0] == 250


def test_hostile_senders_are_quoted_and_match_nothing(stack, world):
    domain, rita, _ = world
    _rule("deny", "@spam.example", mailbox=rita)
    for sender in ("x\\'@outside.test", '"a\' OR 1=1 --"@outside.test', "%@outside.test", "_@outside.test"):
        assert _rcpt(stack, rita.address, sender)[0] == 250, sender
    assert _rcpt(stack, rita.address, "x'@spam.example")[0] == 550  # quoted, and still at the refused domain
