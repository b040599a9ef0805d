"""A private Exim + Dovecot on loopback ports, configured by `render_mailconfig`.

Everything lives in one temporary directory per test session (spool, logs, mail
store, sockets, TLS certificate). Daemons start in the foreground under our own
process ids and are stopped by those ids only.
"""

# ruff: noqa: S603, S607 - these tests start the mail servers and their tools by design

from __future__ import annotations

import email
import email.header
import grp
import imaplib
import os
import poplib
import pwd
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from mailserver import config as mailconfig

EXIM = shutil.which("exim4") or shutil.which("exim") or "/usr/sbin/exim4"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
EXIM_USER = "Debian-exim"
STORE_USER = "mail"  # an existing unprivileged system user owns the test mail store
# The delivery right after reception routes a plain mailbox by its RCPT's row this long (the shipped
# default is 60 s): short here, as the auth cache's TTL, so that a test sees the directory's changes soon.
ROUTE_FROM_RCPT_SECONDS = 3


# Exim resolves names (DNS blocklists, MX records) through the system's resolver, which takes no
# port: it runs in a mount namespace of its own where /etc/resolv.conf names 127.0.0.1 (port 53),
# where tests/mailstack/dns.py starts NSD when a test needs answers. Otherwise nothing answers there,
# and no test's query leaves the machine. (unshare and mount need root, as the stack does.)
TEST_RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"


def with_test_resolver(resolv_conf: Path, argv: list[str]) -> list[str]:
    script = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(resolv_conf), *argv]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daemon exited ({proc.returncode}); log {log}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s; log {log}:\n{_tail(log)}")


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def chown(path: Path, user: str, group: str | None = None) -> None:
    os.chown(path, pwd.getpwnam(user).pw_uid, grp.getgrnam(group or user).gr_gid)


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 that keeps what it receives (the "internet" for relay tests,
    or a relay domain's primary MX). With ``recipients``, it refuses any other recipient (550), as
    a primary does; ``port`` starts it again where an earlier one was."""

    def __init__(self, recipients: set[str] | None = None, port: int = 0):
        import threading

        self.messages: list[tuple[str, list[str], bytes]] = []
        self.recipients = recipients
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import threading

        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        f = conn.makefile("rb")
        send = lambda line: conn.sendall(line.encode() + b"\r\n")  # noqa: E731
        send("220 sink.mailstack.test ESMTP")
        sender, rcpts = "", []
        try:
            for raw in f:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                verb = line[:4].upper()
                if verb in ("EHLO", "HELO"):
                    send("250 sink.mailstack.test")
                elif verb == "MAIL":
                    sender, rcpts = line[10:].strip("<> "), []
                    send("250 OK")
                elif verb == "RCPT":
                    rcpt = line[8:].strip("<> ")
                    if self.recipients is not None and rcpt.lower() not in self.recipients:
                        send("550 5.1.1 no such user here")
                        continue
                    rcpts.append(rcpt)
                    send("250 OK")
                elif verb == "DATA":
                    send("354 go ahead")
                    body = b""
                    for data_line in f:
                        if data_line in (b".\r\n", b".\n"):
                            break
                        body += data_line
                    self.messages.append((sender, rcpts, body))
                    send("250 queued")
                elif verb == "QUIT":
                    send("221 bye")
                    break
                else:
                    send("250 OK")
        finally:
            conn.close()

    def close(self):
        """Stop listening now (a thread blocked in accept() would otherwise keep the port open)."""
        try:
            self.server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.server.close()


EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def start_clamd(root: Path) -> tuple[subprocess.Popen, int]:
    """clamd on a loopback port with one signature, built here from the EICAR test string."""
    db = root / "clamdb"
    db.mkdir()
    (db / "eicar.ndb").write_text(f"Mailstack.Test.EICAR:0:*:{EICAR.encode().hex()}\n")
    port = free_port()
    conf = root / "clamd.conf"
    conf.write_text(
        f"Foreground yes\nTCPSocket {port}\nTCPAddr 127.0.0.1\nDatabaseDirectory {db}\n"
        f"LogFile {root / 'log' / 'clamd.log'}\nPidFile {root / 'clamd.pid'}\nBytecode no\n"
        f"TemporaryDirectory {root}\nStreamMaxLength 20M\nUser root\n"
    )
    log = root / "log" / "clamd.stdout"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [shutil.which("clamd") or "/usr/sbin/clamd", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_port(port, proc, log, timeout=30)
    return proc, port


def start_spamd(root: Path) -> tuple[subprocess.Popen, int]:
    """spamd with Debian's rules (GTUBE included), no network tests, on a loopback port."""
    site = root / "spamassassin"
    site.mkdir()
    for pre in Path("/etc/spamassassin").glob("*.pre"):
        shutil.copy(pre, site / pre.name)
    (site / "local.cf").write_text(
        "dns_available no\nskip_rbl_checks 1\nuse_bayes 0\nuse_auto_whitelist 0\nrequired_score 5.0\n"
    )
    port = free_port()
    log = root / "log" / "spamd.stdout"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                shutil.which("spamd") or "/usr/sbin/spamd",
                f"--siteconfigpath={site}",
                "--listen",
                f"127.0.0.1:{port}",
                "--allowed-ips=127.0.0.1",
                "--max-children=2",
                "--min-children=1",
                "--nouser-config",
                "--username=nobody",
                f"--pidfile={root / 'spamd.pid'}",
                "--syslog=stderr",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_port(port, proc, log, timeout=60)
    return proc, port


class MailStack:
    def __init__(
        self, database: mailconfig.Database, credentials: dict, extra: dict | None = None, content: bool = False
    ):
        self.content = content
        self.database = database
        self.credentials = credentials
        self.extra = extra or {}
        self.root = Path(tempfile.mkdtemp(prefix="mailstack-"))
        self.root.chmod(0o755)
        self.procs: list[subprocess.Popen] = []
        self.sink = SmtpSink()
        self.ports = {name: free_port() for name in ("smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s")}

    # --- setup --------------------------------------------------------------
    def make_tls(self) -> None:
        tls = self.root / "tls"
        tls.mkdir()
        self.cert, self.key = tls / "cert.pem", tls / "key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                str(self.key),
                "-out",
                str(self.cert),
            ],
            check=True,
            capture_output=True,
        )
        self.key.chmod(0o640)
        chown(self.key, "root", EXIM_USER)
        self.cert.chmod(0o644)

    def render(self) -> None:
        r = self.root
        (r / "log").mkdir(exist_ok=True)
        for d in ("spool", "store", "vacation", "dovecot-run", "dovecot-state"):
            (r / d).mkdir()
        for d in ("spool", "log", "vacation"):
            chown(r / d, EXIM_USER)
        chown(r / "store", STORE_USER)
        overrides = {
            "MAIL_HOSTNAME": "mx.mailstack.test",
            "MAIL_STORE": str(r / "store"),
            "MAIL_STORE_USER": STORE_USER,
            "MAIL_STORE_GROUP": STORE_USER,
            "MAIL_LISTEN_ADDRESSES": "127.0.0.1",
            "MAIL_SMTP_PORT": self.ports["smtp"],
            "MAIL_SUBMISSION_PORT": self.ports["submission"],
            "MAIL_SMTPS_PORT": self.ports["smtps"],
            "MAIL_IMAP_PORT": self.ports["imap"],
            "MAIL_IMAPS_PORT": self.ports["imaps"],
            "MAIL_POP3_PORT": self.ports["pop3"],
            "MAIL_POP3S_PORT": self.ports["pop3s"],
            "MAIL_TLS_CERTIFICATE": str(self.cert),
            "MAIL_TLS_PRIVATE_KEY": str(self.key),
            "MAIL_MESSAGE_SIZE_LIMIT": "2M",
            "MAIL_CLAMD": "",
            "MAIL_SPAMD": "",
            "MAIL_EXIM_USER": EXIM_USER,
            "MAIL_EXIM_SPOOL_DIRECTORY": str(r / "spool"),
            "MAIL_EXIM_LOG_FILE_PATH": str(r / "log" / "%slog"),
            "MAIL_VACATION_DIRECTORY": str(r / "vacation"),
            "MAIL_DKIM_DIRECTORY": str(r / "dkim"),
            "MAIL_DOVECOT_BASE_DIR": str(r / "dovecot-run"),
            "MAIL_DOVECOT_STATE_DIR": str(r / "dovecot-state"),
            "MAIL_DOVECOT_INSTANCE_NAME": f"mailstack-{self.root.name}",
            "MAIL_DOVECOT_LOG_PATH": str(r / "log" / "dovecot.log"),
            "MAIL_DOVECOT_CONFIG_DIR": str(r / "conf" / "dovecot"),
            "MAIL_DOVECOT_FIRST_VALID_UID": pwd.getpwnam(STORE_USER).pw_uid,
            "MAIL_AUTH_CACHE_TTL": "1 s",
            "MAIL_AUTH_FAILURE_DELAY": "0 s",
            "MAIL_AUTH_PENALTY": False,
            "MAIL_AUTH_FAILURE_LIMIT": 0,  # every client is 127.0.0.1 here; test_bruteforce turns both on
            "MAIL_ROUTE_FROM_RCPT_SECONDS": ROUTE_FROM_RCPT_SECONDS,
            "MAIL_SMARTHOST": f"127.0.0.1::{self.sink.port}",
            **self.credentials,
            **self.extra,
        }
        mailconfig.render(r / "conf", overrides, self.database)
        self.exim_conf = r / "conf" / "exim4" / "exim4.conf"
        self.dovecot_conf = r / "conf" / "dovecot" / "dovecot.conf"
        for path in (r / "conf").rglob("*"):
            if path.is_file():
                chown(path, "root", EXIM_USER if "exim4" in path.parts else "dovecot")
        (r / "conf").chmod(0o755)

    def start(self) -> None:
        self.make_tls()
        if self.content:
            (self.root / "log").mkdir(exist_ok=True)
            clamd, clamd_port = start_clamd(self.root)
            self.procs.append(clamd)
            spamd, spamd_port = start_spamd(self.root)
            self.procs.append(spamd)
            self.extra.update(MAIL_CLAMD=f"127.0.0.1 {clamd_port}", MAIL_SPAMD=f"127.0.0.1 {spamd_port}")
        self.render()
        self.dovecot_log = self.root / "log" / "dovecot.stdout"
        self.dovecot = self._spawn([DOVECOT, "-F", "-c", str(self.dovecot_conf)], self.dovecot_log)
        self.procs.append(self.dovecot)
        wait_port(self.ports["imaps"], self.procs[-1], self.root / "log" / "dovecot.log")
        self.exim_log = self.root / "log" / "exim.stdout"
        self.resolv_conf = self.root / "resolv.conf"
        self.resolv_conf.write_text(TEST_RESOLV_CONF)
        self.resolv_conf.chmod(0o644)
        self.procs.append(
            self._spawn(
                with_test_resolver(
                    self.resolv_conf,
                    [EXIM, "-C", str(self.exim_conf), "-bdf", "-q5s", "-oP", str(self.root / "exim.pid")],
                ),
                self.exim_log,
            )
        )
        wait_port(self.ports["smtp"], self.procs[-1], self.root / "log" / "mainlog")

    def _spawn(self, argv: list[str], log: Path) -> subprocess.Popen:
        with open(log, "ab") as out:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()
        self.sink.close()
        if not os.environ.get("MAILSTACK_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)

    # --- tools --------------------------------------------------------------
    def exim(self, *args: str, input: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(
            with_test_resolver(self.resolv_conf, [EXIM, "-C", str(self.exim_conf), *args]),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def run_queue(self) -> None:
        self.exim("-qff")

    def flush_auth_cache(self) -> None:
        result = subprocess.run([DOVEADM, "-c", str(self.dovecot_conf), "auth", "cache", "flush"], capture_output=True)
        if result.returncode != 0:
            time.sleep(1.2)  # the rendered auth cache TTL is 1 s: the entries are gone by now anyway

    def log(self, name: str = "mainlog") -> str:
        return _tail(self.root / "log" / name, 200)

    # --- clients ------------------------------------------------------------
    def tls_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.cert))
        return ctx

    def smtp(self, port: str = "smtp") -> smtplib.SMTP:
        if port == "smtps":
            conn = smtplib.SMTP_SSL("127.0.0.1", self.ports["smtps"], context=self.tls_context(), timeout=30)
        else:
            conn = smtplib.SMTP("127.0.0.1", self.ports[port], timeout=30)
        conn.ehlo("client.mailstack.test")
        return conn

    def imap(self, user: str, password: str, timeout: float = 30) -> imaplib.IMAP4_SSL:
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.ports["imaps"], ssl_context=self.tls_context(), timeout=timeout)
        conn.login(user, password)
        return conn

    def pop3(self, user: str, password: str) -> poplib.POP3_SSL:
        conn = poplib.POP3_SSL("127.0.0.1", self.ports["pop3s"], context=self.tls_context(), timeout=30)
        conn.user(user)
        conn.pass_(password)
        return conn

    def subjects(self, user: str, password: str) -> list[str]:
        """Subjects of every message in the INBOX, read over IMAP."""
        conn = self.imap(user, password)
        try:
            conn.select("INBOX", readonly=True)
            _, data = conn.search(None, "ALL")
            subjects = []
            for num in data[0].split():
                _, parts = conn.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                msg = email.message_from_bytes(parts[0][1])
                subjects.append(str(email.header.make_header(email.header.decode_header(msg["Subject"] or ""))))
            return subjects
        finally:
            conn.logout()

    def wait_for(self, user: str, password: str, subject: str, count: int = 1, timeout: float = 15) -> list[str]:
        """Wait until ``subject`` arrived ``count`` times in ``user``'s INBOX (read over IMAP)."""
        deadline = time.monotonic() + timeout
        found: list[str] = []
        while time.monotonic() < deadline:
            found = [s for s in self.subjects(user, password) if s == subject]
            if len(found) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(
            f"{subject!r} x{count} not in {user}'s INBOX after {timeout}s (found {len(found)}).\n{self.log()}"
        )

    def maildir_count(self, address: str, subject: str) -> int:
        """How many messages with ``subject`` sit in a maildir (a quick check without a login)."""
        local, _, domain = address.partition("@")
        n = 0
        for sub in ("new", "cur"):
            d = self.root / "store" / domain / local / sub
            if d.is_dir():
                for f in d.iterdir():
                    with open(f, "rb") as fh:
                        msg = email.message_from_binary_file(fh)
                    if str(email.header.make_header(email.header.decode_header(msg["Subject"] or ""))) == subject:
                        n += 1
        return n


def parse_bt(text: str) -> set:
    """The leaves of one `exim -bt ADDRESS` routing tree: {(kind, address)}."""
    out, found, i = text.splitlines(), set(), 0
    while i < len(out):
        line = out[i]
        if not line.strip() or line.startswith(" "):
            i += 1
            continue
        j = i + 1
        while j < len(out) and out[j].startswith("    <-- "):
            j += 1
        router = out[j].strip() if j < len(out) and out[j].startswith("  router = ") else ""
        if " is undeliverable: " in line:
            found.add(("rejected", line.split(" is undeliverable: ")[0]))
        elif line.startswith("syntax error: "):
            found.add(("rejected", line))
        elif line.startswith("mail to ") and line.endswith(" is discarded"):
            found.add(("dropped", line[8:-13]))
        elif " cannot be resolved at this time" in line:
            found.add(("deferred", line.split(" cannot be resolved")[0]))
        elif "transport = dovecot_lmtp" in router:
            found.add(("mailbox", line.split()[0]))
        elif "transport = remote_smtp" in router:
            found.add(("external", line.split()[0]))
        else:
            raise AssertionError(f"unexpected exim -bt output: {out[i : j + 2]}")
        i = j + 1 if router else j
    return found
