"""Delivery through PgBouncer (deploy/pgbouncer/pgbouncer.ini) by pool size, on PostgreSQL.

    nice -n 10 .venv/bin/python bench/pgbouncer.py [--pools 1,2,5,10] [--messages 1000] [--repeat 3]

Run after bench/generate.py, as root, with pgbouncer installed (scripts/install.sh --test). For
each ``default_pool_size`` it starts a private PgBouncer from the shipped file (its paths, port
and database changed; ``auth_type = trust``, as PostgreSQL's own pg_hba.conf trusts loopback
here, since bench/mailstack.py makes new lookup users with new passwords), then runs
bench/mailstack.py through it (``--lookup-port``, results tagged ``pgbouncer-pool<N>``): the
same static-file baseline in the same run, messages per second, and the transactions per
delivered message PostgreSQL counted.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, arguments  # noqa: E402

SHIPPED = ROOT / "deploy" / "pgbouncer" / "pgbouncer.ini"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ini(root: Path, port: int, name: str, pool: int) -> str:
    text = SHIPPED.read_text()
    text = re.sub(r"^mailadmin = .*$", f"{name} = host=127.0.0.1 port=5432 dbname={name}", text, flags=re.M)
    for key, value in {
        "listen_port": str(port),
        "auth_type": "trust",
        "auth_file": str(root / "userlist.txt"),
        "default_pool_size": str(pool),
        "logfile": str(root / "pgbouncer.log"),
        "pidfile": str(root / "pgbouncer.pid"),
    }.items():
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
        assert n == 1, key
    return text


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--pools", default="1,2,5,10")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    if options.db != "postgresql":
        sys.exit("PgBouncer is for PostgreSQL: --db postgresql")
    for pool in [int(p) for p in options.pools.split(",")]:
        root = Path(tempfile.mkdtemp(prefix="bench-pgbouncer-"))
        root.chmod(0o755)
        # (trust still needs the users listed; bench/mailstack.py makes them with new passwords)
        (root / "userlist.txt").write_text('"bench_exim" ""\n"bench_dovecot" ""\n')
        port = free_port()
        (root / "pgbouncer.ini").write_text(ini(root, port, options.name, pool))
        shutil.chown(root, "postgres")
        for path in root.iterdir():
            shutil.chown(path, "postgres")
        proc = subprocess.Popen(["pgbouncer", "-u", "postgres", str(root / "pgbouncer.ini")])  # noqa: S603
        try:
            time.sleep(1)
            command = [
                sys.executable,
                str(ROOT / "bench" / "mailstack.py"),
                "--db",
                "postgresql",
                "--name",
                options.name,
                "--lookup-port",
                str(port),
                "--messages",
                str(options.messages),
                "--repeat",
                str(options.repeat),
                "--logins",
                "10",
                "--tag",
                f"pgbouncer-pool{pool}",
            ]
            print(f"pool {pool}: {' '.join(command[1:])}", flush=True)
            done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
            print(done.stdout[-2000:], flush=True)
            if done.returncode:  # (recorded, and the next pool size is tried)
                failure = next((line for line in done.stderr.splitlines() if "Error:" in line), done.stderr[-300:])
                print(f"pool {pool}: FAILED: {failure}", flush=True)
                print(Path(root / "pgbouncer.log").read_text()[-3000:] if (root / "pgbouncer.log").exists() else "")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
