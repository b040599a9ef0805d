"""Clients that keep using a mail stack while a test breaks something underneath it.

Each client runs in a thread until told to stop and records every answer it got, with the
time it was asked and how long the answer took, so a test can say what a user saw: only
temporary failures during an outage, and everything working again soon after.
"""

from __future__ import annotations

import imaplib
import poplib
import smtplib
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage

# What Dovecot says for a temporary and for a permanent authentication failure.
IMAP_TEMP, IMAP_PERM = "[UNAVAILABLE]", "[AUTHENTICATIONFAILED]"
POP3_TEMP, POP3_PERM = "[SYS/TEMP]", "[AUTH]"


@dataclass
class Answer:
    at: float  # time.monotonic() when asked
    took: float  # seconds until the answer
    client: str
    kind: str  # "ok", "temp" or "perm" (or "error": the connection itself failed)
    detail: str = ""


@dataclass
class Accepted:
    message_id: str
    rcpt: str
    at: float


@dataclass
class Record:
    answers: list[Answer] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)
    deferred: list[tuple[str, str]] = field(default_factory=list)  # (rcpt, message id) a client must retry
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def of(self, client: str) -> list[Answer]:
        return [a for a in self.answers if a.client == client]


def classify_smtp(code: int) -> str:
    return "ok" if 200 <= code < 400 else "temp" if 400 <= code < 500 else "perm"


class Clients:
    """Start with ``start(stack, ...)``; ``stop()`` joins every thread."""

    def __init__(self, stack, password: str, pause: float = 0.15, passwords: dict[str, str] | None = None):
        """``password`` for every user, but those ``passwords`` names (an app password, say)."""
        self.stack, self.password, self.pause = stack, password, pause
        self.passwords = passwords or {}
        self.record = Record()
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, *, smtp_rcpts=(), imap=(), pop3=(), auth=(), fresh_imap=()) -> None:
        """Clients that repeat one thing each; ``fresh_imap`` logs in as the next of these users each
        time, so every try needs the directory (none of them is in Dovecot's auth cache yet)."""
        self.fresh = list(fresh_imap)
        if self.fresh:
            self._spawn(self._fresh_imap_loop, "imap:fresh", "")
        for rcpt in smtp_rcpts:
            self._spawn(self._deliver_loop, f"smtp:{rcpt}", rcpt)
        for user in imap:
            self._spawn(self._imap_loop, f"imap:{user}", user)
        for user in pop3:
            self._spawn(self._pop3_loop, f"pop3:{user}", user)
        for user in auth:
            self._spawn(self._auth_loop, f"auth:{user}", user)

    def stop(self) -> Record:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=120)
        return self.record

    def _spawn(self, target, name: str, arg: str) -> None:
        thread = threading.Thread(target=self._guard, args=(target, name, arg), name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _guard(self, target, name: str, arg: str) -> None:
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                kind, detail = target(arg)
            except (OSError, smtplib.SMTPException, imaplib.IMAP4.error, poplib.error_proto) as exc:
                kind, detail = "error", f"{type(exc).__name__}: {exc}"
            self.record.add(Answer(started, time.monotonic() - started, name, kind, detail))
            self.stop_event.wait(self.pause)

    # --- one try of each kind ------------------------------------------------------------
    def _deliver_loop(self, rcpt: str) -> tuple[str, str]:
        message_id = f"<{uuid.uuid4().hex}@load.test>"
        return self.deliver(rcpt, message_id)

    def deliver(self, rcpt: str, message_id: str, sender: str = "loader@outside.test") -> tuple[str, str]:
        """One SMTP transaction for one message; remembers it when accepted or deferred."""
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, rcpt, f"load {message_id}", message_id
        msg.set_content("A message sent while the directory was being broken.\n")
        conn = smtplib.SMTP("127.0.0.1", self.stack.ports["smtp"], timeout=60)
        try:
            conn.ehlo("load.test")
            code, text = conn.mail(sender)
            if code == 250:
                code, text = conn.rcpt(rcpt)
            if code == 250:
                try:
                    code, text = conn.data(msg.as_bytes())
                except smtplib.SMTPDataError as exc:
                    code, text = exc.smtp_code, exc.smtp_error
            kind = classify_smtp(code)
            with self.record.lock:
                if kind == "ok":
                    self.record.accepted.append(Accepted(message_id, rcpt, time.monotonic()))
                elif kind == "temp":
                    self.record.deferred.append((rcpt, message_id))
            return kind, f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        finally:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()

    def _imap_loop(self, user: str) -> tuple[str, str]:
        conn = imaplib.IMAP4_SSL(
            "127.0.0.1", self.stack.ports["imaps"], ssl_context=self.stack.tls_context(), timeout=120
        )
        try:
            conn.login(user, self.passwords.get(user, self.password))
        except imaplib.IMAP4.error as exc:
            text = str(exc)
            return ("temp" if IMAP_TEMP in text else "perm" if IMAP_PERM in text else "error"), text
        finally:
            try:
                conn.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
        return "ok", ""

    def _fresh_imap_loop(self, _: str) -> tuple[str, str]:
        with self.record.lock:
            user = self.fresh.pop(0) if self.fresh else None
        if user is None:
            self.stop_event.wait(1)
            return "ok", "(no fresh user left)"
        kind, detail = self._imap_loop(user)
        return kind, f"{user} {detail}"

    def _pop3_loop(self, user: str) -> tuple[str, str]:
        conn = poplib.POP3_SSL("127.0.0.1", self.stack.ports["pop3s"], context=self.stack.tls_context(), timeout=120)
        try:
            conn.user(user)
            conn.pass_(self.passwords.get(user, self.password))
        except poplib.error_proto as exc:
            text = str(exc)
            return ("temp" if POP3_TEMP in text else "perm" if POP3_PERM in text else "error"), text
        finally:
            try:
                conn.quit()
            except (OSError, poplib.error_proto):
                conn.close()
        return "ok", ""

    def _auth_loop(self, user: str) -> tuple[str, str]:
        conn = smtplib.SMTP("127.0.0.1", self.stack.ports["submission"], timeout=120)
        try:
            conn.ehlo("load.test")
            conn.starttls(context=self.stack.tls_context())
            conn.ehlo("load.test")
            try:
                code, text = conn.login(user, self.passwords.get(user, self.password))
            except smtplib.SMTPAuthenticationError as exc:
                code, text = exc.smtp_code, exc.smtp_error
            except smtplib.SMTPResponseException as exc:
                code, text = exc.smtp_code, exc.smtp_error
            return classify_smtp(code), f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        finally:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()
