"""Traffic statistics from the real Exim's main log: every line counted once, across a rotation.

The shared stack's Exim writes its mainlog while the test sends mail to a domain of its own; the
log is renamed in the middle, as logrotate does, while Exim keeps running (it opens a new file
by itself). What ``traffic collect`` counted must be what was sent, exactly.
"""

from __future__ import annotations

import io
import json
import os
import smtplib
import socket
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from domains import services as domains
from mailserver import traffic
from mailserver.models import LogCursor, TrafficCount
from tests import factories
from tests.mailstack.conftest import PASSWORD
from tests.mailstack.stack import EICAR, GTUBE
from tests.mailstack.test_blocklists import _add as add_blocklist
from tests.mailstack.test_blocklists import blocklist_dns, world  # noqa: F401 - fixtures used here

pytestmark = pytest.mark.mailstack


@pytest.fixture(scope="module")
def stats_domain(stack, django_db_blocker):
    with django_db_blocker.unblock():
        factories.domain("stats.test")
        factories.mailbox("ann@stats.test")
        factories.mailbox("ben@stats.test")
        factories.alias("team@stats.test", ["ann", "ben"])
        domains.domain_alias_create(
            origin="test", acting_user=None, name="statsalias.test", target=domains.get_domain("stats.test")
        )


def send(stack, sender: str, rcpt: str) -> tuple[int, str]:
    """One message; the RCPT code when refused, else DATA's answer (which names the message id)."""
    with smtplib.SMTP("127.0.0.1", stack.ports["smtp"], timeout=60) as conn:
        conn.ehlo("outside.test")
        conn.mail(sender)
        code, text = conn.rcpt(rcpt)
        if code != 250:
            return code, text.decode()
        code, text = conn.data(f"From: {sender}\r\nTo: {rcpt}\r\nSubject: stats\r\n\r\nHello.\r\n".encode())
        return code, text.decode()


def message_id(answer: str) -> str:
    return answer.rsplit("id=", 1)[1].strip()


def wait_completed(stack, ids: list[str], timeout: float = 30) -> None:
    """Until Exim has logged each message's end (in whichever file the log is now)."""
    logs = [stack.root / "log" / name for name in ("mainlog", "mainlog.1")]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = "".join(p.read_text(errors="replace") for p in logs if p.exists())
        if all(f"{i} Completed" in text for i in ids):
            return
        time.sleep(0.2)
    raise AssertionError(f"not completed: {ids}")


def counts(domain: str, since) -> Counter:
    total = Counter()
    for row in TrafficCount.objects.filter(domain=domain, hour__gte=since):
        total[row.kind] += row.count
    return total


def test_every_line_counts_once_across_a_log_rotation(stack, stats_domain, directory):
    log = stack.root / "log" / "mainlog"
    since = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    traffic.collect(log)  # from here on
    before, before_all = counts("stats.test", since), counts(traffic.ALL, since)

    ids = []
    for rcpt in ("ann@stats.test", "ann@stats.test", "team@stats.test"):
        code, text = send(stack, "first@outside.test", rcpt)
        assert code == 250, text
        ids.append(message_id(text))
    assert send(stack, "first@outside.test", "nobody@stats.test")[0] == 550
    wait_completed(stack, ids)
    first = traffic.collect(log)
    assert first.lines > 0 and not first.rotated

    code, text = send(stack, "second@outside.test", "ben@stats.test")
    assert code == 250, text
    ids = [message_id(text)]
    wait_completed(stack, ids)
    os.rename(log, log.with_name("mainlog.1"))  # rotated, as logrotate does; Exim is not told
    for sender, rcpt in (("first@outside.test", "ann@statsalias.test"), ("third@outside.test", "ben@stats.test")):
        code, text = send(stack, sender, rcpt)
        assert code == 250, text
        ids.append(message_id(text))
    assert send(stack, "first@outside.test", "nobody-else@stats.test")[0] == 550
    assert send(stack, "first@outside.test", "someone@elsewhere.test")[0] == 550  # no relaying
    conn = stack.smtp("smtps")  # ann sends out, authenticated: relayed, under her domain
    try:
        conn.login("ann@stats.test", PASSWORD)
        conn.mail("ann@stats.test")
        assert conn.rcpt("friend@elsewhere.test")[0] == 250
        code, text = conn.data(b"From: ann@stats.test\r\nTo: friend@elsewhere.test\r\nSubject: out\r\n\r\nHi.\r\n")
        assert code == 250, text
        ids.append(message_id(text.decode()))
    finally:
        conn.quit()
    wait_completed(stack, ids)
    assert log.exists(), "Exim opened a new log by itself"
    second = traffic.collect(log)
    assert second.rotated and not second.lost, second

    got, got_all = counts("stats.test", since) - before, counts(traffic.ALL, since) - before_all
    # 6 messages received for the domain (one through its domain alias); the alias team@ delivered
    # to two mailboxes, so 7 local deliveries; one sent out by ann; two unknown recipients refused
    assert got == Counter(received=6, delivered=7, relayed=1, rejected_unknown=2), got
    assert got_all["rejected_policy"] == 1 and got_all["received"] >= 6 and got_all["rejected_unknown"] >= 2
    out = io.StringIO()
    call_command("traffic", "top", "stats.test", "--days", "1", "--json", stdout=out)
    top = json.loads(out.getvalue())
    assert top["sender"][:3] == [
        {"address": "first@outside.test", "messages": 4},
        {"address": "second@outside.test", "messages": 1},
        {"address": "third@outside.test", "messages": 1},
    ]
    recipients = {r["address"]: r["messages"] for r in top["recipient"]}
    assert recipients == {
        "ann@stats.test": 2,
        "team@stats.test": 1,
        "ben@stats.test": 2,
        "ann@statsalias.test": 1,
    }

    # read again: nothing counted twice. Exim may have logged more since (a retry of the message
    # sent out, to a domain that does not resolve here): only those new lines are read.
    again = traffic.collect(log)
    after = counts("stats.test", since) - before
    assert {kind: after[kind] for kind in got} == dict(got), after
    assert again.lines == 0 or set(after - got) <= {"deferred"}, after
    cursor = LogCursor.objects.get(path=str(log), host=socket.getfqdn())
    assert cursor.inode == os.stat(log).st_ino and second.offset <= cursor.offset == again.offset <= log.stat().st_size


def data_code(stack, sender: str, rcpt: str, body: str) -> int:
    with smtplib.SMTP("127.0.0.1", stack.ports["smtp"], timeout=60) as conn:
        conn.ehlo("outside.test")
        conn.mail(sender)
        assert conn.rcpt(rcpt)[0] == 250
        try:
            return conn.data(f"From: {sender}\r\nTo: {rcpt}\r\nSubject: x\r\n\r\n{body}\r\n".encode())[0]
        except smtplib.SMTPDataError as exc:
            return exc.smtp_code


def test_refusals_count_by_their_reason(stack, stats_domain, directory):
    """Greylisting's 451 under the domain; a virus and spam refused after DATA (where the content
    checks run: MariaDB) for the whole host, since those lines name no recipient."""
    log = stack.root / "log" / "mainlog"
    since = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    traffic.collect(log)
    before, before_all = counts("stats.test", since), counts(traffic.ALL, since)
    expected, expected_all = Counter(rejected_greylist=1), Counter(rejected_greylist=1)
    domain = domains.get_domain("stats.test")
    domains.domain_update(acting_user=None, domain=domain, greylist=True, origin="test")
    try:
        code, text = send(stack, f"{uuid.uuid4().hex[:12]}@outside.test", "ann@stats.test")
        assert code == 451 and "greylisted" in text, (code, text)
    finally:
        domains.domain_update(acting_user=None, domain=domain, greylist=False, origin="test")
    if stack.content:
        assert data_code(stack, "virus@outside.test", "ann@stats.test", EICAR) == 550
        assert data_code(stack, "spam@outside.test", "ann@stats.test", GTUBE) == 550
        expected_all.update(rejected_virus=1, rejected_spam=1)
    deadline = time.monotonic() + 10
    while True:  # (until Exim's processes have written their lines)
        traffic.collect(log)
        got, got_all = counts("stats.test", since) - before, counts(traffic.ALL, since) - before_all
        got_all = Counter({kind: n for kind, n in got_all.items() if kind in expected_all})
        if (got, got_all) == (expected, expected_all) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (got, got_all) == (expected, expected_all)


def test_a_client_on_a_dns_blocklist_counts_under_the_recipients_domain(stack, world):  # noqa: F811 - the fixture
    """(NSD on 127.0.0.1 answers for the list, as in test_blocklists.)"""
    rita, _ = world
    log = stack.root / "log" / "mainlog"
    since = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    traffic.collect(log)
    before = counts(rita.domain.name, since)
    add_blocklist("listed.test", "Listed Test BL", "127.0.0.2 spam source")
    code, text = send(stack, "someone@outside.test", rita.address)
    assert code == 550 and "is listed by" in text, (code, text)
    deadline = time.monotonic() + 10
    while (got := counts(rita.domain.name, since) - before) != Counter(rejected_dnsbl=1):
        assert time.monotonic() < deadline, got
        time.sleep(0.2)
        traffic.collect(log)
