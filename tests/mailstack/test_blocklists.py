"""DNS blocklists (issue 15.2) against the real Exim on every database, resolving through a real
authoritative DNS server (NSD) on 127.0.0.1:53 (the stack's Exim has a resolv.conf of its own that
names it): a listed client gets 550 at RCPT naming the list and what its answer means; an answer
that is not among the list's codes, a disabled list, a domain that opts out and authenticated
submission are not refused; a list whose DNS fails or does not answer in time never refuses mail;
and the list's own TXT text cannot add lines to the reply."""

# ruff: noqa: S603 - the test stops and resumes its own NSD

from __future__ import annotations

import os
import signal
import time
import uuid

import dns.resolver
import pytest

from domains import services as domains
from policy import services as policy
from policy.models import DnsBlocklist
from tests import factories
from tests.mailstack.test_core import send
from tests.nsd import port_53, start_nsd, stop_nsd

pytestmark = pytest.mark.mailstack

PASSWORD = factories.PASSWORD
# The tests' clients connect from 127.0.0.1: Exim asks for 1.0.0.127.<zone>.
ZONES = {
    "listed.test": '1.0.0.127 IN A 127.0.0.2\n1.0.0.127 IN TXT "See http://listed.test/q?ip=127.0.0.1"\n',
    "twice.test": "1.0.0.127 IN A 127.0.0.3\n1.0.0.127 IN A 127.0.0.5\n",
    "other-code.test": "1.0.0.127 IN A 127.0.0.10\n",
    "clean.test": "2.0.0.127 IN A 127.0.0.2\n",
    # a TXT record that tries to end the reply and answer for the server
    "hostile.test": '1.0.0.127 IN A 127.0.0.2\n1.0.0.127 IN TXT "bad\\013\\010250 2.1.5 Ok\\013\\010"\n',
}


def _ask(name: str):
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = ["127.0.0.1"], 53, 1.0
    return resolver.resolve(name, "A")


@pytest.fixture
def blocklist_dns(tmp_path):
    with port_53():
        proc = start_nsd(tmp_path, ZONES, 53, lambda: _ask("1.0.0.127.listed.test"))
        yield proc
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGCONT)
        stop_nsd(proc)


@pytest.fixture
def world(directory, blocklist_dns):
    name = f"bl-{uuid.uuid4().hex[:8]}.test"
    checked = factories.domain(name)
    rita = factories.mailbox(f"rita@{name}")
    domains.domain_alias_create(acting_user=None, target=checked, name=f"alias-{name}", origin="test")
    unchecked = factories.domain(f"open-{name}")
    domains.domain_update(acting_user=None, domain=unchecked, check_blocklists=False, origin="test")
    sam = factories.mailbox(f"sam@open-{name}")
    yield rita, sam
    DnsBlocklist.objects.all().delete()  # (committed: the other mail-stack tests must not meet them)


def _add(zone, name, answers, **kw):
    return policy.blocklist_add(acting_user=None, zone=zone, name=name, answers=answers, origin="test", **kw)


def _rcpt(stack, rcpt, conn=None, sender="someone@outside.test"):
    _, replies, _ = send(stack, rcpt, sender=sender, conn=conn)
    return replies[rcpt]


def _flat(text: bytes) -> bytes:
    """A reply as one line (Exim splits a long one into lines at spaces, each after the code)."""
    return b" ".join(line.removeprefix(b"5.7.1 ") for line in text.split(b"\n"))


def test_a_listed_client_is_refused_naming_the_list_and_what_its_answer_means(stack, world):
    rita, sam = world
    assert _rcpt(stack, rita.address)[0] == 250  # no list yet
    _add("listed.test", "Listed Test BL", "127.0.0.2 spam source\n127.0.0.3-127.0.0.4 = exploited host")
    code, text = _rcpt(stack, rita.address)
    assert code == 550, (code, text)
    text = _flat(text)
    assert text.startswith(b"<" + rita.address.encode() + b">: your client 127.0.0.1 is listed by Listed Test BL")
    assert b"(127.0.0.2 spam source): See http://listed.test/q?ip=127.0.0.1" in text, text
    # at the domain's alias too (its row holds its target's choice); not where the domain opts out
    assert _rcpt(stack, rita.address.replace("@", "@alias-"))[0] == 550
    assert _rcpt(stack, sam.address)[0] == 250
    # authenticated submission is never checked
    conn = stack.smtp("smtps")
    try:
        conn.login(rita.address, PASSWORD)
        assert _rcpt(stack, rita.address, conn=conn, sender=rita.address)[0] == 250
    finally:
        conn.close()
    # and the list switched off counts for the next connection
    policy.blocklist_update(
        acting_user=None, blocklist=DnsBlocklist.objects.get(zone="listed.test"), enabled=False, origin="test"
    )
    assert _rcpt(stack, rita.address)[0] == 250


def test_only_the_lists_own_codes_are_a_listing_and_every_answer_is_named(stack, world):
    rita, _ = world
    _add("other-code.test", "Other", "127.0.0.2")
    _add("clean.test", "Clean", "127.0.0.2")
    assert _rcpt(stack, rita.address)[0] == 250  # 127.0.0.10 is not Other's; Clean does not list us
    _add("twice.test", "Twice", "127.0.0.3 first reason\n127.0.0.5 second reason")
    code, text = _rcpt(stack, rita.address)
    assert code == 550 and b"listed by Twice (127.0.0.3 first reason, 127.0.0.5 second reason)" in _flat(text), text


def test_a_list_that_fails_or_does_not_answer_never_refuses_mail(stack, world, blocklist_dns):
    rita, _ = world
    _add("not-served.test", "Not served", "127.0.0.2")  # NSD refuses: not its zone
    assert _rcpt(stack, rita.address)[0] == 250
    _add("listed.test", "Listed", "127.0.0.2")
    os.killpg(blocklist_dns.pid, signal.SIGSTOP)  # the DNS server stops answering: every query times out
    try:
        started = time.monotonic()
        code, text = _rcpt(stack, rita.address)
        assert code == 250, (code, text)
        assert time.monotonic() - started < 20  # (resolv.conf: one try of 1 s per query)
    finally:
        os.killpg(blocklist_dns.pid, signal.SIGCONT)
    assert _rcpt(stack, rita.address)[0] == 550  # and the same list, answering again, refuses


def test_the_lists_txt_text_cannot_add_lines_to_the_reply(stack, world):
    rita, _ = world
    _add("hostile.test", "Hostile", "127.0.0.2")
    conn = stack.smtp()
    try:
        conn.mail("someone@outside.test")
        code, text = conn.rcpt(rita.address)
        assert code == 550, (code, text)
        # (smtplib joins a multi-line reply's lines with a newline: each one it read began 550)
        assert b"\r" not in text and b": bad??250 2.1.5 Ok??" in _flat(text), text
        assert conn.noop()[0] == 250  # the session is in step: no extra reply is waiting
        conn.rset()
    finally:
        conn.close()
