"""Private database servers for the fault tests: a copy of the test database that a test may stop.

Each server runs from its own data directory and socket (nothing of the system's instance is
touched), is started and stopped by process id, and gets a copy of the test database (schema,
lookup views and data) plus the two lookup users, so a second Exim + Dovecot can read it.
"""

# ruff: noqa: S603, S607 - these tests start the database servers and their tools by design

from __future__ import annotations

import os
import pwd
import subprocess
import time
from pathlib import Path

from django.db import connection

from mailserver import config as mailconfig
from mailserver.lookup import DOVECOT_VIEWS, EXIM_VIEWS
from mailserver.management.commands.lookup_users import create_mysql, create_postgresql
from tests.mailstack.stack import free_port

COPY = "maildir_copy"
PASSWORDS = {"exim": "EximPrivate1", "dovecot": "DovecotPrivate1"}
CREDENTIALS = {
    "LOOKUP_EXIM_USER": "ms_exim",
    "LOOKUP_EXIM_PASSWORD": PASSWORDS["exim"],
    "LOOKUP_DOVECOT_USER": "ms_dovecot",
    "LOOKUP_DOVECOT_PASSWORD": PASSWORDS["dovecot"],
}
_USERS = {"ms_exim": (PASSWORDS["exim"], EXIM_VIEWS), "ms_dovecot": (PASSWORDS["dovecot"], DOVECOT_VIEWS)}


def _wait(check, what: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


class PrivateMariaDB:
    vendor = "mysql"

    def __init__(self, root: Path, port: int | None = None, options: tuple[str, ...] = ()):
        self.root, self.port, self.options = root, port, options  # port: also listen on 127.0.0.1
        self.data, self.socket = root / "data", root / "mysqld.sock"
        self.log = root / "mariadbd.log"
        self.proc: subprocess.Popen | None = None

    @property
    def database(self) -> mailconfig.Database:
        if self.port:
            return mailconfig.Database(vendor="mysql", name=COPY, host="127.0.0.1", port=str(self.port))
        return mailconfig.Database(vendor="mysql", name=COPY, socket=str(self.socket))

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
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    "mariadbd",
                    "--no-defaults",
                    f"--datadir={self.data}",
                    f"--socket={self.socket}",
                    f"--pid-file={self.root / 'mariadbd.pid'}",
                    *([f"--port={self.port}", "--bind-address=127.0.0.1"] if self.port else ["--skip-networking"]),
                    "--user=root",
                    "--innodb-buffer-pool-size=16M",
                    "--character-set-server=utf8mb4",
                    "--max-connections=400",
                    *self.options,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait(self._ready, "MariaDB", self.log)

    def _ready(self) -> bool:
        import MySQLdb

        try:
            MySQLdb.connect(unix_socket=str(self.socket), user="root").close()
            return True
        except MySQLdb.OperationalError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)
        self.proc = None

    def connect(self, db: str | None = None):
        import MySQLdb

        return MySQLdb.connect(unix_socket=str(self.socket), user="root", **({"database": db} if db else {}))

    def copy_test_database(self) -> None:
        """The test database (schema, views, data) and the two lookup users, in this server."""
        settings = connection.settings_dict
        socket = settings.get("OPTIONS", {}).get("unix_socket") or "/run/mysqld/mysqld.sock"
        dump = subprocess.run(
            ["mysqldump", f"--socket={socket}", "-uroot", "--no-tablespaces", settings["NAME"]],
            check=True,
            capture_output=True,
            timeout=120,
        ).stdout
        conn = self.connect()
        conn.cursor().execute(f"CREATE DATABASE {COPY} CHARACTER SET utf8mb4")
        conn.close()
        subprocess.run(["mysql", f"--socket={self.socket}", "-uroot", COPY], input=dump, check=True, timeout=120)
        conn = self.connect(COPY)
        for host in ("localhost", "127.0.0.1") if self.port else ("localhost",):
            create_mysql(conn.cursor(), COPY, _USERS, host)
        conn.commit()
        conn.close()

    def execute(self, sql: str, params=()) -> None:
        conn = self.connect(COPY)
        try:
            conn.cursor().execute(sql, params)
            conn.commit()
        finally:
            conn.close()


class PrivatePostgres:
    """A PostgreSQL cluster of our own, on a Unix socket with a port other than 5432."""

    vendor = "postgresql"

    def __init__(self, root: Path, tcp: bool = False):
        self.root, self.tcp = root, tcp  # tcp: also listen on 127.0.0.1 (its port)
        self.data, self.sockdir = root / "pgdata", root / "pgsock"
        self.log = root / "postgres.log"
        self.port = free_port()
        versions = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda p: int(p.name))
        self.bin = versions[-1] / "bin"
        self.proc: subprocess.Popen | None = None

    @property
    def database(self) -> mailconfig.Database:
        if self.tcp:
            return mailconfig.Database(vendor="postgresql", name=COPY, host="127.0.0.1", port=str(self.port))
        # the form Django's settings give for a socket: HOST is the directory, PORT the port
        return mailconfig.Database.from_settings_dict(
            {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": COPY,
                "HOST": str(self.sockdir),
                "PORT": str(self.port),
            }
        )

    def _as_postgres(self, argv: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "postgres", "--", *argv], **kw)

    def install(self) -> None:
        user = pwd.getpwnam("postgres")
        for d in (self.data, self.sockdir):
            d.mkdir()
            os.chown(d, user.pw_uid, user.pw_gid)
        self.log.touch()
        os.chown(self.log, user.pw_uid, user.pw_gid)
        self._as_postgres(
            [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    str(self.bin / "postgres"),
                    "-D",
                    str(self.data),
                    "-k",
                    str(self.sockdir),
                    "-p",
                    str(self.port),
                    "-c",
                    f"listen_addresses={'127.0.0.1' if self.tcp else ''}",
                    "-c",
                    "max_connections=400",
                    "-c",
                    "shared_buffers=16MB",
                    "-c",
                    "fsync=off",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait(self._ready, "PostgreSQL", self.log)

    def _ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(host=str(self.sockdir), port=self.port, user="postgres", dbname="postgres").close()
            return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        """A fast shutdown, as `systemctl restart postgresql` does: clients are cut off."""
        if self.proc and self.proc.poll() is None:
            self._as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
            self.proc.wait(timeout=60)
        self.proc = None

    def connect(self, db: str = "postgres"):
        import psycopg

        # client-side binding, as Django's cursors (PASSWORD %s cannot be a server-side parameter)
        return psycopg.connect(
            host=str(self.sockdir),
            port=self.port,
            user="postgres",
            dbname=db,
            autocommit=True,
            cursor_factory=psycopg.ClientCursor,
        )

    def copy_test_database(self) -> None:
        settings = connection.settings_dict
        dump = subprocess.run(
            [
                "pg_dump",
                "-h",
                settings["HOST"] or "localhost",
                "-p",
                str(settings["PORT"] or 5432),
                "-U",
                settings["USER"] or "postgres",
                "--no-owner",
                "--no-privileges",
                settings["NAME"],
            ],
            check=True,
            capture_output=True,
            timeout=120,
        ).stdout
        conn = self.connect()
        conn.execute(f"CREATE DATABASE {COPY}")
        conn.close()
        subprocess.run(
            [
                "psql",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.sockdir),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                COPY,
            ],
            input=dump,
            check=True,
            capture_output=True,
            timeout=120,
        )
        conn = self.connect(COPY)
        create_postgresql(conn.cursor(), COPY, _USERS)
        conn.close()

    def execute(self, sql: str, params=()) -> None:
        conn = self.connect(COPY)
        try:
            conn.execute(sql, params)
        finally:
            conn.close()


def copy_mailbox_sql(source: str, addresses: list[str]) -> list[tuple[str, list]]:
    """INSERT statements that add mailboxes like ``source`` (same password, domain, settings)
    straight into a copy of the directory: accounts its mail servers have never seen."""
    from accounts.models import Mailbox

    fields = [f for f in Mailbox._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    picks = ", ".join(
        "%s" if f.name in ("address", "local_part") else connection.ops.quote_name(f.column) for f in fields
    )
    table = connection.ops.quote_name(Mailbox._meta.db_table)
    order = [f.name for f in fields if f.name in ("address", "local_part")]
    statements = []
    for address in addresses:
        values = {"address": address, "local_part": address.split("@")[0]}
        statements.append(
            (
                f"INSERT INTO {table} ({columns}) SELECT {picks} FROM {table} WHERE address = %s",
                [values[name] for name in order] + [source],
            )
        )
    return statements


def private_server(root: Path):
    """The private server of the kind the suite runs on (MariaDB or PostgreSQL)."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    cls = PrivateMariaDB if connection.vendor == "mysql" else PrivatePostgres
    return cls(root)
