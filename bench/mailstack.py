"""SMTP delivery through real Exim + Dovecot LMTP with the SQL lookups, against the same servers reading static files.

    nice -n 10 .venv/bin/python bench/mailstack.py --db mariadb [--messages 1000] [--repeat 3]

Run after bench/generate.py, as root, with Exim and Dovecot installed (scripts/install.sh
--test). Starts the private Exim + Dovecot of tests/mailstack/stack.py (rendered by
``render_mailconfig`` from deploy/, on loopback ports, reading the bench database as
the lookup users bench_exim and bench_dovecot), in two variants with the same routing:

- ``sql``: the shipped configuration as rendered;
- ``static``: the same rendered configuration with every SQL lookup replaced by a
  lookup of the same key in an indexed static file (Exim: a DBM file made by
  ``exim_dbmbuild`` for each query, holding that query's answer for every key the run
  uses; Dovecot: a passwd-file with the password_query and user_query answers).

Each run sends ``--messages`` messages, each to one of 200 random active mailboxes, over
4 SMTP connections at once, and times from the first connection until Exim has logged
every delivery (Dovecot LMTP into the maildirs). The variants alternate, ``--repeat``
runs each; the figure is the median. Then IMAP logins (IMAPS, one connection each) per
second with Dovecot's auth cache cold (just flushed) and warm (the same users again),
on the sql variant. The generated mailboxes share one {ARGON2ID} hash with the
production parameters, so every cold login verifies Argon2 (the auth cache keeps the
verified result, which is what makes warm logins cheap).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import arguments, median, save, setup_django  # noqa: E402
from bench.lookups import lookup_users, mail_server_credentials  # noqa: E402

RECIPIENTS = 200
CONNECTIONS = 4
PASSWORD = "bench-password"  # noqa: S105 - the password of every generated mailbox
_LOOKUP_HEAD = "${lookup LOOKUP_DRIVER{"
DBMBUILD = shutil.which("exim_dbmbuild") or "/usr/sbin/exim_dbmbuild"
_KEY = re.compile(r"E?'\$\{LOOKUP_QUOTE:(.*?)\}'")


# --- the static variant ----------------------------------------------------------------


def _macros(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)\s*=\s*(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def _expand(text: str, macros: dict[str, str]) -> str:
    for _ in range(5):
        for name in sorted(macros, key=len, reverse=True):
            if name != "LOOKUP_QUOTE":
                text = text.replace(name, macros[name])
    return text


def _brace_end(text: str, start: int) -> int:
    """Index just past the brace that closes the one opened before ``start``."""
    depth, i = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return i


def _exim_quote(value) -> str:
    """A column value as Exim's SQL lookups write it in a several-column result (lf_quote)."""
    text = "" if value is None else str(value)
    if text == "" or any(c in text for c in " \t\n\r") or text.startswith('"'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


class StaticTables:
    """One lsearch/DBM file per distinct query, answering it for the keys of the run."""

    def __init__(self, directory: Path, cursor, vendor: str):
        self.directory, self.cursor, self.vendor, self.files = directory, cursor, vendor, {}

    def file_for(self, sql: str, keys: list[str]) -> str:
        if sql not in self.files:
            self.files[sql] = (self.directory / f"lookup{len(self.files)}", {})
        path, answers = self.files[sql]
        params_sql = _KEY.sub("%s", sql.replace("%", "%%"))
        from bench.queries import _NUMBERS  # (after Django's setup: it reads the rendered configuration)

        for name, number in _NUMBERS.items():  # Exim's numbers in a query (the message's size)
            params_sql = params_sql.replace(name, number)
        for key in keys:
            self.cursor.execute(params_sql, [key] * params_sql.count("%s"))
            row = self.cursor.fetchone()
            if row is not None and len(row) == 1:
                answers[key] = "" if row[0] is None else str(row[0])
            elif row is not None:  # several columns: "name=value ..." as Exim returns them
                names = [c[0] for c in self.cursor.description]
                answers[key] = " ".join(f"{n}={_exim_quote(v)}" for n, v in zip(names, row, strict=True))
        return str(path) + ".db"

    def build(self) -> None:
        for path, answers in self.files.values():
            # lsearch format: a quoted key, then the value as it is (one line; the run needs no multi-line value)
            lines = [f'"{k}": {" ".join(v.splitlines())}' for k, v in answers.items()]
            path.write_text("\n".join(lines) + "\n")
            subprocess.run([DBMBUILD, str(path), str(path) + ".db"], check=True, capture_output=True)  # noqa: S603
            Path(str(path) + ".db").chmod(0o644)


def _active_only(text: str) -> str:
    """``text`` without the ``.ifdef``/``.ifndef`` blocks Exim skips (their macro is not defined in
    the rendered file: the replicas' comparison, for one): their queries are never asked."""
    defined = set(_macros(text.replace("\\\n", " ")))
    kept, stack = [], []
    for line in text.splitlines(keepends=True):
        word = line.split()
        if line.startswith((".ifdef ", ".ifndef ")):
            stack.append((word[1] in defined) == (word[0] == ".ifdef"))
        elif line.startswith(".else"):
            stack[-1] = not stack[-1]
        elif line.startswith(".endif"):
            stack.pop()
        elif all(stack):
            kept.append(line)
            continue
        kept.append("\n")  # (a blank line: the rest keep their numbers)
    return "".join(kept)


def static_exim(text: str, tables: StaticTables, keys_for) -> str:
    """The rendered exim4.conf with each SQL lookup replaced by a DBM lookup of the same key."""
    text = _active_only(text)
    macros = _macros(text.replace("\\\n", " "))  # (a definition may go on over several lines)
    out, i = [], 0
    while (start := text.find(_LOOKUP_HEAD, i)) >= 0:
        end = _brace_end(text, start + len(_LOOKUP_HEAD))
        sql_for_db = _expand(re.sub(r"\\\n\s*", " ", text[start + len(_LOOKUP_HEAD) : end - 1]), macros)
        exprs = _KEY.findall(sql_for_db)
        path = tables.file_for(sql_for_db, keys_for(exprs))
        if not exprs:  # a query without a key (the enabled blocklists): one row, under a fixed key
            path = tables.file_for(sql_for_db, ["all"])
            head = f"${{lookup{{all}}dbm{{{path}}}"
        elif len(exprs) == 1:
            head = f"${{lookup{{{exprs[0]}}}dbm{{{path}}}"
        else:  # several keys in one query (a = k1 OR a = k2): the first key that is in the file
            key = exprs[-1]
            for expr in reversed(exprs[:-1]):
                key = f"${{lookup{{{expr}}}dbm{{{path}}}{{{expr}}}{{{key}}}}}"
            head = f"${{lookup{{{key}}}dbm{{{path}}}"
        out.append(text[i:start] + head)
        i = end
    text = "".join(out) + text[i:]
    # The domain list: "driver;SELECT ... WHERE domain = '${quote:$domain}' ..." -> "dbm;file" (key $domain).
    match = re.search(r"^domainlist local_domains = LOOKUP_DRIVER;(SELECT .*)$", text, re.M)
    sql = _expand(match.group(1), macros)
    path = tables.file_for(sql, keys_for(["$domain"]))
    return text.replace(match.group(0), f"domainlist local_domains = dbm;{path}")


def static_dovecot(auth_conf: str, users_file: Path) -> str:
    # (the prefetch userdb goes: passwd-file answers the userdb itself)
    auth_conf = re.sub(r"userdb \{\n\s*driver = prefetch\n\}\n", "", auth_conf)
    return re.sub(r"driver = lua\n\s*args = [^\n]+", f"driver = passwd-file\n  args = {users_file}", auth_conf)


def write_users(cursor, conf_dir: Path, store: Path, addresses: list[str], users_file: Path) -> None:
    from bench.queries import dovecot_queries  # (reads the settings: after setup_django)

    queries = dovecot_queries((conf_dir / "dovecot" / "directory.lua").read_text())
    password_sql, user_sql = queries["PASSDB_QUERY"], queries["USERDB_QUERY"]
    lines = []
    for address in addresses:
        cursor.execute(password_sql, [address])
        row = cursor.fetchone()
        cursor.execute(user_sql, [address])
        maildir, quota_rule = cursor.fetchone()
        home = f"{store}/{maildir}"
        password = row[1] if row else "!"
        lines.append(f"{address}:{password}::::{home}::userdb_quota_rule={quota_rule}")
    users_file.write_text("\n".join(lines) + "\n")
    users_file.chmod(0o644)


# --- a run ---------------------------------------------------------------------------


def make_stack(variant: str, database, credentials: dict, recipients: list[str], senders: list[str]):
    from django.db import connection

    from tests.mailstack.stack import MailStack

    class Stack(MailStack):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.root.rmdir()  # a directory of our own name, apart from the test suite's
            self.root = Path(tempfile.mkdtemp(prefix="mailadmin-bench-stack-"))
            self.root.chmod(0o755)

        def render(self):
            super().render()
            if variant != "static":
                return
            conf = self.root / "conf"
            static = self.root / "static"
            static.mkdir(exist_ok=True)
            with connection.cursor() as cursor:
                tables = StaticTables(static, cursor, connection.vendor)
                self.exim_conf.write_text(
                    static_exim(self.exim_conf.read_text(), tables, lambda exprs: keys_for(exprs, recipients, senders))
                )
                tables.build()
                users = static / "users"
                write_users(cursor, conf, self.root / "store", recipients, users)
            auth = conf / "dovecot" / "conf.d" / "10-auth.conf"
            auth.write_text(static_dovecot(auth.read_text(), users))

    from django.conf import settings

    # (the shipped window, not the test suite's short one)
    return Stack(database, credentials, extra={"MAIL_ROUTE_FROM_RCPT_SECONDS": settings.MAIL_ROUTE_FROM_RCPT_SECONDS})


def keys_for(exprs: list[str], recipients: list[str], senders: list[str]) -> list[str]:
    """The keys a run looks up for these Exim key expressions."""
    domains = sorted({r.split("@")[1] for r in recipients})
    keys = []
    for expr in exprs:
        if expr.startswith("@"):
            keys += ["@" + d for d in domains]
        elif expr == "$domain" or "${domain:" in expr:
            keys += domains
        elif "sender_address" in expr:
            keys += senders
        else:
            keys += recipients
    return keys


def send(stack, messages: list[tuple[str, str]]) -> None:
    def worker(chunk):
        conn = stack.smtp()
        try:
            for n, (sender, rcpt) in chunk:
                body = f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: bench {n}\r\n\r\n" + "x" * 2000 + "\r\n"
                conn.sendmail(sender, [rcpt], body)
        finally:
            try:
                conn.quit()
            except smtplib.SMTPException:
                pass

    errors = []

    def guarded(chunk):
        try:
            worker(chunk)
        except (OSError, smtplib.SMTPException) as exc:
            errors.append(exc)

    numbered = list(enumerate(messages))
    threads = [threading.Thread(target=guarded, args=(numbered[k::CONNECTIONS],)) for k in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"SMTP failed: {errors[0]}\n{stack.log('rejectlog')}")


def delivered(stack) -> int:
    log = stack.root / "log" / "mainlog"
    return log.read_text(errors="replace").count(" Completed") if log.exists() else 0


def delivery_run(stack, recipients: list[str], count: int, rng: random.Random, cpu: list | None = None) -> float:
    """Messages per second from the first connection until Exim logged every delivery; with ``cpu``,
    the machine's CPU milliseconds per message over the same time are appended to it."""
    before = delivered(stack)
    messages = [(f"sender{n}@elsewhere.example.com", rng.choice(recipients)) for n in range(count)]
    cpu_before = cpu_ticks()
    started = time.perf_counter()
    send(stack, messages)
    deadline = time.monotonic() + 600
    while delivered(stack) < before + count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {delivered(stack) - before} of {count} delivered:\n{stack.log()}")
        time.sleep(0.05)
    rate = count / (time.perf_counter() - started)
    if cpu is not None:
        cpu.append((cpu_ticks() - cpu_before) * 1000 / os.sysconf("SC_CLK_TCK") / count)
    stored = in_maildirs(stack)
    if stored < before + count:  # every message must be in a maildir (not bounced, not lost)
        raise RuntimeError(f"{stored} messages in the maildirs after {before + count} deliveries:\n{stack.log()}")
    return rate


def cpu_ticks() -> int:
    """CPU time the whole machine has spent working so far (``/proc/stat``: user, nice, system, irq
    and softirq, in clock ticks), not idle, waiting or stolen by the hypervisor. The SMTP client,
    Exim, Dovecot and the database all count; on a machine where nothing else runs, the difference
    over a run is what its messages cost, however slow a shared host made the wall clock."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()  # "cpu  user nice system idle ..."
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in first[1:8])
    return user + nice + system + irq + softirq


def in_maildirs(stack) -> int:
    return sum(1 for _ in (stack.root / "store").glob("*/*/new/*")) + sum(
        1 for _ in (stack.root / "store").glob("*/*/cur/*")
    )


def logins_per_second(stack, users: list[str]) -> float:
    started = time.perf_counter()
    for user in users:
        stack.imap(user, PASSWORD).logout()
    return len(users) / (time.perf_counter() - started)


def lookup_statements(vendor: str, users: list[str]) -> tuple[int, int]:
    """Statements the mail servers have sent the database so far, and the connections they opened
    to it, by the database's own statistics.

    MariaDB: SELECT_COMMANDS and TOTAL_CONNECTIONS of the lookup users in
    ``information_schema.USER_STATISTICS`` (``userstat`` is switched on by ``count_statements``).
    PostgreSQL: the committed and rolled-back transactions and the sessions of the bench database in
    ``pg_stat_database`` (every lookup is one autocommit statement; the bench's own reading adds
    one; through a pooler, sessions are the pooler's connections to the server); backends report at
    most once a second and idle ones after ten, so the reading waits for that first."""
    from django.db import connection

    with connection.cursor() as cursor:
        if vendor == "mysql":
            marks = ", ".join(["%s"] * len(users))
            cursor.execute(
                "SELECT COALESCE(SUM(SELECT_COMMANDS), 0), COALESCE(SUM(TOTAL_CONNECTIONS), 0)"
                f" FROM information_schema.USER_STATISTICS WHERE USER IN ({marks})",
                users,
            )
            statements, connections = cursor.fetchone()
            return int(statements), int(connections)
        time.sleep(11)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit + xact_rollback, sessions FROM pg_stat_database WHERE datname = current_database()"
        )
        statements, connections = cursor.fetchone()
        return int(statements), int(connections)


def lookup_table_reads() -> int:
    """PostgreSQL: reads of the v2 lookup tables so far (index and sequential scans): one per
    lookup, since each lookup reads one table by its key (version 1's views read several)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT COALESCE(SUM(COALESCE(idx_scan, 0) + COALESCE(seq_scan, 0)), 0) FROM pg_stat_user_tables"
            " WHERE relname IN ('lookup_domains_v2', 'lookup_addresses_v2', 'lookup_logins_v2')"
        )
        return int(cursor.fetchone()[0])


def count_statements(vendor: str) -> None:
    from django.db import connection

    if vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SET GLOBAL userstat = 1")


BLOCKLIST_ZONES = ("zen.bench.test", "bl.bench.test")


@contextlib.contextmanager
def blocklist_dns():
    """NSD on 127.0.0.1:53 (where the stack's Exim resolves), serving the blocklists' zones empty."""
    import dns.resolver

    from tests.nsd import start_nsd, stop_nsd

    def ready():
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port, resolver.lifetime = ["127.0.0.1"], 53, 1.0
        resolver.resolve(BLOCKLIST_ZONES[0], "SOA")

    with tempfile.TemporaryDirectory(prefix="bench-nsd-") as directory:
        proc = start_nsd(Path(directory), dict.fromkeys(BLOCKLIST_ZONES, ""), 53, ready)
        try:
            yield
        finally:
            stop_nsd(proc)


def policies_on(recipients: list[str], senders: list[str]) -> None:
    """Every mail policy of issue 15 that applies to this inbound mail, switched on for the run's
    recipients: sender lists of each mailbox and domain (entries that do not match the bench's
    senders, so every check runs and none refuses), a size limit per domain under the server's,
    outbound limits (read, though inbound mail never counts against them), two DNS
    blocklists that do not list the bench's client (answered NXDOMAIN by the NSD of
    ``blocklist_dns``, as a clean client's queries are), and greylisting, with an allow list that
    does not match the bench's client or senders and every (client, sender, recipient) of the run
    already passed (as for mail from senders seen before: the common case, where each RCPT reads
    its triplet and writes nothing; a new sender's 451 costs the client a retry, not this rate)."""
    import time

    from accounts.models import Mailbox
    from domains.models import Domain
    from policy import services as policy
    from policy.models import GreylistTriplet, SenderRule, triplet_key

    boxes = list(Mailbox.objects.filter(address__in=recipients).select_related("domain"))
    domains = {m.domain_id: m.domain for m in boxes}
    rules = [
        SenderRule(domain=m.domain, mailbox=m, owner=m.address, pattern=p, action="deny")
        for m in boxes
        for p in ("pest@spam.example", "@junk.example", "@spam.example")
    ]
    rules += [
        SenderRule(domain=d, owner=f"@{d.name}", pattern=p, action=a, is_network=n)
        for d in domains.values()
        for p, a, n in (
            ("192.0.2.0/24", "deny", True),
            ("@spam.example", "deny", False),
            ("ok@x.example", "allow", False),
        )
    ]
    SenderRule.objects.bulk_create(rules)
    Domain.objects.filter(pk__in=domains).update(
        max_message_bytes=10 * 1024 * 1024, default_max_sent_per_hour=100, default_max_recipients_per_hour=150
    )
    for zone in BLOCKLIST_ZONES:
        policy.blocklist_add(acting_user=None, zone=zone, name=zone, answers="127.0.0.2", origin="bench")
    Domain.objects.filter(pk__in=domains).update(greylist=True)
    for pattern in ("192.0.2.0/24", "2001:db8::/32", "partner.example", "*.bulk.example"):
        policy.greylist_allow_add(acting_user=None, pattern=pattern, origin="bench")
    now, client = int(time.time()), "127.0.0.0/24"  # (the bench's client is 127.0.0.1)
    target = {m.address: m.domain.name for m in boxes}
    GreylistTriplet.objects.bulk_create(
        (
            GreylistTriplet(
                triplet=triplet_key(client, sender, rcpt),
                domain=target[rcpt],
                client=client,
                sender=sender,
                recipient=rcpt,
                first_seen=now - 3600,
                last_seen=now,
                passed=1,
            )
            for sender in senders
            for rcpt in recipients
        ),
        batch_size=5000,
    )


def policies_off() -> None:
    from domains.models import Domain
    from policy.models import DnsBlocklist, GreylistAllow, GreylistTriplet, SenderRule

    SenderRule.objects.all().delete()
    DnsBlocklist.objects.all().delete()
    GreylistAllow.objects.all().delete()
    GreylistTriplet.objects.all().delete()
    Domain.objects.update(
        max_message_bytes=0, default_max_sent_per_hour=0, default_max_recipients_per_hour=0, greylist=False
    )


def choose_recipients(rng: random.Random) -> list[str]:
    from accounts.models import Mailbox

    top = Mailbox.objects.order_by("-pk").values_list("pk", flat=True).first()
    found: list[str] = []
    while len(found) < RECIPIENTS:
        ids = [rng.randrange(1, top + 1) for _ in range(RECIPIENTS * 2)]
        found += list(
            Mailbox.objects.filter(
                pk__in=ids,
                active=True,
                over_quota=False,
                domain__active=True,
                domain__logins_enabled=True,
                vacation__isnull=True,
                forward_to="",
            ).values_list("address", flat=True)
        )
    return sorted(set(found))[:RECIPIENTS]


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--logins", type=int, default=50)
    parser.add_argument("--lookup-host", default="127.0.0.1", help="with --lookup-port")
    parser.add_argument("--lookup-port", type=int, default=0, help="Exim and Dovecot connect here (e.g. PgBouncer)")
    parser.add_argument(
        "--policies",
        action="store_true",
        help="a third variant: sql with every mail policy of issue 15 switched on (needs root: NSD on port 53)",
    )
    options = parser.parse_args()
    setup_django(options.db, options.name)
    from django.db import connection

    from accounts.models import Mailbox
    from mailserver import config as mailconfig

    users = lookup_users(options.db, options.name)
    credentials = mail_server_credentials(users)
    database = mailconfig.Database.from_settings_dict(connection.settings_dict)
    if options.lookup_port:  # Exim and Dovecot reach the database another way (a connection pooler)
        database = mailconfig.Database(
            vendor=database.vendor, name=database.name, host=options.lookup_host, port=str(options.lookup_port)
        )
    rng = random.Random(5)
    recipients = choose_recipients(rng)
    senders = [f"sender{n}@elsewhere.example.com" for n in range(options.messages)]
    rates: dict[str, list[float]] = {"sql": [], "static": [], "policies": []}
    cpu: dict[str, list[float]] = {"sql": [], "static": [], "policies": []}  # (ms of CPU a message)
    policies_off()
    logins, per_message, reads, policy_statements, connections = {}, [], [], [], []
    count_statements(connection.vendor)
    lookup_user_names = [users["exim"]["user"], users["dovecot"]["user"], users["greylist"]["user"]]
    dns_server = contextlib.ExitStack()
    if options.policies:
        dns_server.enter_context(blocklist_dns())
    for r in range(options.repeat):
        order = ["sql", "static", *(["policies"] if options.policies else [])]
        for variant in order if r % 2 == 0 else order[::-1]:
            if variant == "policies":
                policies_on(recipients, senders)
            stack = make_stack("sql" if variant == "policies" else variant, database, credentials, recipients, senders)
            try:
                stack.start()
                delivery_run(stack, recipients, 20, rng)  # warm-up: processes, connections
                if variant in ("sql", "policies"):
                    before = lookup_statements(connection.vendor, lookup_user_names)
                    reads_before = lookup_table_reads() if connection.vendor == "postgresql" else 0
                rates[variant].append(delivery_run(stack, recipients, options.messages, rng, cpu[variant]))
                if variant == "policies":
                    after = lookup_statements(connection.vendor, lookup_user_names)
                    policy_statements.append((after[0] - before[0]) / options.messages)
                if variant == "sql":
                    after = lookup_statements(connection.vendor, lookup_user_names)
                    per_message.append((after[0] - before[0]) / options.messages)
                    connections.append((after[1] - before[1]) / options.messages)
                    if connection.vendor == "postgresql":
                        reads.append((lookup_table_reads() - reads_before) / options.messages)
                if variant == "sql" and not logins:
                    who = rng.sample(recipients, options.logins)
                    stack.flush_auth_cache()
                    logins["cold"] = logins_per_second(stack, who)
                    logins["warm"] = logins_per_second(stack, who)
            finally:
                stack.stop()
                if variant == "policies":
                    policies_off()
            counted = {"sql": per_message, "policies": policy_statements}.get(variant)
            extra = f", {cpu[variant][-1]:.2f} ms CPU/message"
            extra += f", {counted[-1]:.2f} statements/message" if counted else ""
            extra += f", {connections[-1]:.2f} connections/message" if variant == "sql" else ""
            print(f"run {r} {variant}: {rates[variant][-1]:.1f} messages/s{extra}", flush=True)
    dns_server.close()
    sql, static = median(rates["sql"]), median(rates["static"])
    save(
        "mailstack",
        options.db,
        {
            "mailboxes": Mailbox.objects.count(),
            "messages_per_run": options.messages,
            "connections": CONNECTIONS,
            "recipients": len(recipients),
            "repeat": options.repeat,
            "sql_messages_per_second": round(sql, 1),
            "static_messages_per_second": round(static, 1),
            "ratio": round(sql / static, 3),
            **(
                {
                    "policies_messages_per_second": round(median(rates["policies"]), 1),
                    "policies_to_sql_ratio": round(median(rates["policies"]) / sql, 3),
                    "policies_statements_per_message": round(median(policy_statements), 2),
                }
                if options.policies
                else {}
            ),
            "runs": {k: [round(x, 1) for x in v] for k, v in rates.items()},
            "cpu_ms_per_message_runs": {k: [round(x, 2) for x in v] for k, v in cpu.items() if v},
            "statements_per_message": round(median(per_message), 2),
            "statements_per_message_runs": [round(x, 2) for x in per_message],
            "statements_counted_as": "SELECT_COMMANDS of the lookup users (USER_STATISTICS)"
            if connection.vendor == "mysql"
            else "transactions of the database (pg_stat_database)",
            "lookup_table_reads_per_message": round(median(reads), 2) if reads else None,
            "connections_per_message": round(median(connections), 2),
            "connections_per_message_runs": [round(x, 2) for x in connections],
            "connections_counted_as": "TOTAL_CONNECTIONS of the lookup users (USER_STATISTICS)"
            if connection.vendor == "mysql"
            else "sessions of the database (pg_stat_database)",
            "imap_logins": {"users": options.logins, **{k: round(v, 1) for k, v in logins.items()}},
        },
        options.tag,
    )


if __name__ == "__main__":
    main()
