"""Several mail hosts on replicated databases: a mail host reads its replica, fails over to the
primary, and waits (4xx) instead of refusing (5xx) what the replica does not know yet.

A primary and a replica of the suite's kind (MariaDB binary-log replication by GTID, or
PostgreSQL streaming replication from pg_basebackup) on 127.0.0.1 ports; the directory is written
on the primary, as the panel does; a second Exim + Dovecot is rendered with the replica first and
the primary after it (MAIL_LOOKUP_REPLICA_URLS), as a mail host beside the replica would be.
Nobody reloads Exim or Dovecot: they come back by themselves.
"""

# ruff: noqa: S603, S607 - the test starts the panel as a server of its own

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings

from tests.mailstack.conftest import PASSWORD
from tests.mailstack.load import Clients
from tests.mailstack.private_db import COPY, CREDENTIALS, copy_mailbox_sql
from tests.mailstack.replicas import replicated_pair
from tests.mailstack.stack import MailStack, free_port
from tests.mailstack.test_faults import message_ids, retry_deferred

pytestmark = [pytest.mark.mailstack, pytest.mark.vendors("mysql", "postgresql")]

ROUTES = {"alice@alpha.test": "alice@alpha.test", "info@alpha.test": "alice@alpha.test"}
OUTAGE_SECONDS = 8


@pytest.fixture(scope="module")
def replicated(stack, django_db_blocker):
    from django.db import connection

    pair = replicated_pair(stack.root / "replicated-db", connection.vendor)
    pair.start()
    with django_db_blocker.unblock():
        pair.copy_test_database()
    mail = MailStack(pair.primary.database, dict(CREDENTIALS), extra={"MAIL_LOOKUP_REPLICA_URLS": pair.replica_url()})
    try:
        mail.start()
        yield mail, pair
    finally:
        mail.stop()
        pair.stop()


def send(mail: MailStack, rcpt: str, message_id: str) -> tuple[int, str]:
    """One message to one recipient, as another MTA sends it: the code of RCPT (or of DATA)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "someone@outside.test", rcpt, "hello", message_id
    msg.set_content("Hello.\n")
    with smtplib.SMTP("127.0.0.1", mail.ports["smtp"], timeout=60) as conn:
        conn.ehlo("outside.test")
        conn.mail("someone@outside.test")
        code, text = conn.rcpt(rcpt)
        if code == 250:
            try:
                code, text = conn.data(msg.as_bytes())
            except smtplib.SMTPDataError as exc:
                code, text = exc.smtp_code, exc.smtp_error
        return code, text.decode(errors="replace")


def wait_delivered(mail: MailStack, box: str, message_id: str, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = message_ids(mail.root / "store", box)
        if message_id in found:
            return found
        mail.run_queue()
        time.sleep(0.5)
    return message_ids(mail.root / "store", box)


def insert_on_primary(pair, addresses: list[str]) -> None:
    """Mailboxes written on the primary as the panel writes them (the triggers fill the lookup rows)."""
    for sql, params in copy_mailbox_sql("alice@alpha.test", addresses):
        pair.primary.execute(sql, params)


def insert_domain_alias_on_primary(pair, name: str, like: str) -> None:
    """A domain alias written on the primary, a copy of ``like`` (same target) under another name."""
    from django.db import connection

    from domains.models import DomainAlias

    fields = [f for f in DomainAlias._meta.concrete_fields if not f.primary_key]
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in fields)
    picks = ", ".join("%s" if f.name == "name" else q(f.column) for f in fields)
    table = q(DomainAlias._meta.db_table)
    pair.primary.execute(f"INSERT INTO {table} ({columns}) SELECT {picks} FROM {table} WHERE name = %s", [name, like])


def imap_login(mail: MailStack, user: str) -> str:
    try:
        conn = mail.imap(user, PASSWORD)
    except Exception as exc:  # noqa: BLE001 - what the user sees is the test's answer
        return f"refused: {exc}"
    conn.logout()
    return "ok"


def login_within(mail: MailStack, user: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while (answer := imap_login(mail, user)) != "ok" and time.monotonic() < deadline:
        time.sleep(0.5)
    return answer


def test_a_mailbox_the_replica_does_not_have_yet_waits_and_is_delivered(replicated):
    mail, pair = replicated
    pair.pause()
    try:
        insert_on_primary(pair, ["late@alpha.test"])
        insert_domain_alias_on_primary(pair, "later.test", "alias.test")
        message_id = f"<{uuid.uuid4().hex}@gap.test>"
        code, text = send(mail, "late@alpha.test", message_id)
        # the replica does not know the mailbox, the primary does: wait, never refuse
        assert code == 451 and "not known on this mail host yet" in text, (code, text, mail.log())
        # nor a domain alias made a moment ago (not ours yet, for the replica: not "relaying denied")
        alias_id = f"<{uuid.uuid4().hex}@gap.test>"
        code, text = send(mail, "bob@later.test", alias_id)
        assert code == 451 and "not known on this mail host yet" in text, (code, text)
        # unknown to both: refused as before
        code, text = send(mail, "nobody-here@alpha.test", f"<{uuid.uuid4().hex}@gap.test>")
        assert code == 550 and "no such user" in text, (code, text)
        # Dovecot reads the replica too: the new mailbox cannot log in yet
        assert imap_login(mail, "late@alpha.test").startswith("refused")
    finally:
        pair.resume()
    pair.wait_caught_up()
    code, text = send(mail, "late@alpha.test", message_id)  # the sender's retry
    assert code == 250, (code, text, mail.log())
    assert wait_delivered(mail, "late@alpha.test", message_id).count(message_id) == 1
    assert send(mail, "bob@later.test", alias_id)[0] == 250
    assert wait_delivered(mail, "bob@alpha.test", alias_id).count(alias_id) == 1
    # (the refused login above is cached for MAIL_AUTH_CACHE_TTL: 1 s here, 60 s by default)
    assert login_within(mail, "late@alpha.test", 5) == "ok", mail.log("dovecot.log")[-3000:]
    assert " ** " not in mail.log(), mail.log()
    assert not [m for m in mail.sink.messages if m[0] == ""], "a bounce left the server"


def test_a_stopped_replica_hands_its_reads_to_the_primary_and_nothing_is_lost(replicated):
    mail, pair = replicated
    clients = Clients(mail, PASSWORD)
    clients.start(smtp_rcpts=list(ROUTES), imap=["alice@alpha.test", "bob@alpha.test"], auth=["dave@alpha.test"])
    time.sleep(2)
    pair.replica.stop()
    down = time.monotonic()
    time.sleep(OUTAGE_SECONDS)
    pair.replica.start()
    back = time.monotonic()
    time.sleep(4)
    record = clients.stop()
    report = "\n".join(f"{a.at - down:7.2f}s {a.client:24} {a.kind:5} {a.detail[:100]}" for a in record.answers)
    # nothing permanent at any time: a lost replica is at most a temporary answer
    permanent = [a for a in record.answers if a.kind in ("perm", "error")]
    assert not permanent, f"permanent answers:\n{report}\n{mail.log()}\n{mail.log('dovecot.log')}"
    # while the replica is down, every client is served by the primary (within a few seconds)
    for client in {a.client for a in record.answers}:
        served = [a for a in record.of(client) if down + 3 < a.at < back]
        assert served and all(a.kind == "ok" for a in served), f"{client} not served by the primary:\n{report}"
    assert not retry_deferred(clients, time.monotonic() + 60), f"still deferred:\n{report}"
    for acc in record.accepted:
        assert wait_delivered(mail, ROUTES[acc.rcpt], acc.message_id).count(acc.message_id) == 1, acc
    assert " ** " not in mail.log(), mail.log()
    pair.wait_caught_up()


@pytest.fixture
def panel(replicated):
    """The panel, as a server of its own over the replicated directory's primary."""
    mail, pair = replicated
    if pair.vendor == "mysql":
        url = f"mysql://root@localhost/{COPY}?unix_socket={pair.primary.socket}"
    else:
        url = f"postgres://postgres@127.0.0.1:{pair.primary.port}/{COPY}"
    port = free_port()
    log = mail.root / "log" / "panel.log"
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(gunicorn), "mailadmin.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5).close()  # noqa: S310
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def fetch(url: str, session: str) -> tuple[int, str, str]:
    """A logged-in user's request (a session cookie: its row is read from the database)."""
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})  # noqa: S310 - http://127.0.0.1
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers.get("Retry-After", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After", ""), exc.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_with_the_primary_stopped_the_replica_keeps_mail_flowing_and_the_panel_says_why(replicated, panel):
    mail, pair = replicated
    session = uuid.uuid4().hex
    status, _, _ = fetch(f"{panel}/", session)
    assert status == 302  # up: an unknown session is sent to the login page
    pair.primary.stop()
    try:
        # delivery to existing addresses, from the replica
        message_id = f"<{uuid.uuid4().hex}@primary-down.test>"
        code, text = send(mail, "info@alpha.test", message_id)
        assert code == 250, (code, text, mail.log())
        assert wait_delivered(mail, "alice@alpha.test", message_id).count(message_id) == 1
        # logins, from the replica
        assert imap_login(mail, "bob@alpha.test") == "ok", mail.log("dovecot.log")
        # what the replica does not know cannot be checked with the primary: wait, never refuse
        code, text = send(mail, "nobody-here@alpha.test", f"<{uuid.uuid4().hex}@primary-down.test>")
        assert 400 <= code < 500, (code, text)
        # the panel, whose database is the primary, says what is wrong instead of failing blankly
        status, retry_after, body = fetch(f"{panel}/", session)
        assert status == 503 and retry_after == "60", (status, body[:500])
        assert "cannot be reached" in body and "nothing was changed" in body
        status, _, body = fetch(f"{panel}/api/v1/domains", session)
        assert status == 503 and "database_unavailable" in body, (status, body[:500])
    finally:
        pair.primary.start()
    pair.wait_caught_up()
    status, _, _ = fetch(f"{panel}/", session)
    assert status == 302
