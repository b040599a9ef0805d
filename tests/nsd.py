"""A real authoritative DNS server (NSD) on loopback for the tests that need DNS answers:
tests/domains/test_dns_check.py (on a free port, asked by dnspython) and the mail stack's DNS
blocklists (on port 53, where the test Exim's resolver asks)."""

# ruff: noqa: S603 - the tests start NSD by design

from __future__ import annotations

import contextlib
import fcntl
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NSD = shutil.which("nsd") or "/usr/sbin/nsd"
HEAD = "$TTL 3600\n@ IN SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 3600\n@ IN NS ns.example.net.\n"


def free_port() -> int:
    """A port free for both UDP and TCP, below Linux's ephemeral range (32768-60999): a port the
    kernel hands out (bind to 0) is free for UDP only, and its TCP twin may be the local end of any
    outgoing connection of the other suites running at once (NSD then failed with "can't bind tcp
    socket ... Address already in use")."""
    for _ in range(200):
        port = random.randint(20000, 32767)  # noqa: S311 - not a secret
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
                udp.bind(("127.0.0.1", port))
                tcp.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise AssertionError("no port free for both UDP and TCP in 20000-32767")


@contextlib.contextmanager
def port_53():
    """Port 53 is one per machine: the suite's runs on the three databases run at once
    (scripts/test), and their mail stacks' blocklist tests take turns at it."""
    (ROOT / "var").mkdir(exist_ok=True)
    with open(ROOT / "var" / "tests-port-53.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def start_nsd(directory: Path, zones: dict[str, str], port: int, ready) -> subprocess.Popen:
    """NSD serving ``zones`` ({"name": "records after the SOA and NS"}) on 127.0.0.1:``port``,
    once ``ready()`` succeeds (it asks for something NSD serves)."""
    conf = [
        "server:",
        f"  ip-address: 127.0.0.1@{port}",
        "  do-ip6: no",
        f"  zonesdir: {directory}",
        f"  pidfile: {directory}/nsd.pid",
        f"  xfrdfile: {directory}/xfrd.state",
        f"  zonelistfile: {directory}/zone.list",
        f"  logfile: {directory}/nsd.log",
        '  database: ""',
        '  username: ""',
        "remote-control:",
        "  control-enable: no",
    ]
    for name, text in zones.items():
        (directory / f"{name}.zone").write_text(HEAD + text)
        conf += ["zone:", f"  name: {name}", f"  zonefile: {name}.zone"]
    (directory / "nsd.conf").write_text("\n".join(conf) + "\n")
    # (its own process group: NSD forks its servers, and a test may stop them all with os.killpg)
    proc = subprocess.Popen(
        [NSD, "-d", "-c", str(directory / "nsd.conf")], stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            ready()
            return proc
        except Exception:  # noqa: BLE001 - not up yet
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    log = directory / "nsd.log"
    raise AssertionError(f"NSD did not start: {proc.stderr.read().decode()}\n{log.read_text() if log.exists() else ''}")


def stop_nsd(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
