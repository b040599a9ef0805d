"""With the database stopped, everything is a temporary failure; once it is back, everything arrives.

A private MariaDB instance (its own datadir and socket, started and stopped by this test by
process id) gets a copy of the test database, and a second Exim + Dovecot reads it.
"""

# ruff: noqa: S603, S607 - these tests start the mail servers and their tools by design

from __future__ import annotations

import imaplib
import subprocess
import threading
import time
from pathlib import Path

import MySQLdb
import pytest
from django.db import connection

from mailadmin import mailconfig
from mailadmin.lookup import DOVECOT_VIEWS, EXIM_VIEWS
from mailadmin.management.commands.lookup_users import create_mysql
from tests.mailstack.conftest import PASSWORD
from tests.mailstack.stack import MailStack
from tests.mailstack.test_core import accepted, message, send

pytestmark = [pytest.mark.mailstack, pytest.mark.mailstack_full]


class PrivateMariaDB:
    def __init__(self, root: Path):
        self.root = root
        self.data, self.socket = root / "data", root / "mysqld.sock"
        self.proc: subprocess.Popen | None = None

    def install(self) -> None:
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.data}",
                "--user=root",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        with open(self.root / "mariadbd.log", "ab") as log:
            self.proc = subprocess.Popen(
                [
                    "mariadbd",
                    "--no-defaults",
                    f"--datadir={self.data}",
                    f"--socket={self.socket}",
                    f"--pid-file={self.root / 'mariadbd.pid'}",
                    "--skip-networking",
                    "--user=root",
                    "--innodb-buffer-pool-size=16M",
                    "--character-set-server=utf8mb4",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                MySQLdb.connect(unix_socket=str(self.socket), user="root").close()
                return
            except MySQLdb.OperationalError:
                time.sleep(0.05)
        raise RuntimeError((self.root / "mariadbd.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None

    def connect(self, db: str | None = None):
        return MySQLdb.connect(unix_socket=str(self.socket), user="root", **({"database": db} if db else {}))


@pytest.fixture(scope="module")
def private(stack, django_db_blocker):
    """A second mail stack over a private copy of the test database."""
    root = stack.root / "private-db"
    root.mkdir()
    db = PrivateMariaDB(root)
    db.install()
    db.start()
    name = "maildir_copy"
    with django_db_blocker.unblock():
        source = connection.settings_dict["NAME"]
        socket = connection.settings_dict.get("OPTIONS", {}).get("unix_socket") or "/run/mysqld/mysqld.sock"
    dump = subprocess.run(
        ["mysqldump", f"--socket={socket}", "-uroot", "--no-tablespaces", "--skip-triggers", source],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout
    conn = db.connect()
    conn.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    conn.close()
    subprocess.run(["mysql", f"--socket={db.socket}", "-uroot", name], input=dump, check=True, timeout=120)
    conn = db.connect(name)
    password = {"exim": "EximPrivate1", "dovecot": "DovecotPrivate1"}
    create_mysql(
        conn.cursor(),
        name,
        {"ms_exim": (password["exim"], EXIM_VIEWS), "ms_dovecot": (password["dovecot"], DOVECOT_VIEWS)},
        "localhost",
    )
    conn.commit()
    conn.close()
    mail = MailStack(
        mailconfig.Database(vendor="mysql", name=name, socket=str(db.socket)),
        {
            "LOOKUP_EXIM_USER": "ms_exim",
            "LOOKUP_EXIM_PASSWORD": password["exim"],
            "LOOKUP_DOVECOT_USER": "ms_dovecot",
            "LOOKUP_DOVECOT_PASSWORD": password["dovecot"],
        },
    )
    mail.root.chmod(0o755)
    root.chmod(0o755)
    try:
        mail.start()
        yield mail, db
    finally:
        mail.stop()
        db.stop()


def test_database_down_means_4xx_and_temporary_login_failure_then_everything_arrives(private):
    mail, db = private
    before = accepted(mail, "alice@alpha.test")
    mail.wait_for("alice@alpha.test", PASSWORD, before)
    # A message accepted into the queue (not yet routed) while the database is up ...
    queued = message("bob@alpha.test", "queued while the database was down")
    assert mail.exim("-odq", "-f", "someone@outside.test", "bob@alpha.test", input=queued.as_string()).returncode == 0
    db.stop()
    try:
        mail.flush_auth_cache()
        # IMAP: Dovecot waits for a database connection (60 s, fixed in Dovecot 2.3), then answers
        # a temporary failure. Run it beside the SMTP checks.
        login_error: list[BaseException] = []

        def login():
            try:
                mail.imap("alice@alpha.test", PASSWORD, timeout=90).logout()
            except BaseException as exc:  # noqa: BLE001 - reported below
                login_error.append(exc)

        thread = threading.Thread(target=login)
        thread.start()
        # a new message offered over SMTP: deferred at RCPT, not refused
        subject, replies, _ = send(mail, "carol@alpha.test")
        assert 400 <= replies["carol@alpha.test"][0] < 500, replies
        # the queued one stays queued: routing defers, nothing bounces
        mail.run_queue()
        assert mail.exim("-bpc").stdout.strip() == "1", mail.log()
        thread.join(timeout=100)
        assert login_error and isinstance(login_error[0], imaplib.IMAP4.error), login_error
        assert "UNAVAILABLE" in str(login_error[0]) or "emporary" in str(login_error[0]), login_error
    finally:
        db.start()
    mail.reload_dovecot()
    mail.flush_auth_cache()
    # the client retries the deferred message; the queue runner delivers the queued one
    retried = message("carol@alpha.test", subject)
    _, replies, data = send(mail, "carol@alpha.test", msg=retried)
    assert replies["carol@alpha.test"][0] == 250 and data[0] == 250
    mail.run_queue()
    mail.wait_for("carol@alpha.test", PASSWORD, subject)
    mail.wait_for("bob@alpha.test", PASSWORD, "queued while the database was down")
    assert " ** " not in mail.log()
