"""Traffic statistics: our Exim log parser against eximstats on the same log of a million lines (issue 18).

    nice -n 10 .venv/bin/python bench/traffic_parse.py [--lines 1000000] [--runs 3] [--collect --db sqlite]

Writes a main log as Exim 4.96 writes it with the shipped log_selector (``+received_recipients``:
recipients after ``for``) into a temporary directory, seeded: the same seed gives the same file.
It is the log of an MX and submission host of 2,000 domains: messages received from outside for
mailboxes, aliases (to mailboxes here and forwards out), domain aliases and catch-alls; mail sent
by mailboxes out through ``remote_smtp`` (several recipients of one host: ``=>`` then ``->``) and
to each other; deferrals retried later (a full mailbox, a greylisting remote host), bounces and
their ``<= <>`` reports; ``Completed``; RCPTs refused with the ACL's own messages (10-acl.conf:
no such user, greylisted, DNS blocklist, relaying, sender lists), messages refused after DATA
(virus, spam), failed logins, TLS errors, queue runs and daemon starts.

Then, on that file, alternating (the order rotates each round), ``--runs`` times each, median:

- **eximstats** (Debian's, exim4-base) with the work that ours also does: hourly histograms, top
  lists by sending domain, sender address and local domain (``-bydomain -byemail -bylocaldomain``),
  without relaying, transport and queue-time tables (``-nr -nt -q0``); report to /dev/null;
- **eximstats, default report** (no options: by sending host, with relaying, transports, queue
  times and errors), as it is usually run;
- **ours**: ``mailserver.traffic._read_from`` into a ``Tally`` of the log's domains and domain
  aliases, the parse of ``manage.py traffic collect`` without the database.

Wall and CPU seconds of each; the file is read once before (page cache warm for all). What ours
counted for the whole host must be what the generator wrote, kind by kind (``totals_match_log``).
``--collect`` also times one ``traffic.collect()`` of the whole file (parse and store) into a
fresh bench database (``--db``, ``--name``; its domains loaded through the bulk path) and checks
that the stored counts are the parse's. Results: ``bench/results/traffic-parse.json``.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import RESULTS_DIR, ROOT, arguments, machine, median, recreate_database, setup_django  # noqa: E402
from bench.directory import FIRST, LAST, ROLES, WORDS  # noqa: E402

EXIMSTATS = "/usr/sbin/eximstats"
VARIANTS = {
    "eximstats": ["-bydomain", "-byemail", "-bylocaldomain", "-nr", "-nt", "-q0"],
    "eximstats_default": [],
}
POLICY = {"rejected_relay": "rejected_policy", "rejected_sender_list": "rejected_policy"}  # the parser's kinds
START = 1_796_083_200  # 2026-12-01 00:00:00 UTC
TLS_IN = "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no"
TLS_OUT = "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes"
SUBJECTS = [
    "Re: meeting on Thursday",
    "Invoice 2026-1187",
    "Your order has shipped",
    "Agenda for Monday",
    "Fwd: photos",
    "Newsletter December",
    "Quote for the roof repairs",
    "Password reset",
    "Lunch?",
    "Re: Re: contract draft v3",
]
VIRUSES = ["Eicar-Signature", "Win.Test.EICAR_HDB-1", "Doc.Dropper.Agent-6993123-0", "Html.Phishing.Bank-1234"]
BLOCKLISTS = ["Spamhaus ZEN (127.0.0.2 spam source)", "Spamhaus ZEN (127.0.0.4 exploits)", "SpamCop (127.0.0.2)"]
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(n: int, width: int) -> str:
    out = ""
    for _ in range(width):
        n, digit = divmod(n, 62)
        out = BASE62[digit] + out
    return out


@dataclass
class Site:
    """The mail directory the log is about, and the rest of the world."""

    domains: list[str] = field(default_factory=list)
    domain_aliases: dict[str, str] = field(default_factory=dict)  # domain alias -> its target
    mailboxes: list[str] = field(default_factory=list)
    by_domain: dict[str, list[str]] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)  # alias -> destinations
    catchalls: dict[str, str] = field(default_factory=dict)  # domain -> the mailbox it goes to
    remote: list[str] = field(default_factory=list)

    def lookup(self) -> dict[str, str]:
        """What ``traffic.directory_domains`` would return for it."""
        return {**{name: name for name in self.domains}, **self.domain_aliases}


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)}.{rng.choice(LAST)}"


def make_site(rng: random.Random, domains: int = 2000, remote: int = 6000) -> Site:
    site = Site()
    tlds = ["example", "test", "example.org", "example.net", "example.com"]
    for i in range(domains):
        name = f"{WORDS[i % 20]}-{WORDS[i // 20 % 20]}{i // 400 or ''}.{tlds[i % 5]}"
        site.domains.append(name)
        count = 3000 if i == 0 else rng.randint(1, 30)
        boxes = sorted({f"{person(rng)}{rng.randint(1, 9) if count > 400 else ''}@{name}" for _ in range(count)})
        site.by_domain[name] = boxes
        site.mailboxes += boxes
        for role in rng.sample(ROLES, 3):
            destinations = rng.sample(boxes, min(len(boxes), rng.randint(1, 3)))
            if rng.random() < 0.15:
                destinations.append(f"{person(rng)}@{WORDS[rng.randrange(20)]}mail.example")
            site.aliases[f"{role}@{name}"] = destinations
        if rng.random() < 0.05:
            site.catchalls[name] = boxes[0]
    for i, target in enumerate(rng.sample(site.domains, 200)):
        site.domain_aliases[f"{WORDS[i % 20]}-alias{i}.test"] = target
    site.remote = [f"{WORDS[i % 20]}mail.example" for i in range(20)]
    site.remote += [f"{WORDS[i % 20]}{i}.{tlds[i % 5]}" for i in range(remote)]
    return site


class MailLog:
    """Writes the log: one event (a message, a refused connection, ...) after another."""

    def __init__(self, rng: random.Random, site: Site, fh, lines: int, gap: float):
        self.rng, self.site, self.fh, self.lines, self.gap = rng, site, fh, lines, gap
        self.clock, self.stamped = float(START), (-1, "")
        self.written, self.mix, self.later, self.serial = 0, Counter(), [], 0
        # remote domains by popularity (a few big providers, a long tail)
        self.remote_weights = list(_cumulative([50.0] * 20 + [1.0] * (len(site.remote) - 20)))
        self.events = {
            self.inbound: 30,
            self.submission: 8,
            self.internal: 3,
            self.refused_unknown: 16,
            self.refused_greylist: 10,
            self.refused_blocklist: 6,
            self.refused_relay: 2,
            self.refused_sender_list: 0.5,
            self.refused_after_data: 2.3,
            self.noise: 10,
            self.daemon_start: 0.005,
        }
        self.event_weights = list(_cumulative(self.events.values()))
        self.alias_names, self.catchall_domains = list(site.aliases), list(site.catchalls)
        self.domain_alias_pairs = list(site.domain_aliases.items())

    # writing

    def stamp(self, at: float) -> str:
        second = int(at)
        if self.stamped[0] != second:
            self.stamped = (second, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second)))
        return self.stamped[1]

    def write(self, kind: str, text: str, at: float | None = None) -> None:
        if self.written < self.lines:
            self.fh.write(f"{self.stamp(self.clock if at is None else at)} {text}\n")
            self.written += 1
            self.mix[kind] += 1

    def schedule(self, delay: float, kind: str, text: str) -> None:
        self.serial += 1
        heapq.heappush(self.later, (self.clock + delay, self.serial, kind, text))

    def run(self) -> None:
        self.daemon_start()
        events = list(self.events)
        while self.written < self.lines:
            self.clock += self.rng.expovariate(1 / self.gap)
            while self.later and self.later[0][0] <= self.clock:
                at, _, kind, text = heapq.heappop(self.later)
                self.write(kind, text, at)
            self.rng.choices(events, cum_weights=self.event_weights)[0]()

    # parts of lines

    def message_id(self) -> str:
        self.serial += 1
        return f"{base62(int(self.clock), 6)}-{base62(self.rng.randrange(62**3), 6)}-{base62(self.serial % 3844, 2)}"

    def ip(self) -> str:
        rng = self.rng
        return f"{rng.randint(11, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}"

    def remote_domain(self) -> str:
        return self.rng.choices(self.site.remote, cum_weights=self.remote_weights)[0]

    def remote_address(self) -> str:
        return f"{person(self.rng)}{self.rng.randint(1, 99)}@{self.remote_domain()}"

    def client(self, domain: str) -> str:
        """The H= of an SMTP client of that domain: its name, its HELO when another, its address."""
        name = f"mail{self.rng.randint(1, 4)}.{domain}"
        return f"H={name} [{self.ip()}]" if self.rng.random() < 0.7 else f"H=({name}) [{self.ip()}]"

    def header(self, sender: str) -> str:
        size, subject = int(self.rng.lognormvariate(9, 1.2)) + 400, self.rng.choice(SUBJECTS)
        return f'S={size} id=<{self.rng.getrandbits(64):x}@{sender.rpartition("@")[2] or "bounce"}> T="{subject}"'

    def confirmation(self, address: str) -> str:
        return f'C="250 2.0.0 <{address}> {base62(self.rng.getrandbits(64), 11)} Saved"'

    def local_recipient(self) -> tuple[str, list[tuple[str, str]]]:
        """A recipient here as the sender wrote it, and its deliveries: (address, parent)."""
        kind, site = self.rng.random(), self.site
        if kind < 0.72:
            box = self.rng.choice(site.mailboxes)
            typed = box.capitalize() if self.rng.random() < 0.02 else box
            return typed, [(box, "")]
        if kind < 0.87:
            alias = self.rng.choice(self.alias_names)
            return alias, [(d, alias) for d in site.aliases[alias]]
        if kind < 0.96:
            name, target = self.rng.choice(self.domain_alias_pairs)
            box = self.rng.choice(site.by_domain[target])
            typed = f"{box.partition('@')[0]}@{name}"
            return typed, [(box, typed)]
        domain = self.rng.choice(self.catchall_domains)
        typed = f"{self.rng.choice(ROLES + ['orders', 'mail', 'x'])}{self.rng.randint(1, 999)}@{domain}"
        return typed, [(site.catchalls[domain], typed)]

    # events

    def inbound(self) -> None:
        """A message from outside for recipients here (mailboxes, aliases, domain aliases, catch-alls)."""
        sender = self.remote_address() if self.rng.random() < 0.95 else "<>"
        count = 1 if self.rng.random() < 0.8 else self.rng.randint(2, 5)
        recipients = [self.local_recipient() for _ in range(count)]
        message = self.message_id()
        domain = sender.rpartition("@")[2] or self.remote_domain()
        self.write(
            "received",
            f"{message} <= {sender} {self.client(domain)} P=esmtps {TLS_IN} {self.header(sender)} "
            f"for {' '.join(typed for typed, _ in recipients)}",
        )
        late = 0.0
        for _, deliveries in recipients:
            for address, parent in deliveries:
                late = max(late, self.deliver(message, address, parent))
        self.complete(message, late)

    def deliver(self, message: str, address: str, parent: str) -> float:
        """One delivery (LMTP here, SMTP for a forward out); how long until it is done (0: now)."""
        via = f" <{parent}>" if parent else ""
        if address.rpartition("@")[2] not in self.site.by_domain:
            self.remote_delivery(message, [address], via)
            return 0.0
        line = f"{message} => {address}{via} R=mailbox T=dovecot_lmtp {self.confirmation(address)}"
        if self.rng.random() < 0.98:
            self.write("delivered", line)
            return 0.0
        self.write(
            "deferred",
            f"{message} == {address}{via} R=mailbox T=dovecot_lmtp defer (-44): LMTP error after end of data: "
            f"452 4.2.2 <{address}> Quota exceeded (mailbox for user is full)",
        )
        delay = self.rng.uniform(900, 7200)
        self.schedule(delay, "delivered", line)
        return delay

    def remote_delivery(self, message: str, addresses: list[str], via: str = "") -> float:
        """Recipients of one remote domain over one connection: ``=>``, then ``->`` for the others."""
        domain = addresses[0].rpartition("@")[2]
        mx, ip = f"mx{self.rng.randint(1, 3)}.{domain}", self.ip()
        host, outcome = f"H={mx} [{ip}]", self.rng.random()
        if outcome < 0.92:
            for i, address in enumerate(addresses):
                flag = "=>" if i == 0 else "->"
                self.write(
                    "relayed",
                    f"{message} {flag} {address}{via} R=dnslookup T=remote_smtp {host} {TLS_OUT} "
                    f'DN="CN={mx}" C="250 2.0.0 Ok: queued as {base62(self.rng.getrandbits(48), 9)}"',
                )
            return 0.0
        if outcome < 0.97:
            return self.remote_deferral(message, addresses, via, host)
        for address in addresses:
            self.write("bounced", self.remote_failure(message, address, via, host))
        return -1.0  # bounced: the caller reports it to the sender

    def remote_deferral(self, message: str, addresses: list[str], via: str, host: str) -> float:
        delay = self.rng.uniform(600, 3 * 3600)
        for address in addresses:
            self.write(
                "deferred",
                f"{message} == {address}{via} R=dnslookup T=remote_smtp defer (-44) {host}: SMTP error from "
                f"remote mail server after RCPT TO:<{address}>: 451 4.7.1 Please try again later",
            )
            if self.rng.random() < 0.85:
                line = f'{message} => {address}{via} R=dnslookup T=remote_smtp {host} {TLS_OUT} C="250 2.0.0 Ok"'
                self.schedule(delay, "relayed", line)
            else:
                self.schedule(delay, "bounced", self.remote_failure(message, address, via, host))
        return delay

    def remote_failure(self, message: str, address: str, via: str, host: str) -> str:
        return (
            f"{message} ** {address}{via} R=dnslookup T=remote_smtp {host}: SMTP error from remote mail server "
            f"after RCPT TO:<{address}>: 550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        )

    def complete(self, message: str, late: float) -> None:
        if late > 0:
            self.schedule(late + 1, "completed", f"{message} Completed")
        else:
            self.write("completed", f"{message} Completed")

    def submission(self) -> None:
        """A mailbox sends out (SMTP AUTH): recipients at other domains, some here."""
        sender = self.rng.choice(self.site.mailboxes)
        remote = sorted({self.remote_address() for _ in range(1 if self.rng.random() < 0.7 else 4)})
        local = [self.rng.choice(self.site.mailboxes)] if self.rng.random() < 0.1 else []
        message = self.message_id()
        self.write(
            "received",
            f"{message} <= {sender} H=(laptop-{self.rng.randrange(999)}) [{self.ip()}] P=esmtpsa {TLS_IN} "
            f"A=dovecot_plain:{sender} {self.header(sender)} for {' '.join(remote + local)}",
        )
        groups: dict[str, list[str]] = {}
        for address in remote:
            groups.setdefault(address.rpartition("@")[2], []).append(address)
        late, bounced = 0.0, False
        for addresses in groups.values():
            done = self.remote_delivery(message, addresses)
            late, bounced = max(late, done), bounced or done < 0
        for address in local:
            late = max(late, self.deliver(message, address, ""))
        if bounced:
            self.bounce_report(message, sender)
        self.complete(message, late)

    def bounce_report(self, message: str, sender: str) -> None:
        report = self.message_id()
        self.write(
            "received",
            f"{report} <= <> R={message} U=Debian-exim P=local S={self.rng.randint(2000, 9000)} "
            f'T="Mail delivery failed: returning message to sender" for {sender}',
        )
        self.deliver(report, sender, "")
        self.write("completed", f"{report} Completed")

    def internal(self) -> None:
        """A mailbox sends to mailboxes here."""
        sender = self.rng.choice(self.site.mailboxes)
        recipients = self.rng.sample(self.site.mailboxes, self.rng.randint(1, 3))
        message = self.message_id()
        self.write(
            "received",
            f"{message} <= {sender} H=(laptop-{self.rng.randrange(999)}) [{self.ip()}] P=esmtpsa {TLS_IN} "
            f"A=dovecot_login:{sender} {self.header(sender)} for {' '.join(recipients)}",
        )
        late = max(self.deliver(message, address, "") for address in recipients)
        self.complete(message, late)

    def refused(self, kind: str, recipients: list[str], message, temporary: bool = False) -> None:
        """One SMTP client refused at RCPT, for each of ``recipients`` (``message(recipient)``)."""
        sender = self.remote_address() if self.rng.random() < 0.9 else ""
        client = self.client(self.remote_domain())
        refused = "temporarily rejected" if temporary else "rejected"
        for recipient in recipients:
            self.write(kind, f"{client} F=<{sender}> {refused} RCPT <{recipient}>: {message(recipient)}")

    def refused_unknown(self) -> None:
        domains = [d for d in self.rng.sample(self.site.domains, 3) if d not in self.site.catchalls]
        guesses = ["admin", "webmaster", "test", "contact", "marketing", "postmaster1"]
        recipients = [f"{self.rng.choice(guesses + [person(self.rng)])}x@{d}" for d in domains]
        self.refused("rejected_unknown", recipients, lambda r: f"550 5.1.1 <{r}>: no such user")

    def refused_greylist(self) -> None:
        recipients = [self.rng.choice(self.site.mailboxes) for _ in range(self.rng.randint(1, 2))]
        wait = 300 if self.rng.random() < 0.8 else self.rng.randint(1, 299)
        message = f"greylisted, please try again in {wait} seconds"
        self.refused("rejected_greylist", recipients, lambda r: f"451 4.7.1 <{r}>: {message}", temporary=True)

    def refused_blocklist(self) -> None:
        recipients = [self.rng.choice(self.site.mailboxes) for _ in range(self.rng.randint(1, 3))]
        ip, listed = self.ip(), self.rng.choice(BLOCKLISTS)
        self.refused("rejected_dnsbl", recipients, lambda r: f"550 5.7.1 <{r}>: your client {ip} is listed by {listed}")

    def refused_relay(self) -> None:
        recipients = [self.remote_address() for _ in range(self.rng.randint(1, 2))]
        self.refused("rejected_relay", recipients, lambda r: f"550 5.7.1 Relaying to <{r}> is not permitted")

    def refused_sender_list(self) -> None:
        recipient, sender = self.rng.choice(self.site.mailboxes), self.remote_address()
        refusal = f"mail from <{sender}> is refused by the recipient's sender list"
        self.refused("rejected_sender_list", [recipient], lambda r: f"550 5.7.1 <{r}>: {refusal}")

    def refused_after_data(self) -> None:
        sender = self.remote_address()
        head = f"{self.message_id()} {self.client(sender.rpartition('@')[2])} F=<{sender}> rejected after DATA:"
        if self.rng.random() < 0.15:
            self.write("rejected_virus", f"{head} 550 5.7.1 This message contains a virus ({self.rng.choice(VIRUSES)})")
        else:
            score = self.rng.uniform(10, 40)
            self.write(
                "rejected_spam", f"{head} 550 5.7.1 This message scored {score:.1f} spam points and was rejected"
            )

    def noise(self) -> None:
        ip, helo = self.ip(), f"{self.rng.choice(WORDS)}-pc"
        self.write(
            "other",
            self.rng.choice(
                [
                    f"no host name found for IP address {ip}",
                    f"SMTP command timeout on connection from ({helo}) [{ip}]",
                    f"unexpected disconnection while reading SMTP command from ({helo}) [{ip}] D=31s",
                    f"TLS error on connection from ({helo}) [{ip}] (SSL_accept): error:0A000126:SSL "
                    "routines::unexpected eof while reading",
                    f"dovecot_login authenticator failed for ({helo}) [{ip}]: 535 Incorrect authentication data "
                    f"(set_id={self.rng.choice(ROLES)})",
                    "SMTP protocol synchronization error (input sent without waiting for greeting): rejected "
                    f'connection from H=[{ip}] input="GET / HTTP/1.1\\r\\nHost: {ip}\\r\\n"',
                    f"Start queue run: pid={self.rng.randint(1000, 99999)}",
                    f"End queue run: pid={self.rng.randint(1000, 99999)}",
                ]
            ),
        )

    def daemon_start(self) -> None:
        self.write(
            "daemon",
            f"exim 4.96 daemon started: pid={self.rng.randint(500, 9999)}, -q30m, listening for SMTP on port 25 "
            "(IPv6 and IPv4) port 587 (IPv6 and IPv4) port 465 (IPv6 and IPv4)",
        )


def _cumulative(weights):
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def write_log(path: Path, lines: int, seed: int) -> tuple[Site, dict]:
    rng = random.Random(seed)
    site = make_site(rng)
    with open(path, "w", buffering=1 << 20) as fh:
        log = MailLog(rng, site, fh, lines, gap=0.8)
        log.run()
    first, last = (time.strftime("%Y-%m-%d %H:%M", time.gmtime(t)) for t in (START, log.clock))
    return site, {"from": first, "to": last, "bytes": path.stat().st_size, "mix": dict(log.mix.most_common())}


def eximstats(path: Path, options: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one eximstats run, its report thrown away."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([EXIMSTATS, *options, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"eximstats failed: {done.stderr.decode(errors='replace')}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def ours(path: Path, domains: dict[str, str]):
    """Wall and CPU seconds of our parse of the whole file, and what it counted."""
    from mailserver import traffic

    tally = traffic.Tally(domains=dict(domains))
    started, cpu = time.perf_counter(), time.process_time()
    traffic._read_from(path, 0, tally)
    return time.perf_counter() - started, time.process_time() - cpu, tally


def digest(tally) -> str:
    """Of everything the parse counted: the same digest, the same counts."""
    text = repr((sorted(tally.counts.items()), sorted(tally.parties.items()), tally.lines))
    return hashlib.sha256(text.encode()).hexdigest()


def figures(lines: int, walls: list[float], cpus: list[float]) -> dict:
    return {
        "lines_per_second": round(lines / median(walls)),
        "cpu_lines_per_second": round(lines / median(cpus)),
        "seconds": [round(s, 2) for s in walls],
        "cpu_seconds": [round(s, 2) for s in cpus],
    }


def measure(path: Path, lines: int, site: Site, runs: int) -> dict:
    times = {name: ([], []) for name in [*VARIANTS, "ours"]}
    tally = None
    for round_ in range(runs):
        names = list(times)
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            if name == "ours":
                wall, cpu, tally = ours(path, site.lookup())
            else:
                wall, cpu = eximstats(path, VARIANTS[name])
            times[name][0].append(wall)
            times[name][1].append(cpu)
            print(f"round {round_ + 1}: {name} {wall:.1f} s ({cpu:.1f} s CPU)", flush=True)
    result = {name: figures(lines, *times[name]) for name in times}
    for name, options in VARIANTS.items():
        result[name]["command"] = " ".join(["eximstats", *options, "LOG", ">/dev/null"])
    result["ours"].update(
        call="mailserver.traffic._read_from(LOG, 0, Tally(domains=...))",
        lines_counted=tally.lines,
        totals=totals(tally),
        hourly_counts=len(tally.counts),
        party_counts=len(tally.parties),
        counts_sha256=digest(tally),
    )
    return result


def totals(tally) -> dict[str, int]:
    """What the parse counted for the whole host, by kind."""
    by_kind = Counter()
    for (domain, _, kind), n in tally.counts.items():
        if domain == "*":
            by_kind[kind] += n
    return dict(sorted(by_kind.items()))


def collect(path: Path, site: Site, expected) -> dict:
    """One ``traffic.collect()`` of the whole file into the bench database, checked against the parse."""
    from django.core.management import call_command

    from domains.bulk import domain_alias_bulk_load, domain_bulk_load
    from mailserver import traffic
    from mailserver.models import TrafficCount, TrafficParty

    call_command("migrate", verbosity=0)
    domain_bulk_load(acting_user=None, rows=[{"name": name} for name in site.domains], origin="bench")
    rows = [{"name": name, "domain": target} for name, target in site.domain_aliases.items()]
    domain_alias_bulk_load(acting_user=None, rows=rows, origin="bench")
    started = time.perf_counter()
    done = traffic.collect(path, host="bench")
    seconds = time.perf_counter() - started
    stored = Counter()
    for row in TrafficCount.objects.filter(domain=traffic.ALL):
        stored[row.kind] += row.count
    return {
        "seconds": round(seconds, 2),
        "lines_per_second": round(done.lines / seconds),
        "count_rows": TrafficCount.objects.count(),
        "party_rows": TrafficParty.objects.count(),
        "stored_totals_match_parse": dict(sorted(stored.items())) == expected,
    }


def written(mix: dict[str, int]) -> dict[str, int]:
    """What the parse should count for the whole host, from the kinds of lines the log was written with."""
    expected = Counter()
    for kind, n in mix.items():
        if kind not in ("completed", "other", "daemon"):
            expected[POLICY.get(kind, kind)] += n
    return dict(sorted(expected.items()))


def versions() -> dict[str, str]:
    help_text = subprocess.run([EXIMSTATS, "--help"], capture_output=True, text=True).stdout
    perl = subprocess.run(["perl", "-e", "print $^V"], capture_output=True, text=True).stdout
    return {"eximstats": help_text.split("Version", 1)[1].split()[0] if "Version" in help_text else "?", "perl": perl}


def save(result: dict, tag: str) -> None:
    path = RESULTS_DIR / f"traffic-parse{'-' + tag if tag else ''}.json"
    command = " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    data = {"kind": "traffic-parse", "command": command, "machine": {**machine(), **versions()}, **result}
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.set_defaults(db="sqlite", name="mailadmin_bench_traffic")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--collect", action="store_true", help="also time traffic.collect() into the bench database")
    options = parser.parse_args()
    if options.collect:
        recreate_database(options.db, options.name)
    setup_django(options.db, options.name)
    with tempfile.TemporaryDirectory(prefix="bench-traffic-") as tmp:
        path = Path(tmp) / "mainlog"
        started = time.perf_counter()
        site, log = write_log(path, options.lines, options.seed)
        print(f"{options.lines:,} lines ({log['bytes']:,} bytes) in {time.perf_counter() - started:.0f} s", flush=True)
        with open(path, "rb") as fh:  # into the page cache, for every variant alike
            while fh.read(1 << 24):
                pass
        result = {
            "lines": options.lines,
            "runs": options.runs,
            "seed": options.seed,
            "log": {
                **log,
                "domains": len(site.domains),
                "domain_aliases": len(site.domain_aliases),
                "mailboxes": len(site.mailboxes),
                "aliases": len(site.aliases),
            },
            **measure(path, options.lines, site, options.runs),
        }
        result["ratio"] = round(result["ours"]["lines_per_second"] / result["eximstats"]["lines_per_second"], 2)
        result["ratio_cpu"] = round(
            result["ours"]["cpu_lines_per_second"] / result["eximstats"]["cpu_lines_per_second"], 2
        )
        result["ratio_to_default"] = round(
            result["ours"]["lines_per_second"] / result["eximstats_default"]["lines_per_second"], 2
        )
        result["goal_met"] = result["ratio"] >= 1
        result["ours"]["totals_match_log"] = result["ours"]["totals"] == written(log["mix"])
        if options.collect:
            result["collect"] = {"db": options.db, **collect(path, site, result["ours"]["totals"])}
    save(result, options.tag)


if __name__ == "__main__":
    main()
