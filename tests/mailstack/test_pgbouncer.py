"""The mail servers through PgBouncer (deploy/pgbouncer/pgbouncer.ini), on PostgreSQL.

A PgBouncer of its own, started from the shipped file with only its paths, port and database
name changed, between a second Exim + Dovecot and the test database: mail is accepted and
delivered, a user logs in over IMAP, and PgBouncer's own statistics show the lookups went
through it; with PostgreSQL unreachable behind it, the answers are temporary and come within
the lookup timeout."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection

from mailserver import config as mailconfig
from tests.mailstack.conftest import PASSWORD
from tests.mailstack.stack import MailStack, chown, free_port, wait_port
from tests.mailstack.test_core import send

pytestmark = [pytest.mark.mailstack, pytest.mark.vendors("postgresql")]

SHIPPED = Path(django_settings.BASE_DIR) / "deploy" / "pgbouncer" / "pgbouncer.ini"
CONSOLE_PASSWORD = "console-secret"  # noqa: S105 - a private PgBouncer's admin console


def shipped_ini(root: Path, port: int, database: str, target_port: int) -> str:
    text = SHIPPED.read_text()
    text = re.sub(r"^mailadmin = .*$", f"{database} = host=127.0.0.1 port={target_port} dbname={database}", text,
                  flags=re.M)  # fmt: skip
    for key, value in {
        "listen_port": str(port),
        "auth_file": str(root / "userlist.txt"),
        "logfile": str(root / "pgbouncer.log"),
        "pidfile": str(root / "pgbouncer.pid"),
    }.items():
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
        assert n == 1, key
    return text + "admin_users = console\n"


@pytest.fixture
def bouncer(stack):
    """PgBouncer on a loopback port in front of the test database, and the mail servers on it."""
    root = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    root.chmod(0o755)
    sd = connection.settings_dict
    database, port, target = sd["NAME"], free_port(), int(sd["PORT"] or 5432)
    users = {
        stack.credentials["LOOKUP_EXIM_USER"]: stack.credentials["LOOKUP_EXIM_PASSWORD"],
        stack.credentials["LOOKUP_DOVECOT_USER"]: stack.credentials["LOOKUP_DOVECOT_PASSWORD"],
        "console": CONSOLE_PASSWORD,
    }
    (root / "userlist.txt").write_text("".join(f'"{u}" "{p}"\n' for u, p in users.items()))
    (root / "pgbouncer.ini").write_text(shipped_ini(root, port, database, target))
    for path in root.iterdir():
        chown(path, "postgres")
    chown(root, "postgres")
    proc = subprocess.Popen(["pgbouncer", "-u", "postgres", str(root / "pgbouncer.ini")])
    mail = None
    try:
        wait_port(port, proc, root / "pgbouncer.log")
        db = mailconfig.Database(vendor="postgresql", name=database, host="127.0.0.1", port=str(port))
        mail = MailStack(db, dict(stack.credentials))
        mail.start()
        yield mail, port, proc
    finally:
        if mail is not None:
            mail.stop()
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def console(port: int, command: str) -> list[dict]:
    with psycopg.connect(
        host="127.0.0.1", port=port, dbname="pgbouncer", user="console", password=CONSOLE_PASSWORD, autocommit=True
    ) as conn:
        cursor = conn.execute(command, prepare=False)
        if cursor.description is None:  # (KILL, RESUME: no rows)
            return []
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_mail_and_logins_go_through_pgbouncer(bouncer):
    mail, port, _ = bouncer
    database = connection.settings_dict["NAME"]
    before = sum(r["total_query_count"] for r in console(port, "SHOW STATS") if r["database"] == database)
    subject, replies, data = send(mail, ["alice@alpha.test", "nobody@alpha.test"])
    assert replies["alice@alpha.test"][0] == 250 and replies["nobody@alpha.test"][0] == 550
    assert data[0] == 250
    mail.wait_for("alice@alpha.test", PASSWORD, subject)  # delivered (Dovecot's userdb), read over IMAP (passdb)
    time.sleep(1)  # (PgBouncer's statistics are summed up every second)
    after = sum(r["total_query_count"] for r in console(port, "SHOW STATS") if r["database"] == database)
    assert after - before >= 4, (before, after)  # Exim's lookups and Dovecot's, through PgBouncer
    pools = [r for r in console(port, "SHOW POOLS") if r["database"] == database]
    assert {r["user"] for r in pools} >= {mail.credentials["LOOKUP_EXIM_USER"], mail.credentials["LOOKUP_DOVECOT_USER"]}


def test_postgresql_unreachable_behind_pgbouncer_is_a_temporary_answer(bouncer):
    """PgBouncer's server connections cut and new ones refused (PAUSE, then KILL): an RCPT is
    answered 4xx within the lookup timeout, never 550; after RESUME the same address is accepted."""
    mail, port, _ = bouncer
    database = connection.settings_dict["NAME"]
    console(port, f"KILL {database}")  # drops the server connections and holds new lookups
    started = time.monotonic()
    _, replies, _ = send(mail, ["alice@alpha.test"])
    took = time.monotonic() - started
    code = replies["alice@alpha.test"][0]
    assert 400 <= code < 500, replies
    assert took < 15, took
    console(port, f"RESUME {database}")
    _, replies, _ = send(mail, ["alice@alpha.test"])
    assert replies["alice@alpha.test"][0] == 250
