"""Traffic statistics from Exim's main log, read incrementally (``manage.py traffic collect``).

Each run reads the log from where the last one stopped (``LogCursor``: the file's inode and the
offset after the last whole line counted) and adds what it read to hourly counts per domain
(``TrafficCount``) and daily counts per sender and recipient (``TrafficParty``), in one
transaction with the new offset: a line is counted once, or (when the run fails) not yet.

Rotation: when the path names another file than the cursor's inode, the rest of the old file is
read first from where it was renamed to (``mainlog.1``, ``mainlog.0``: logrotate and savelog),
then the new one from its start; a file shorter than the offset was truncated in place and is read
from its start. A last line without its newline is left for the next run (Exim may be writing it).

What counts (the lines of Exim 4.96 with the shipped log_selector, ``+received_recipients``):

- ``<=`` received: once per message for each domain among its recipients (``for ...``); the
  sender and each recipient also count in the domain's top lists;
- ``=>``/``->`` delivered locally (the LMTP transport) or relayed out (any other transport);
  ``==`` deferred; ``**`` bounced: under the recipient's domain, or for recipients of no domain
  here, under the domain of the message's sender (a mailbox sending out);
- ``rejected RCPT`` / ``temporarily rejected RCPT``: under the recipient's domain, by reason (the
  ACL's own messages, 10-acl.conf): unknown recipient, greylisted, DNS blocklist, else policy;
- ``rejected after DATA``: virus, spam or policy, for the whole host (the line names no recipient).

Domain aliases count under their target. Everything also counts under ``"*"``, the whole host.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.db import OperationalError, transaction
from django.utils import timezone

MYSQL_DEADLOCK = 1213  # ER_LOCK_DEADLOCK
ALL = "*"
LOCAL_TRANSPORTS = {"dovecot_lmtp"}
MAX_PENDING = 50_000  # senders of messages not completed yet, kept between runs
READ_CHUNK = 1 << 20

_STAMP = re.compile(rb"^(\d{4}-\d\d-\d\d \d\d):\d\d:\d\d(?:\.\d+)? (?:[+-]\d{4} )?(?:\[\d+\] )?")
_ID = rb"([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}) "
_ADDRESS = rb'("(?:[^"\\]|\\.)*"@\S+|\S+)'  # (a quoted local part may hold spaces)
_RECEIVED = re.compile(_ID + rb"<= " + _ADDRESS + rb" ")
_DELIVERY = re.compile(_ID + rb"(=>|->|==|\*\*) " + _ADDRESS + rb"(?: <(\S+)>)?(?: .*?\bT=(\S+))?")
_COMPLETED = re.compile(_ID + rb"Completed")
_RCPT_REJECT = re.compile(rb"rejected RCPT <([^>]*)>: (.*)$")  # (also "temporarily rejected")
_DATA_REJECT = re.compile(rb"rejected after DATA: (.*)$")
_CODE = re.compile(r"^\d{3}(?: \d\.\d{1,3}\.\d{1,3})? ")


def _recipients(rest: bytes, start: int) -> list[bytes]:
    """The addresses of a ``<=`` line's ``for`` list: after the quoted subject (``T="..."``, whose
    own quotes Exim escapes with a backslash), which may hold " for " itself, as may a message id."""
    subject = rest.find(b' T="', start)
    if subject != -1:
        i = subject + 4
        while (quote := rest.find(b'"', i)) != -1:
            backslashes = len(rest[i:quote]) - len(rest[i:quote].rstrip(b"\\"))
            if backslashes % 2 == 0:
                break
            i = quote + 1
        if quote == -1:
            return []  # the line was cut inside its subject
        start = quote + 1
    found = rest.rfind(b" for ", start)
    return rest[found + 5 :].split() if found != -1 else []


def rcpt_reason(message: str) -> str:
    """The kind of a refused recipient, from the ACL's message (10-acl.conf)."""
    text = _CODE.sub("", message).lower()
    if "no such user" in text:
        return "rejected_unknown"
    if "greylist" in text:
        return "rejected_greylist"
    if " is listed by " in text:
        return "rejected_dnsbl"
    return "rejected_policy"


def data_reason(message: str) -> str:
    text = _CODE.sub("", message).lower()
    if "virus" in text:
        return "rejected_virus"
    if "spam points" in text:
        return "rejected_spam"
    return "rejected_policy"


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".") if "@" in address else ""


@dataclass
class Tally:
    """What one run read: counts by (domain, hour, kind) and by (domain, day, role, address)."""

    domains: dict[str, str]  # a domain or domain alias of the directory -> the domain it counts under
    pending: dict[str, str] = field(default_factory=dict)  # message id -> sender
    counts: Counter = field(default_factory=Counter)
    parties: Counter = field(default_factory=Counter)
    lines: int = 0

    def ours(self, address: str) -> str | None:
        return self.domains.get(_domain(address))

    def count(self, domain: str | None, hour: str, kind: str) -> None:
        self.counts[(ALL, hour, kind)] += 1
        if domain:
            self.counts[(domain, hour, kind)] += 1

    def line(self, raw: bytes) -> None:
        stamp = _STAMP.match(raw)
        if stamp is None:
            return
        self.lines += 1
        hour = stamp.group(1).decode()
        rest = raw[stamp.end() :]
        if (m := _DELIVERY.match(rest)) is not None:
            message_id, flag, address, parent, transport = (g.decode(errors="replace") if g else "" for g in m.groups())
            if address[:1] in (">", "|", "/") or address.startswith(":"):  # autoreplies, pipes, files
                return
            domain = self.ours(address) or self.ours(parent) or self.ours(self.pending.get(message_id, ""))
            if flag in ("=>", "->"):
                kind = "delivered" if transport in LOCAL_TRANSPORTS else "relayed"
            else:
                kind = "deferred" if flag == "==" else "bounced"
            self.count(domain, hour, kind)
        elif (m := _RECEIVED.match(rest)) is not None:
            message_id, sender = m.group(1).decode(), m.group(2).decode(errors="replace")
            recipients = [r.decode(errors="replace") for r in _recipients(rest, m.end() - 1)]
            self.pending[message_id] = sender
            domains = {d for d in (self.ours(r) for r in recipients) if d}
            self.count(None, hour, "received")
            for domain in domains:
                self.counts[(domain, hour, "received")] += 1
                self.parties[(domain, hour[:10], "sender", sender.lower() or "<>")] += 1
            for recipient in recipients:
                if (domain := self.ours(recipient)) is not None:
                    self.parties[(domain, hour[:10], "recipient", recipient.lower())] += 1
        elif (m := _COMPLETED.match(rest)) is not None:
            self.pending.pop(m.group(1).decode(), None)
        elif (m := _RCPT_REJECT.search(rest)) is not None:
            recipient = m.group(1).decode(errors="replace")
            self.count(self.ours(recipient), hour, rcpt_reason(m.group(2).decode(errors="replace")))
        elif (m := _DATA_REJECT.search(rest)) is not None:
            self.count(None, hour, data_reason(m.group(1).decode(errors="replace")))


def directory_domains() -> dict[str, str]:
    from domains.models import Domain, DomainAlias

    names = {name: name for name in Domain.objects.values_list("name", flat=True)}
    names.update(DomainAlias.objects.values_list("name", "target__name"))
    return names


def _read_from(path: Path, offset: int, tally: Tally) -> int:
    """Count the whole lines of ``path`` after ``offset``; the offset after the last one."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        carry = b""
        while chunk := fh.read(READ_CHUNK):
            data = carry + chunk
            lines = data.split(b"\n")
            carry = lines.pop()
            for raw in lines:
                tally.line(raw)
            offset += len(data) - len(carry)
    return offset


def _rotated(path: Path, inode: int) -> Path | None:
    """Where the file with ``inode`` went when ``path`` was rotated (logrotate's .1, savelog's .0)."""
    for candidate in (path.with_name(path.name + ".1"), path.with_name(path.name + ".0")):
        try:
            if candidate.stat().st_ino == inode:
                return candidate
        except FileNotFoundError:
            continue
    return None


@dataclass
class Collected:
    path: str
    lines: int
    offset: int
    rotated: bool
    lost: str = ""  # what could not be read (a rotated file no longer there): said, not hidden


def collect(path: str | Path, host: str | None = None) -> Collected:
    """Read what is new in Exim's main log at ``path`` on this mail host (``host``: its name, by
    default the machine's) into the statistics."""
    from mailserver.models import LogCursor

    path, host = Path(path), host or socket.getfqdn()
    # The rows exist before any transaction locks them: creating them under a lock makes two
    # collectors deadlock on MariaDB (both take the gap, then both insert into it).
    _create_once(LogCursor, host="", path="")
    _create_once(LogCursor, host=host, path=str(path))
    with transaction.atomic():
        # One collector at a time, whatever the host: two adding to the same hour's counts at once
        # would both insert its new rows (the row of host "" is only this lock).
        LogCursor.objects.select_for_update().get(host="", path="")
        cursor = LogCursor.objects.select_for_update().get(host=host, path=str(path))
        stat = os.stat(path)
        tally = Tally(domains=directory_domains(), pending=dict(cursor.pending))
        rotated, lost = False, ""
        if cursor.inode and cursor.inode != stat.st_ino:
            rotated = True
            old = _rotated(path, cursor.inode)
            if old is not None:
                _read_from(old, cursor.offset, tally)
            else:
                lost = (
                    f"the log rotated away from inode {cursor.inode} is not at {path}.1 or .0: "
                    "its last lines were not read"
                )
            offset = 0
        elif stat.st_size < cursor.offset:
            rotated, offset = True, 0  # truncated in place (copytruncate)
        else:
            offset = cursor.offset
        offset = _read_from(path, offset, tally)
        _store(tally)
        pending = tally.pending
        if len(pending) > MAX_PENDING:
            pending = dict(list(pending.items())[-MAX_PENDING:])
        cursor.inode, cursor.offset, cursor.pending = stat.st_ino, offset, pending
        cursor.save()
    return Collected(str(path), tally.lines, offset, rotated, lost)


def _create_once(model, **key) -> None:
    """The row of ``key``, made if missing. Several collectors starting at once may all try to make
    it: on MariaDB, inserts of the same key into a unique index over a long text column (a hash
    index) can end in a deadlock (1213) for all but one; the losers try again and find the row."""
    for attempt in range(10):
        try:
            model.objects.get_or_create(**key)
            return
        except OperationalError as error:
            if attempt == 9 or not error.args or error.args[0] != MYSQL_DEADLOCK:
                raise
            time.sleep(0.02 * (attempt + 1))


def _hour(text: str) -> datetime:
    return timezone.make_aware(datetime.strptime(text, "%Y-%m-%d %H"))


def _store(tally: Tally) -> None:
    from mailserver.models import TrafficCount, TrafficParty

    if tally.counts:
        keys = {(d, _hour(h), k): n for (d, h, k), n in tally.counts.items()}
        hours = {h for _, h, _ in keys}
        existing = {
            (row.domain, row.hour, row.kind): row
            for row in TrafficCount.objects.select_for_update().filter(
                hour__in=hours, domain__in={d for d, _, _ in keys}
            )
        }
        changed, new = [], []
        for (domain, hour, kind), n in keys.items():
            if (row := existing.get((domain, hour, kind))) is not None:
                row.count += n
                changed.append(row)
            else:
                new.append(TrafficCount(domain=domain, hour=hour, kind=kind, count=n))
        TrafficCount.objects.bulk_update(changed, ["count"], batch_size=500)
        TrafficCount.objects.bulk_create(new, batch_size=500)
    if tally.parties:
        keys = Counter()
        for (domain, day, role, address), n in tally.parties.items():
            keys[(domain, datetime.strptime(day, "%Y-%m-%d").date(), role, address[:320])] += n
        existing = {
            (row.domain, row.day, row.role, row.address): row
            for row in TrafficParty.objects.select_for_update().filter(
                day__in={day for _, day, _, _ in keys}, domain__in={d for d, _, _, _ in keys}
            )
        }
        changed, new = [], []
        for (domain, day, role, address), n in keys.items():
            if (row := existing.get((domain, day, role, address))) is not None:
                row.count += n
                changed.append(row)
            else:
                new.append(TrafficParty(domain=domain, day=day, role=role, address=address, count=n))
        TrafficParty.objects.bulk_update(changed, ["count"], batch_size=500)
        TrafficParty.objects.bulk_create(new, batch_size=500)


def domain_hours(domain: str, since: datetime) -> dict[datetime, dict[str, int]]:
    """hour -> kind -> count for ``domain`` (or ALL) from ``since``."""
    from mailserver.models import TrafficCount

    result: dict[datetime, dict[str, int]] = {}
    for row in TrafficCount.objects.filter(domain=domain, hour__gte=since).order_by("hour"):
        result.setdefault(row.hour, {})[row.kind] = row.count
    return result


def top(domain: str, role: str, since, limit: int = 10) -> list[tuple[str, int]]:
    """The ``limit`` senders or recipients of ``domain`` with the most messages since the day ``since``."""
    from django.db.models import Sum

    from mailserver.models import TrafficParty

    rows = (
        TrafficParty.objects.filter(domain=domain, role=role, day__gte=since)
        .values("address")
        .annotate(total=Sum("count"))
        .order_by("-total", "address")[:limit]
    )
    return [(row["address"], row["total"]) for row in rows]
