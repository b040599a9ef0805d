"""Who is sending how much: Exim's ratelimit hints database read on a mail host.

Exim counts what an authenticated mailbox sends (10-acl.conf: ``messages:ADDRESS`` per message
and ``rcpts:ADDRESS`` per recipient, over one hour) in its own hints database, never in the
directory. ``collect`` reads that database with ``exim_dumpdb``, decays each rate to now as Exim
does between events (an exponential with the period as time constant), and records in
``SendingState`` each mailbox's rates and whether it is over its limit (the lookup row's
``send_limit``/``rcpt_limit``), so the panel shows who is being refused. Run on every mail host
that takes submissions (``mailadmin-sending.timer``); each host counts alone, as Exim does.
"""

from __future__ import annotations

import datetime
import math
import re
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Mailbox
from mailserver.models import SendingState

PERIOD_SECONDS = 3600
# 04-Dec-2026 05:10:42.629462 rate:     12.000 key: 1h/per_mail/messages:sender@example.org
_LINE = re.compile(
    r"^(?P<at>\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?)\s+rate:\s+(?P<rate>[0-9.]+)\s+"
    r"key: 1h/per_(?P<unit>mail|rcpt)/(?:messages|rcpts):(?P<address>\S+)$"
)


@dataclass
class Rate:
    messages: float = 0.0
    recipients: float = 0.0


def parse_dump(text: str, now: datetime.datetime) -> dict[str, Rate]:
    """Address -> its rates decayed to ``now``, from ``exim_dumpdb SPOOL ratelimit`` (times in the
    host's local time zone, as Exim writes them); lines of other keys are left alone."""
    rates: dict[str, Rate] = {}
    zone = now.astimezone().tzinfo
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        stamp = match["at"] if "." in match["at"] else match["at"] + ".0"
        at = datetime.datetime.strptime(stamp, "%d-%b-%Y %H:%M:%S.%f").replace(tzinfo=zone)
        elapsed = max((now - at).total_seconds(), 0.0)
        rate = float(match["rate"]) * math.exp(-elapsed / PERIOD_SECONDS)
        entry = rates.setdefault(match["address"].lower(), Rate())
        if match["unit"] == "mail":
            entry.messages = rate
        else:
            entry.recipients = rate
    return rates


def dump(spool: str) -> str:
    """The ratelimit database as ``exim_dumpdb`` prints it; empty when Exim has not made one yet."""
    if not Path(spool, "input").is_dir() and not Path(spool, "db").is_dir():
        raise RuntimeError(f"{spool} is not Exim's spool directory (MAIL_EXIM_SPOOL_DIRECTORY)")
    result = subprocess.run(  # noqa: S603 - Exim's own tool (Debian's exim4-base), on the configured spool
        ["exim_dumpdb", spool, "ratelimit"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        said = (result.stderr + result.stdout).strip()
        if "no such file" in said.lower():  # no count kept yet on this host
            return ""
        raise RuntimeError(f"exim_dumpdb {spool} ratelimit: {said or result.returncode}")
    return result.stdout


def _limits(addresses) -> dict[str, tuple[int, int]]:
    with connection.cursor() as cursor:
        found = {}
        addresses = list(addresses)
        for start in range(0, len(addresses), 500):
            chunk = addresses[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT address, send_limit, rcpt_limit FROM lookup_addresses_v2 WHERE address IN ({marks})",  # noqa: S608
                chunk,
            )
            found.update({a: (int(s or 0), int(r or 0)) for a, s, r in cursor.fetchall()})
        return found


def this_host() -> str:
    """The name a mail host's states are recorded under: its own (several hosts share MAIL_HOSTNAME)."""
    return socket.getfqdn() or socket.gethostname()


@transaction.atomic
def record(rates: dict[str, Rate], now: datetime.datetime, host: str) -> list[SendingState]:
    """Replace what ``host`` recorded with ``rates`` (those of mailboxes that still exist); what
    other mail hosts recorded stays theirs."""
    limits = _limits(rates)
    ids = dict(Mailbox.objects.filter(address__in=list(rates)).values_list("address", "pk"))
    states = []
    for address, rate in rates.items():
        if address not in ids or (rate.messages < 0.5 and rate.recipients < 0.5):
            continue
        send_limit, rcpt_limit = limits.get(address, (0, 0))
        # held: the next one would take the rate past the limit (a burst adds about 1 per event)
        limited = bool(send_limit and rate.messages + 1 > send_limit) or bool(
            rcpt_limit and rate.recipients + 1 > rcpt_limit
        )
        states.append(
            SendingState(
                mailbox_id=ids[address],
                host=host,
                messages_per_hour=round(rate.messages, 1),
                recipients_per_hour=round(rate.recipients, 1),
                limited=limited,
                measured_at=now,
            )
        )
    SendingState.objects.filter(host=host).delete()
    SendingState.objects.bulk_create(states)
    return states


def collect(spool: str, now: datetime.datetime | None = None, host: str | None = None) -> list[SendingState]:
    now = now or timezone.now()
    return record(parse_dump(dump(spool), now), now, host or this_host())
