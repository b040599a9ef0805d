"""A database primary and a replica of it, replicating the way their own tools set it up.

MariaDB: binary-log replication by GTID (the primary logs, the replica runs read-only and
follows it). PostgreSQL: streaming replication from ``pg_basebackup -R`` (a hot standby).
Both on 127.0.0.1 ports of their own, with the test directory copied into the primary (and so,
by replication, into the replica) together with the lookup users.
"""

# ruff: noqa: S603, S607 - these tests start the database servers and their tools by design

from __future__ import annotations

import os
import pwd
import time
from pathlib import Path

from tests.mailstack.private_db import COPY, PrivateMariaDB, PrivatePostgres
from tests.mailstack.stack import free_port

REPLICATION_PASSWORD = "ReplicaPw1"


def _until(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not after {timeout}s")


class MariaDBPair:
    vendor = "mysql"

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.primary = PrivateMariaDB(
            root / "primary",
            port=free_port(),
            options=("--server-id=1", "--log-bin=primary-bin", "--binlog-format=ROW"),
        )
        self.replica = PrivateMariaDB(
            root / "replica",
            port=free_port(),
            options=("--server-id=2", "--relay-log=replica-relay", "--read-only=1"),
        )

    def start(self) -> None:
        for server in (self.primary, self.replica):
            server.root.mkdir(exist_ok=True)
            server.install()
            server.start()
        conn = self.primary.connect()
        cur = conn.cursor()
        cur.execute("CREATE USER 'replicator'@'127.0.0.1' IDENTIFIED BY %s", [REPLICATION_PASSWORD])
        cur.execute("GRANT REPLICATION SLAVE ON *.* TO 'replicator'@'127.0.0.1'")
        cur.execute("SELECT @@gtid_binlog_pos")
        position = cur.fetchone()[0]
        conn.close()
        conn = self.replica.connect()
        cur = conn.cursor()
        cur.execute("SET GLOBAL gtid_slave_pos = %s", [position])
        cur.execute(
            "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = %s, MASTER_USER = 'replicator', "
            "MASTER_PASSWORD = %s, MASTER_CONNECT_RETRY = 1, MASTER_USE_GTID = slave_pos",
            [self.primary.port, REPLICATION_PASSWORD],
        )
        cur.execute("START SLAVE")
        conn.close()

    def copy_test_database(self) -> None:
        self.primary.copy_test_database()
        self.wait_caught_up()

    def wait_caught_up(self, timeout: float = 60) -> None:
        conn = self.primary.connect()
        cur = conn.cursor()
        cur.execute("SELECT @@gtid_binlog_pos")
        position = cur.fetchone()[0]
        conn.close()
        conn = self.replica.connect()
        cur = conn.cursor()
        cur.execute("SELECT MASTER_GTID_WAIT(%s, %s)", [position, timeout])
        waited = cur.fetchone()[0]
        conn.close()
        if waited != 0:
            raise RuntimeError(f"the replica did not reach {position} in {timeout}s")

    def pause(self) -> None:
        """Replication stops applying what the primary writes (the replica is behind from now on)."""
        conn = self.replica.connect()
        conn.cursor().execute("STOP SLAVE SQL_THREAD")
        conn.close()

    def resume(self) -> None:
        conn = self.replica.connect()
        conn.cursor().execute("START SLAVE SQL_THREAD")
        conn.close()

    def replica_url(self) -> str:
        return f"mysql://lookup@127.0.0.1:{self.replica.port}/{COPY}"

    def stop(self) -> None:
        for server in (self.replica, self.primary):
            server.stop()


class PostgresPair:
    vendor = "postgresql"

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        for sub in ("primary", "replica"):
            (root / sub).mkdir(exist_ok=True)
            (root / sub).chmod(0o755)
        self.primary = PrivatePostgres(root / "primary", tcp=True)
        self.replica = PrivatePostgres(root / "replica", tcp=True)

    def start(self) -> None:
        self.primary.install()
        self.primary.start()

    def copy_test_database(self) -> None:
        """Into the primary; then the replica is made from it (pg_basebackup -R) and started."""
        self.primary.copy_test_database()
        user = pwd.getpwnam("postgres")
        for d in (self.replica.data, self.replica.sockdir):
            d.mkdir()
            os.chown(d, user.pw_uid, user.pw_gid)
        self.replica.data.chmod(0o700)
        self.replica.log.touch()
        os.chown(self.replica.log, user.pw_uid, user.pw_gid)
        self.replica._as_postgres(
            [
                str(self.replica.bin / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.primary.port),
                "-U",
                "postgres",
                "-D",
                str(self.replica.data),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",  # (the default, spread, waits for most of checkpoint_timeout)
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.replica.start()
        self.wait_caught_up()

    def _lsn(self, server: PrivatePostgres, sql: str):
        conn = server.connect()
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()

    def wait_caught_up(self, timeout: float = 60) -> None:
        target = self._lsn(self.primary, "SELECT pg_current_wal_lsn()")

        def replayed() -> bool:
            conn = self.replica.connect()
            try:
                return conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]
            finally:
                conn.close()

        _until(replayed, f"the replica replaying up to {target}", timeout)

    def pause(self) -> None:
        conn = self.replica.connect()
        conn.execute("SELECT pg_wal_replay_pause()")
        conn.close()

    def resume(self) -> None:
        conn = self.replica.connect()
        conn.execute("SELECT pg_wal_replay_resume()")
        conn.close()

    def replica_url(self) -> str:
        return f"postgres://lookup@127.0.0.1:{self.replica.port}/{COPY}"

    def stop(self) -> None:
        for server in (self.replica, self.primary):
            server.stop()


def replicated_pair(root: Path, vendor: str):
    return (MariaDBPair if vendor == "mysql" else PostgresPair)(root)
