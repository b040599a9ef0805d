"""Outbound limits (issue 15.7) against the real Exim on every database: an authenticated mailbox
sends at most its hourly number of messages and recipients (its own, else its domain's default);
over it the client gets 4xx; another mailbox is not slowed; mail from outside is never counted."""

from __future__ import annotations

import smtplib
import uuid

import pytest

from accounts import services as accounts
from domains import services as domains
from tests import factories
from tests.mailstack.test_core import send

pytestmark = pytest.mark.mailstack


@pytest.fixture
def limited(directory):
    """A domain whose mailboxes may send 100 messages and 150 recipients an hour."""
    name = f"out-{uuid.uuid4().hex[:8]}.test"
    domain = factories.domain(name, default_max_sent_per_hour=100, default_max_recipients_per_hour=150)
    return domain, factories.mailbox(f"sender@{name}"), factories.mailbox(f"other@{name}")


def _session(stack, address):
    conn = stack.smtp("smtps")
    conn.login(address, factories.PASSWORD)
    return conn


def _send_many(stack, address, rcpts_per_message, count) -> list:
    """``count`` messages (given up after RCPT), a new session every 8 (Exim drops a client after
    10 RSETs); the RCPT answer of each, or the list of them when they differ."""
    codes, conn = [], None
    try:
        for i in range(count):
            if i % 8 == 0:
                if conn is not None:
                    conn.close()
                conn = _session(stack, address)
            conn.mail(address)
            answers = [conn.rcpt(f"r{i}-{j}@elsewhere.example")[0] for j in range(rcpts_per_message)]
            codes.append(answers[0] if len(set(answers)) == 1 else answers)
            conn.rset()
    finally:
        if conn is not None:
            conn.close()
    return codes


def test_the_101st_message_in_an_hour_gets_4xx_and_others_are_not_slowed(stack, limited):
    domain, sender, other = limited
    codes = _send_many(stack, sender.address, 1, 101)
    assert codes[:100] == [250] * 100, codes
    assert codes[100] == 450, codes
    assert _send_many(stack, other.address, 1, 3) == [250, 250, 250]  # its own count
    # mail from outside to the limited mailbox is not counted against it
    _, replies, data = send(stack, sender.address)
    assert replies[sender.address][0] == 250 and data[0] == 250


def test_recipients_are_counted_and_a_mailboxs_own_limit_beats_the_domains(stack, limited):
    domain, sender, other = limited
    accounts.mailbox_update(acting_user=None, mailbox=other, origin="test", max_recipients_per_hour=5)
    conn = _session(stack, other.address)
    try:
        conn.mail(other.address)
        answers = [conn.rcpt(f"r{j}@elsewhere.example")[0] for j in range(6)]
    finally:
        conn.close()
    assert answers == [250] * 5 + [450], answers
    # no limit at all once the domain's default is 0 and the mailbox says nothing
    domains.domain_update(acting_user=None, domain=domain, origin="test", default_max_sent_per_hour=0)
    domains.domain_update(acting_user=None, domain=domain, origin="test", default_max_recipients_per_hour=0)
    fresh = factories.mailbox(f"fresh@{domain.name}")
    assert set(_send_many(stack, fresh.address, 2, 20)) == {250}


def test_a_message_to_several_recipients_counts_once_against_the_message_limit(stack, limited):
    domain, sender, _ = limited
    few = factories.mailbox(f"few-{uuid.uuid4().hex[:6]}@{domain.name}", max_sent_per_hour=3, max_recipients_per_hour=0)
    assert _send_many(stack, few.address, 4, 4) == [250, 250, 250, 450]


def test_the_panel_shows_who_is_held_at_the_limit(stack, limited, client):
    """``manage.py sending collect`` reads Exim's ratelimit database on the mail host; the domain
    page names the mailboxes held at their limit and the mailbox page shows what each sent."""
    import io
    import json

    from django.core.management import call_command
    from django.urls import reverse

    domain, sender, other = limited
    assert _send_many(stack, sender.address, 1, 101)[-1] == 450
    assert _send_many(stack, other.address, 2, 3) == [250, 250, 250]
    out = io.StringIO()
    call_command("sending", "collect", "--spool", str(stack.root / "spool"), "--json", stdout=out)
    limited_now = json.loads(out.getvalue())["limited"]  # (the session's other tests' mailboxes too)
    assert [a for a in limited_now if a.endswith(f"@{domain.name}")] == [sender.address]
    root = accounts.superuser_create(origin="test", address=other.address, password=None)
    client.force_login(root)
    page = client.get(reverse("domains:detail", args=[domain.pk])).content.decode()
    assert "Held at their sending limit:" in page and sender.address in page
    assert other.address not in page.split("Held at their sending limit:")[1].split("</p>")[0]
    detail = client.get(reverse("accounts:detail", args=[sender.pk])).content.decode()
    # (the refused 101st message passed the recipient count, which Exim checks first)
    assert "100 messages, 101 recipients" in detail and "held at its limit" in detail
    detail = client.get(reverse("accounts:detail", args=[other.pk])).content.decode()
    assert "3 messages, 6 recipients" in detail and "held at its limit" not in detail


def test_whole_messages_on_parallel_connections_stop_at_the_limit_and_none_is_lost(stack, limited):
    """The way a stolen password is used: many connections at once, each sending whole messages.
    Exactly the limit is taken (Exim's hints database is locked for each count), every one of them
    reaches its destination, and every other message is refused with 450 while the client waits."""
    import threading
    import time

    domain, _, _ = limited
    thief = factories.mailbox(f"thief-{uuid.uuid4().hex[:6]}@{domain.name}", max_sent_per_hour=40)
    results, lock = [], threading.Lock()

    def connection(n):
        conn = None
        try:
            for i in range(15):
                if i % 5 == 0:  # (a new session now and then: Exim drops a client after 10 RSETs)
                    if conn is not None:
                        conn.close()
                    conn = _session(stack, thief.address)
                body = f"From: <{thief.address}>\r\nSubject: spam {n}-{i}\r\n\r\nbuy now\r\n"
                try:
                    conn.sendmail(thief.address, [f"victim{n}-{i}@elsewhere.example"], body)
                    outcome = 250
                except smtplib.SMTPRecipientsRefused as exc:  # (sendmail has sent RSET)
                    outcome = next(iter(exc.recipients.values()))[0]
                with lock:
                    results.append(outcome)
        finally:
            if conn is not None:
                conn.close()

    threads = [threading.Thread(target=connection, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == [250] * 40 + [450] * 20, results

    def delivered():
        return [m for m in stack.sink.messages if m[0] == thief.address]

    deadline = time.monotonic() + 30
    while len(delivered()) < 40 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(delivered()) == 40
    assert len({tuple(rcpts) for _, rcpts, _ in delivered()}) == 40  # each accepted message once
