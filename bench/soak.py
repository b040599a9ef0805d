"""Soak: 10,000 messages through real Exim + Dovecot while the directory changes and its database restarts.

Usage (as root, with Exim and Dovecot installed, like the mail-stack tests):

    .venv/bin/python bench/soak.py --db mariadb|postgresql [--messages 10000] [--restarts 2]

A private database server (MariaDB, or PostgreSQL over 127.0.0.1) of its own holds a directory
built through the project's services: two domains, a domain alias, 300 mailboxes, 60 aliases (one
or two destinations) and a catch-all. Sixteen SMTP clients, each with its own senders, offer
the messages (a few per connection), retrying whatever gets a 4xx as a sending MTA would. Meanwhile
one thread creates, changes and deletes other mailboxes and aliases through the services, and the
database is stopped for 5 s and started again ``--restarts`` times. Nobody reloads Exim or Dovecot.

Afterwards every accepted message must be in exactly the mailboxes its recipient names, once each
(found by Message-ID in the maildirs), and nothing may have bounced. Writes
``bench/results/soak-<db>.json``; exits 1 when a message is lost, doubled or bounced.
"""

from __future__ import annotations

import email
import os
import random
import smtplib
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import arguments, save  # noqa: E402

PASSWORD = "soak passphrase 7"  # noqa: S105 - the password of every soak mailbox
MAILBOXES, ALIASES, CLIENTS, PER_CONNECTION = 300, 60, 16, 5


def main() -> None:
    parser = arguments("Soak: messages through the real mail stack while the directory changes and restarts.")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--restarts", type=int, default=2)
    args = parser.parse_args()
    if args.db not in ("mariadb", "postgresql"):
        sys.exit("--db is mariadb or postgresql")
    root = Path(tempfile.mkdtemp(prefix="soak-"))
    root.chmod(0o755)
    server = start_server(args.db, root)
    try:
        result = soak(server, args)
    finally:
        server.stop()
    save("soak", args.db, result, args.tag)
    print(result)
    sys.exit(0 if result["lost"] == result["doubled"] == result["bounced"] == 0 else 1)


def start_server(db: str, root: Path):
    """The private server, and Django pointed at it (before anything connects)."""
    import socket

    with socket.socket() as s:  # a free port for PostgreSQL (also its socket's name)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    name = "maildir_copy"
    if db == "mariadb":
        url = f"mysql://root@localhost/{name}?unix_socket={root / 'db' / 'mysqld.sock'}"
    else:
        url = f"postgres://postgres@127.0.0.1:{port}/{name}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")
    import django

    django.setup()
    from tests.mailstack.private_db import PrivateMariaDB, PrivatePostgres

    (root / "db").mkdir()
    (root / "db").chmod(0o755)
    server = PrivateMariaDB(root / "db") if db == "mariadb" else PrivatePostgres(root / "db", tcp=True)
    if db == "postgresql":
        server.port = port
    server.install()
    server.start()
    if db == "mariadb":
        server.connect().cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    else:
        server.connect().execute(f"CREATE DATABASE {name}")
    return server


def build_directory() -> dict[str, list[str]]:
    """The stable targets: recipient address -> the mailboxes its mail must reach."""
    from django.core.management import call_command
    from django.test.utils import override_settings

    from accounts import services as accounts
    from aliases import services as aliases
    from domains import services as domains

    call_command("migrate", verbosity=0)
    with override_settings(MAIL_ARGON2_MEMORY_KIB=1024, MAIL_ARGON2_TIME_COST=1):
        one = domains.domain_create(origin="bench", acting_user=None, name="soak1.test")
        two = domains.domain_create(origin="bench", acting_user=None, name="soak2.test")
        domains.domain_alias_create(origin="bench", acting_user=None, name="soak-alias.test", target=one)
        boxes = []
        for n in range(MAILBOXES):
            domain = one if n % 3 else two
            box = accounts.mailbox_create(
                origin="bench",
                acting_user=None,
                domain=domain,
                local_part=f"user{n:03}",
                password=PASSWORD,
                welcome=False,
            )
            boxes.append(box.address)
        routes = {box: [box] for box in boxes}
        for box in boxes[:50]:
            if box.endswith("@soak1.test"):
                routes[box.replace("@soak1.test", "@soak-alias.test")] = [box]
        rng = random.Random(7)  # noqa: S311 - a reproducible directory
        for n in range(ALIASES):
            members = rng.sample([b for b in boxes if b.endswith("@soak1.test")], rng.choice((1, 2)))
            aliases.alias_create(
                origin="bench", acting_user=None, domain=one, local_part=f"team{n:02}", destinations=members
            )
            routes[f"team{n:02}@soak1.test"] = members
        catchall = next(b for b in boxes if b.endswith("@soak2.test"))
        aliases.alias_create(origin="bench", acting_user=None, domain=two, local_part="", destinations=[catchall])
        for n in range(20):
            routes[f"nobody{n}@soak2.test"] = [catchall]
    return routes


class Churn(threading.Thread):
    """The panel at work: mailboxes and aliases created, changed and deleted through the services."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.done, self.failed = Counter(), Counter()

    def run(self) -> None:
        from django.db import close_old_connections, connection
        from django.test.utils import override_settings

        from accounts import services as accounts
        from aliases import services as aliases
        from domains import services as domains

        rng, n = random.Random(11), 0  # noqa: S311
        with override_settings(MAIL_ARGON2_MEMORY_KIB=1024, MAIL_ARGON2_TIME_COST=1):
            while not self.stop.is_set():
                n += 1
                action = ("mailbox.create", "mailbox.update", "mailbox.delete", "alias.create", "alias.delete")[n % 5]
                try:
                    domain = domains.get_domain("soak1.test")
                    if action == "mailbox.create":
                        accounts.mailbox_create(
                            origin="bench",
                            acting_user=None,
                            domain=domain,
                            local_part=f"churn{n}",
                            password=PASSWORD,
                            welcome=False,
                        )
                    elif action == "mailbox.update":
                        box = accounts.get_mailbox(f"churn{n - 1}@soak1.test")
                        accounts.mailbox_update(
                            origin="bench", acting_user=None, mailbox=box, active=rng.random() < 0.5
                        )
                    elif action == "mailbox.delete":
                        accounts.mailbox_delete(
                            origin="bench", acting_user=None, mailbox=accounts.get_mailbox(f"churn{n - 2}@soak1.test")
                        )
                    elif action == "alias.create":
                        aliases.alias_create(
                            origin="bench",
                            acting_user=None,
                            domain=domain,
                            local_part=f"churnalias{n}",
                            destinations=["user001"],
                        )
                    else:
                        aliases.alias_delete(
                            origin="bench", acting_user=None, alias=aliases.get_alias(f"churnalias{n - 1}@soak1.test")
                        )
                    self.done[action] += 1
                except Exception as exc:  # noqa: BLE001 - the database may be down: the panel shows an error
                    self.failed[f"{action}: {type(exc).__name__}"] += 1
                    connection.close()
                    time.sleep(0.5)
                close_old_connections()
                time.sleep(0.05)


def offer(stack, batch: list[tuple[str, str, str]]) -> list[tuple[str, str, str, int]]:
    """Offer (sender, rcpt, message id) messages on one connection; return each with its final code."""
    out = []
    try:
        conn = smtplib.SMTP("127.0.0.1", stack.ports["smtp"], timeout=120)
        conn.ehlo("soak.test")
    except (OSError, smtplib.SMTPException):
        return [(*m, 421) for m in batch]
    try:
        for sender, rcpt, message_id in batch:
            code = 0
            try:
                code, _ = conn.mail(sender)
                if code == 250:
                    code, _ = conn.rcpt(rcpt)
                if code == 250:
                    body = f"From: {sender}\r\nTo: {rcpt}\r\nSubject: soak\r\nMessage-ID: {message_id}\r\n\r\nsoak\r\n"
                    code, _ = conn.data(body.encode())
                else:
                    conn.rset()
            except smtplib.SMTPDataError as exc:
                code = exc.smtp_code
            except (OSError, smtplib.SMTPException):
                code = code if 400 <= code < 600 else 421
            out.append((sender, rcpt, message_id, code))
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()
    return out


def soak(server, args) -> dict:
    from django.db import connection

    from mailserver.management.commands.lookup_users import create_mysql, create_postgresql
    from tests.mailstack.private_db import _USERS, CREDENTIALS
    from tests.mailstack.stack import MailStack

    routes = build_directory()
    with connection.cursor() as cursor:  # the two lookup users, as `manage.py lookup_users create` makes them
        if connection.vendor == "mysql":
            create_mysql(cursor, connection.settings_dict["NAME"], _USERS, "localhost")
        else:
            create_postgresql(cursor, connection.settings_dict["NAME"], _USERS)
    connection.close()
    stack = MailStack(server.database, dict(CREDENTIALS))
    stack.start()
    churn = Churn()
    lock = threading.Lock()
    rng = random.Random(3)  # noqa: S311
    targets = sorted(routes)
    todo = [
        (f"s{n % 997}@sender{n % 31}.example", rng.choice(targets), f"<soak{n}@soak.test>")
        for n in range(args.messages)
    ]
    accepted: dict[str, str] = {}  # message id -> recipient
    counts = Counter()
    restarts_at = [args.messages * (k + 1) // (args.restarts + 1) for k in range(args.restarts)]
    outage = []

    def client() -> None:
        while True:
            with lock:
                if not todo:
                    return
                batch, todo[:] = todo[:PER_CONNECTION], todo[PER_CONNECTION:]
            results = offer(stack, batch)
            for sender, rcpt, message_id, code in results:
                with lock:
                    counts[code // 100] += 1
                    if code == 250:
                        accepted[message_id] = rcpt
                    elif 400 <= code < 500:
                        todo.append((sender, rcpt, message_id))  # the sending MTA tries again later
                    else:
                        counts[f"permanent {code}"] += 1
            if any(400 <= code < 500 for *_, code in results):
                time.sleep(0.5)  # a deferred message is offered again a little later

    started = time.monotonic()
    churn.start()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for mark in restarts_at:
        while len(accepted) < mark and any(t.is_alive() for t in threads):
            time.sleep(0.2)
        down = time.monotonic()
        server.stop()
        time.sleep(5)
        server.start()
        outage.append(round(time.monotonic() - down, 1))
    for thread in threads:
        thread.join()
    sent_in = time.monotonic() - started
    churn.stop.set()
    churn.join(30)

    # everything accepted reaches its mailboxes (the queue runner retries what waits)
    expected = Counter()
    for message_id, rcpt in accepted.items():
        for box in routes[rcpt]:
            expected[(box, message_id)] += 1
    deadline = time.monotonic() + 600
    while True:
        found = scan(stack.root / "store")
        if all(found[key] >= n for key, n in expected.items()) or time.monotonic() > deadline:
            break
        stack.run_queue()
        time.sleep(2)
    lost = sum(1 for key in expected if found[key] == 0)
    doubled = sum(1 for key, n in found.items() if n > 1)
    misplaced = sum(1 for key in found if key not in expected)
    log = (stack.root / "log" / "mainlog").read_text(errors="replace")
    bounced = log.count(" ** ")
    stack.stop()
    return {
        "messages": args.messages,
        "accepted": len(accepted),
        "answers": {str(k): v for k, v in counts.items()},
        "deliveries_expected": sum(expected.values()),
        "lost": lost,
        "doubled": doubled,
        "misplaced": misplaced,
        "bounced": bounced,
        "restarts": args.restarts,
        "outages_s": outage,
        "sending_s": round(sent_in, 1),
        "messages_per_s": round(len(accepted) / sent_in, 1),
        "churn_done": dict(churn.done),
        "churn_failed": dict(churn.failed),
    }


def scan(store: Path) -> Counter:
    """(mailbox, Message-ID) -> copies found in the maildirs."""
    found = Counter()
    for path in store.glob("*/*/[nc][eu][wr]/*"):
        domain, local = path.parts[-4], path.parts[-3]
        with open(path, "rb") as handle:
            found[(f"{local}@{domain}", email.message_from_binary_file(handle)["Message-ID"])] += 1
    return found


if __name__ == "__main__":
    main()
