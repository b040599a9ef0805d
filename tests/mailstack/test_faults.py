"""The database restarts under a working mail stack: nothing accepted is lost or bounced.

A private MariaDB or PostgreSQL server (the kind the suite runs on) holds a copy of the test
directory; a second Exim + Dovecot reads it. Clients keep delivering mail and logging in over
IMAP, POP3 and SMTP AUTH (with main passwords and app passwords) while the test stops the database
and starts it again. Nobody
reloads or touches Exim or Dovecot: they must come back by themselves.
"""

from __future__ import annotations

import email
import time
from pathlib import Path

import pytest

from accounts import apppasswords
from accounts import services as accounts
from tests.mailstack.conftest import PASSWORD
from tests.mailstack.load import Clients
from tests.mailstack.private_db import CREDENTIALS, copy_mailbox_sql, private_server
from tests.mailstack.stack import MailStack

pytestmark = [pytest.mark.mailstack, pytest.mark.vendors("mysql", "postgresql")]

# recipient -> the mailbox its mail must end in (a mailbox, an alias, a domain alias, a catch-all)
ROUTES = {
    "alice@alpha.test": "alice@alpha.test",
    "info@alpha.test": "alice@alpha.test",
    "carol@alias.test": "carol@alpha.test",
    "whoever@beta.test": "erin@beta.test",
}
OUTAGE_SECONDS = 8
RECOVERY_SECONDS = 10  # logins work again within this long after the database is back
# Clients that log in with an app password (Dovecot reads its lookup_app_passwords_v2 row too).
APP_PASSWORD_USERS = {"erin@beta.test": ["imap"], "relayer@alpha.test": ["smtp"]}
APP_PASSWORDS: dict[str, str] = {}
# Mailboxes only the private copy has, each logged in to once: never in Dovecot's auth cache.
FRESH = [f"fresh{n:03}@alpha.test" for n in range(400)]


@pytest.fixture(scope="module")
def private(stack, django_db_blocker):
    """A second mail stack over a private copy of the test database, which the tests may stop."""
    server = private_server(stack.root / "private-db")
    server.install()
    server.start()
    with django_db_blocker.unblock():
        for address, protocols in APP_PASSWORD_USERS.items():  # made in the test database, then copied
            mailbox = accounts.get_mailbox(address)
            _, APP_PASSWORDS[address] = apppasswords.create(
                acting_user=None, mailbox=mailbox, name="faults", protocols=protocols, origin="test"
            )
        server.copy_test_database()
        for sql, params in copy_mailbox_sql("alice@alpha.test", FRESH):
            server.execute(sql, params)
    mail = MailStack(server.database, dict(CREDENTIALS))
    try:
        mail.start()
        yield mail, server
    finally:
        mail.stop()
        server.stop()


def message_ids(store: Path, address: str) -> list[str]:
    """Message-IDs of every message in a mailbox's maildir (new and cur)."""
    local, _, domain = address.partition("@")
    found = []
    for sub in ("new", "cur"):
        folder = store / domain / local / sub
        for path in folder.iterdir() if folder.is_dir() else ():
            with open(path, "rb") as fh:
                found.append(email.message_from_binary_file(fh)["Message-ID"])
    return found


def retry_deferred(clients: Clients, deadline: float) -> list[tuple[str, str]]:
    """Offer every deferred message again, as the sending MTA would, until it is accepted."""
    pending = list(clients.record.deferred)
    clients.record.deferred.clear()
    while pending and time.monotonic() < deadline:
        rcpt, message_id = pending.pop(0)
        kind, _ = clients.deliver(rcpt, message_id)
        if kind != "ok":
            pending.append((rcpt, message_id))
            time.sleep(0.5)
        clients.record.deferred.clear()
    return pending


def test_database_restart_gives_only_temporary_answers_and_loses_nothing(private):
    mail, server = private
    clients = Clients(mail, PASSWORD, passwords=APP_PASSWORDS)
    clients.start(
        smtp_rcpts=list(ROUTES),
        imap=["alice@alpha.test", "bob@alpha.test", "erin@beta.test"],
        pop3=["carol@alpha.test"],
        auth=["dave@alpha.test", "sender@alpha.test", "relayer@alpha.test"],
        fresh_imap=FRESH,
    )
    time.sleep(3)
    # a message accepted into the queue just before the outage, to be routed during it
    queued = f"<{time.monotonic_ns()}@queued.test>"
    text = f"From: a@outside.test\nTo: bob@alpha.test\nMessage-ID: {queued}\nSubject: queued\n\nqueued\n"
    assert mail.exim("-odq", "-f", "a@outside.test", "bob@alpha.test", input=text).returncode == 0
    server.stop()
    down = time.monotonic()  # stopped: no connection to it can succeed from here on
    time.sleep(OUTAGE_SECONDS)
    starting = time.monotonic()  # down until here
    server.start()
    back = time.monotonic()
    time.sleep(RECOVERY_SECONDS + 5)
    record = clients.stop()

    def line(a) -> str:
        return f"{a.at - down:7.2f}s +{a.took:5.2f}s {a.client:24} {a.kind:5} {a.detail[:100]}"

    report = "\n".join(line(a) for a in record.answers)
    (mail.root / "answers.txt").write_text(report)
    # 1. nothing permanent, ever: no 5xx, no 535, no "authentication failed" for a right password
    permanent = [a for a in record.answers if a.kind in ("perm", "error")]
    shown = "\n".join(map(line, permanent))
    assert not permanent, f"permanent answers:\n{shown}\n\nall:\n{report}\n{mail.log()}\n{mail.log('dovecot.log')}"
    # 2. answers come quickly, also during the outage (a client does not wait a minute)
    slow = [a for a in record.answers if a.took > 5]
    assert not slow, f"slow answers:\n{report}"
    # 3. SMTP AUTH during the outage says 454, never 535
    auth_during = [
        a for a in record.answers if a.client.startswith("auth:") and down <= a.at and a.at + a.took <= starting
    ]
    assert auth_during and all(a.kind == "temp" and a.detail.startswith("454") for a in auth_during), report
    # 4. every client works again within RECOVERY_SECONDS of the database's return
    for client in {a.client for a in record.answers}:
        late = [a for a in record.of(client) if a.at > back + RECOVERY_SECONDS]
        assert late and all(a.kind == "ok" for a in late), f"{client} not recovered:\n{report}"
    # 5. every message offered is accepted in the end and delivered exactly once, nothing bounced
    assert not retry_deferred(clients, time.monotonic() + 60), f"still deferred:\n{report}"
    expected: dict[str, list[str]] = {"bob@alpha.test": [queued]}
    for acc in record.accepted:
        expected.setdefault(ROUTES[acc.rcpt], []).append(acc.message_id)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        mail.run_queue()
        got = {box: message_ids(mail.root / "store", box) for box in expected}
        if all(set(ids) <= set(got[box]) for box, ids in expected.items()):
            break
        time.sleep(1)
    for box, ids in expected.items():
        counts = {mid: got[box].count(mid) for mid in ids}
        assert all(n == 1 for n in counts.values()), f"{box}: {counts}\n{mail.log()}"
    assert " ** " not in mail.log(), mail.log()
    assert not [m for m in mail.sink.messages if m[0] == ""], "a bounce left the server"


def test_recipients_accepted_before_the_database_stops_get_their_message_at_data(private):
    """The DATA ACL asks the directory nothing (its size limit and room come from RCPT): a client
    whose recipients were accepted is not turned away when the database stops before it sends the
    message; the message waits in the queue and is delivered once the database is back."""
    mail, server = private
    subject = f"data during outage {time.monotonic_ns()}"
    conn = mail.smtp()
    try:
        assert conn.mail("someone@outside.test")[0] == 250
        assert conn.rcpt("alice@alpha.test")[0] == 250
        assert conn.rcpt("bob@alpha.test")[0] == 250
        server.stop()
        code, text = conn.data(
            f"From: someone@outside.test\r\nTo: alice@alpha.test\r\nSubject: {subject}\r\n\r\nbody\r\n"
        )
        assert code == 250, (code, text, mail.log())
    finally:
        conn.close()
        server.start()
    deadline = time.monotonic() + 60
    boxes = ("alice@alpha.test", "bob@alpha.test")
    while time.monotonic() < deadline and not all(mail.maildir_count(box, subject) for box in boxes):
        mail.run_queue()
        time.sleep(1)
    assert [mail.maildir_count(box, subject) for box in boxes] == [1, 1], mail.log()
    assert " ** " not in mail.log(), mail.log()
