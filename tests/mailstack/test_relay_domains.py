"""Relay (backup MX) domains (issue 15.5) against the real Exim on every database: mail for a
listed recipient reaches the relay host (an SMTP server the test starts on loopback) and waits in
the queue while that host is down; an unknown recipient is refused at RCPT, never bounced later;
with callout verification, the relay host's own answer decides, and while it is down the sender
is told to try again (4xx)."""

from __future__ import annotations

import time
import uuid

import pytest

from domains import services as domains
from tests import factories
from tests.mailstack.stack import SmtpSink
from tests.mailstack.test_core import send

pytestmark = pytest.mark.mailstack


@pytest.fixture
def primary():
    """The relay host: an SMTP server that knows its own mailboxes (and refuses others, 550)."""
    sinks = []

    def start(recipients: set[str] | None, port: int = 0) -> SmtpSink:
        sinks.append(SmtpSink(recipients=recipients, port=port))
        return sinks[-1]

    yield start
    for sink in sinks:
        sink.close()


def _relay_domain(primary_sink: SmtpSink, verify: str, recipients=()) -> str:
    name = f"backup-{uuid.uuid4().hex[:8]}.test"
    domain = factories.domain(name)
    domains.domain_update(
        acting_user=None,
        domain=domain,
        relay_host="127.0.0.1",
        relay_port=primary_sink.port,
        relay_verify=verify,
        origin="test",
    )
    if recipients:
        domains.relay_recipients_add(acting_user=None, domain=domain, addresses=list(recipients), origin="test")
    return name


def _arrived(sink: SmtpSink, rcpt: str, subject: str, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(rcpt in rcpts and f"Subject: {subject}".encode() in body for _, rcpts, body in sink.messages):
            return True
        time.sleep(0.1)
    return False


def _queued(stack, rcpt: str) -> bool:
    return rcpt in stack.exim("-bp").stdout


def test_listed_recipients_reach_the_relay_host_and_others_are_refused_at_rcpt(stack, directory, primary):
    sink = primary(None)  # (a relay host that takes anything: the list decides here)
    name = _relay_domain(sink, "list", ["ann", "bob"])
    subject, replies, data = send(stack, [f"ann@{name}", f"zed@{name}", f"BOB@{name.upper()}"])
    assert replies[f"ann@{name}"][0] == 250 and replies[f"BOB@{name.upper()}"][0] == 250
    code, text = replies[f"zed@{name}"]
    assert code == 550 and b"no such user" in text, (code, text)
    assert data[0] == 250
    assert _arrived(sink, f"ann@{name}", subject) and _arrived(sink, f"BOB@{name.upper()}", subject)
    assert not any(f"zed@{name}" in rcpts for _, rcpts, _ in sink.messages)
    # "@" takes every address of the domain (the relay host decides)
    domains.relay_recipients_add(acting_user=None, domain=domains.get_domain(name), addresses=["@"], origin="t")
    subject, replies, _ = send(stack, f"zed@{name}")
    assert replies[f"zed@{name}"][0] == 250 and _arrived(sink, f"zed@{name}", subject)


def test_mail_waits_in_the_queue_while_the_relay_host_is_down(stack, directory, primary):
    sink = primary(None)
    name = _relay_domain(sink, "list", ["ann"])
    port = sink.port
    sink.close()  # the primary goes down
    subject, replies, data = send(stack, f"ann@{name}")
    assert replies[f"ann@{name}"][0] == 250 and data[0] == 250  # taken, not refused and never bounced
    deadline = time.monotonic() + 10
    while not _queued(stack, f"ann@{name}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _queued(stack, f"ann@{name}")
    back = primary({f"ann@{name}"}, port=port)  # the primary is back on its port
    # nobody forces the queue: the daemon's queue runner tries again when the retry rule allows
    # (F,2h,1m: a minute after the failure)
    assert _arrived(back, f"ann@{name}", subject, timeout=100)
    assert not _queued(stack, f"ann@{name}")
    assert "** ann@" not in (stack.root / "log" / "mainlog").read_text()  # nothing bounced


def test_with_callout_the_relay_hosts_answer_decides_and_its_absence_is_a_4xx(stack, directory, primary):
    name = f"callout-{uuid.uuid4().hex[:8]}.test"
    sink = primary({f"carl@{name}", f"erin@{name}"})
    domain = factories.domain(name)
    domains.domain_update(
        acting_user=None,
        domain=domain,
        relay_host="127.0.0.1",
        relay_port=sink.port,
        relay_verify="callout",
        origin="t",
    )
    subject, replies, _ = send(stack, [f"carl@{name}", f"dave@{name}"])
    assert replies[f"carl@{name}"][0] == 250
    code, text = replies[f"dave@{name}"]
    assert code == 550, (code, text)  # the primary said no, so we say no now
    assert _arrived(sink, f"carl@{name}", subject)
    sink.close()
    code, text = send(stack, f"erin@{name}")[1][f"erin@{name}"]
    assert 400 <= code < 500, (code, text)  # cannot ask the primary: try again later


def test_a_relay_host_that_is_this_exim_on_port_25_freezes_instead_of_looping(stack, directory):
    """A relay host naming this server itself on port 25 would send the mail round until it
    bounced: the message is frozen in the queue for the postmaster instead, and nothing bounces."""
    name = f"loop-{uuid.uuid4().hex[:8]}.test"
    domain = factories.domain(name)
    domains.domain_update(acting_user=None, domain=domain, relay_host="127.0.0.1", relay_port=25, origin="t")
    domains.relay_recipients_add(acting_user=None, domain=domain, addresses=["ann"], origin="t")
    _, replies, data = send(stack, f"ann@{name}")
    assert replies[f"ann@{name}"][0] == 250 and data[0] == 250
    deadline = time.monotonic() + 10
    while "frozen" not in stack.exim("-bp").stdout and time.monotonic() < deadline:
        time.sleep(0.2)
    queue = stack.exim("-bp").stdout
    assert f"ann@{name}" in queue and "frozen" in queue, queue
    for line in queue.splitlines():  # (the frozen message leaves the queue, for the other tests)
        if "frozen" in line:
            stack.exim("-Mrm", line.split()[2])
