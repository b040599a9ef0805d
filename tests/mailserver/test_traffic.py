"""traffic collect on log files as they really go wrong: a line half written, a file truncated in
place, a rotated file already gone, bytes that are not UTF-8, lines of no known kind.
(tests/mailstack/test_traffic.py reads the real Exim's log; these lines have its shape.)"""

from __future__ import annotations

import io
import os
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from mailserver import traffic
from mailserver.models import LogCursor, TrafficCount, TrafficParty
from tests import factories

pytestmark = pytest.mark.django_db

RECEIVED = (
    b"2026-12-04 10:15:01 1tAbCd-000Xyz-Q1 <= s@outside.test H=(outside.test) [192.0.2.1] P=esmtp S=512 "
    b'id=<x@outside.test> T="hi" for ann@ours.test\n'
)
DELIVERED = (
    b"2026-12-04 10:15:01 1tAbCd-000Xyz-Q1 => ann@ours.test R=local_mailbox T=dovecot_lmtp "
    b'H=localhost C="250 2.0.0 <ann@ours.test> Saved"\n'
)
COMPLETED = b"2026-12-04 10:15:01 1tAbCd-000Xyz-Q1 Completed\n"
REJECTED = (
    b"2026-12-04 10:16:02 H=(spam.test) [198.51.100.7] F=<x@spam.test> rejected RCPT <nobody@ours.test>: no such user\n"
)


@pytest.fixture
def ours():
    factories.domain("ours.test")


def kinds(domain: str = "ours.test") -> Counter:
    return Counter({row.kind: row.count for row in TrafficCount.objects.filter(domain=domain)})


def test_a_half_written_line_waits_for_its_end(tmp_path, ours):
    log = tmp_path / "mainlog"
    log.write_bytes(RECEIVED + DELIVERED[:40])
    assert traffic.collect(log, host="mx1").lines == 1
    assert kinds() == Counter(received=1)
    with open(log, "ab") as fh:
        fh.write(DELIVERED[40:] + COMPLETED)
    assert traffic.collect(log, host="mx1").lines == 2
    assert kinds() == Counter(received=1, delivered=1)
    assert LogCursor.objects.get(host="mx1").pending == {}


def test_a_file_truncated_in_place_is_read_from_its_start(tmp_path, ours):
    log = tmp_path / "mainlog"
    log.write_bytes(RECEIVED + DELIVERED + COMPLETED)
    traffic.collect(log, host="mx1")
    log.write_bytes(REJECTED)  # copytruncate, then one new line
    done = traffic.collect(log, host="mx1")
    assert done.rotated and done.lines == 1
    assert kinds() == Counter(received=1, delivered=1, rejected_unknown=1)


def test_a_rotated_file_that_is_gone_is_said_not_hidden(tmp_path, ours):
    log = tmp_path / "mainlog"
    log.write_bytes(RECEIVED)
    traffic.collect(log, host="mx1")
    with open(log, "ab") as fh:
        fh.write(DELIVERED)  # written after the last run, then rotated away and compressed
    os.rename(log, tmp_path / "mainlog.1.gz")
    log.write_bytes(REJECTED)
    out, err = io.StringIO(), io.StringIO()
    call_command("traffic", "collect", "--log", str(log), "--host", "mx1", stdout=out, stderr=err)
    assert "its last lines were not read" in err.getvalue()
    assert kinds() == Counter(received=1, rejected_unknown=1)


def test_each_mail_host_keeps_its_own_place_in_its_own_log(tmp_path, ours):
    log = tmp_path / "mainlog"
    log.write_bytes(RECEIVED + DELIVERED)
    traffic.collect(log, host="mx1")
    traffic.collect(log, host="mx2")  # the same path on another host: its own log
    assert kinds() == Counter(received=2, delivered=2)


def test_bytes_that_are_not_utf8_and_unknown_lines_count_nothing_wrong(tmp_path, ours):
    log = tmp_path / "mainlog"
    log.write_bytes(
        b"not a log line at all\n"
        b"2026-12-04 10:17:00 exim 4.96 daemon started: pid=1, -q5s, listening for SMTP on [127.0.0.1]:25\n"
        b'2026-12-04 10:17:01 1tAbCe-000Xyz-Q2 <= "\xff\xfe\'); DROP TABLE x;--"@evil.test H=[203.0.113.9] '
        b"P=esmtp S=9 for ann@ours.test \xe9t\xe9@ours.test\n" + b"\x00" * 10 + b"\n"
    )
    traffic.collect(log, host="mx1")
    assert kinds() == Counter(received=1)
    senders = list(TrafficParty.objects.filter(role="sender").values_list("address", flat=True))
    assert senders == ['"\ufffd\ufffd\'); drop table x;--"@evil.test']
    recipients = set(TrafficParty.objects.filter(role="recipient").values_list("address", flat=True))
    assert recipients == {"ann@ours.test", "\ufffdt\ufffd@ours.test"}


def test_a_log_that_cannot_be_read_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read the log: .*No such file"):
        call_command("traffic", "collect", "--log", str(tmp_path / "missing"), stdout=io.StringIO())


def test_a_subject_or_message_id_saying_for_someone_is_not_a_recipient(tmp_path, ours):
    log = tmp_path / "mainlog"
    log.write_bytes(
        b"2026-12-04 10:18:00 1tAbCf-000Xyz-Q3 <= s@outside.test H=[192.0.2.1] P=esmtp S=1 "
        b'id=<x for ben@ours.test> T="Agenda \\" for ann@ours.test \\\\" for ben@ours.test\n'
        b"2026-12-04 10:18:01 1tAbCg-000Xyz-Q4 <= s@outside.test H=[192.0.2.1] P=esmtp S=1 "
        b'T="cut short for ann@ours.test\n'
    )
    traffic.collect(log, host="mx1")
    assert kinds() == Counter(received=1)  # the first names ben only; the second, cut short, no one
    assert list(TrafficParty.objects.filter(role="recipient").values_list("address", "count")) == [("ben@ours.test", 1)]


@pytest.mark.vendors("mysql", "postgresql")
@pytest.mark.django_db(transaction=True)
def test_mail_hosts_collecting_at_once_add_up_without_an_error(tmp_path):
    import threading

    from django.db import connection

    factories.domain("ours.test")
    logs = []
    for n in range(4):
        log = tmp_path / f"mainlog-{n}"
        log.write_bytes((RECEIVED + DELIVERED + COMPLETED + REJECTED) * 50)
        logs.append(log)
    errors, start = [], threading.Barrier(len(logs))

    def run(n):
        try:
            start.wait()
            traffic.collect(logs[n], host=f"mx{n}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(logs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert kinds() == Counter(received=200, delivered=200, rejected_unknown=200)


def test_relayed_deferred_and_bounced_count_under_our_domain(tmp_path, ours):
    log = tmp_path / "mainlog"
    log.write_bytes(
        b"2026-12-04 10:20:00 1tAbCh-000Xyz-Q5 <= ann@ours.test H=(laptop) [192.0.2.5] P=esmtpsa "
        b"A=dovecot_plain:ann@ours.test "
        b'S=700 id=<y@ours.test> T="out" for far@elsewhere.test\n'
        b"2026-12-04 10:20:01 1tAbCh-000Xyz-Q5 => far@elsewhere.test R=dnslookup T=remote_smtp H=mx.elsewhere.test "
        b'[192.0.2.9] C="250 OK"\n'
        b"2026-12-04 10:20:01 1tAbCh-000Xyz-Q5 Completed\n"
        b"2026-12-04 10:21:00 1tAbCi-000Xyz-Q6 == ann@ours.test R=mailbox T=dovecot_lmtp defer (-44) H=localhost: "
        b"LMTP error after RCPT TO:<ann@ours.test>: 451 4.3.0 Temporary internal failure\n"
        b"2026-12-04 10:22:00 1tAbCj-000Xyz-Q7 ** far@elsewhere.test <ann@ours.test> R=dnslookup T=remote_smtp: "
        b"SMTP error from remote mail server after RCPT TO:<far@elsewhere.test>: 550 5.1.1 no such user\n"
    )
    traffic.collect(log, host="mx1")
    assert kinds() == Counter(relayed=1, deferred=1, bounced=1)  # (received: for no domain of ours)
    assert kinds(traffic.ALL) == Counter(received=1, relayed=1, deferred=1, bounced=1)
