"""Core delivery and login cases, on every database: what a user sees over SMTP, IMAP and POP3."""

from __future__ import annotations

import imaplib
import poplib
import smtplib
import uuid
from email.message import EmailMessage

import pytest

from tests.mailstack.conftest import NEW_SCHEMES, PASSWORD, _legacy_hashes

pytestmark = pytest.mark.mailstack


def message(to: str, subject: str, sender: str = "someone@outside.test", **headers) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@outside.test>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Hello from the mail-stack tests.\n")
    return msg


def send(stack, rcpts, subject=None, sender="someone@outside.test", port="smtp", conn=None, msg=None):
    """One SMTP transaction; returns (subject, {rcpt: (code, text)}, data reply or None)."""
    subject = subject or f"test {uuid.uuid4().hex[:12]}"
    rcpts = [rcpts] if isinstance(rcpts, str) else rcpts
    own = conn is None
    conn = conn or stack.smtp(port)
    try:
        code, text = conn.mail(sender)
        assert code == 250, (code, text)
        replies = {r: conn.rcpt(r) for r in rcpts}
        data = None
        if any(code == 250 for code, _ in replies.values()):
            msg = msg or message(", ".join(rcpts), subject, sender)
            try:
                data = conn.data(msg.as_bytes())
            except smtplib.SMTPDataError as exc:
                data = (exc.smtp_code, exc.smtp_error)
        else:
            conn.rset()
        return subject, replies, data
    finally:
        if own:
            conn.close()


def accepted(stack, rcpt, **kw) -> str:
    subject, replies, data = send(stack, rcpt, **kw)
    assert replies[rcpt][0] == 250, replies
    assert data[0] == 250, data
    return subject


# --- delivery ---------------------------------------------------------------------------------
def test_delivery_to_a_mailbox_arrives_over_imap_and_pop3(stack):
    subject = accepted(stack, "alice@alpha.test")
    stack.wait_for("alice@alpha.test", PASSWORD, subject)
    pop = stack.pop3("alice@alpha.test", PASSWORD)
    try:
        count, _ = pop.stat()
        assert count >= 1
        assert any(subject.encode() in line for n in range(1, count + 1) for line in pop.top(n, 0)[1])
    finally:
        pop.quit()


def test_upper_case_recipient_reaches_the_mailbox(stack):
    subject = accepted(stack, "Alice@ALPHA.test")
    stack.wait_for("alice@alpha.test", PASSWORD, subject)


def test_alias_delivers_to_its_destination(stack):
    subject = accepted(stack, "info@alpha.test")
    stack.wait_for("alice@alpha.test", PASSWORD, subject)


def test_alias_chain_resolves_to_the_last_mailbox(stack):
    subject = accepted(stack, "chain1@alpha.test")
    stack.wait_for("bob@alpha.test", PASSWORD, subject)


def test_domain_alias_address_goes_to_the_same_local_part_at_the_target(stack):
    subject = accepted(stack, "carol@alias.test")
    stack.wait_for("carol@alpha.test", PASSWORD, subject)


def test_catchall_takes_unknown_local_parts(stack):
    subject = accepted(stack, "whoever@beta.test")
    stack.wait_for("erin@beta.test", PASSWORD, subject)


def test_explicit_mailbox_beats_the_catchall(stack):
    subject = accepted(stack, "dave@beta.test")
    stack.wait_for("dave@beta.test", PASSWORD, subject)
    assert subject not in stack.subjects("erin@beta.test", PASSWORD)


def test_alias_loop_is_stopped_and_every_mailbox_in_it_gets_one_copy(stack):
    subject = accepted(stack, "loop-a@alpha.test")
    stack.wait_for("carol@alpha.test", PASSWORD, subject)
    stack.wait_for("dave@alpha.test", PASSWORD, subject)
    stack.run_queue()
    assert stack.subjects("carol@alpha.test", PASSWORD).count(subject) == 1
    assert stack.subjects("dave@alpha.test", PASSWORD).count(subject) == 1


# --- refusals at RCPT ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "rcpt",
    ["nobody@alpha.test", "nobody@alias.test", "disabled@alpha.test", "ivan@inactive.test", "x@inactive.test"],
)
def test_unknown_disabled_or_inactive_domain_recipients_are_refused_at_rcpt(stack, rcpt):
    _, replies, _ = send(stack, rcpt)
    code, text = replies[rcpt]
    assert code == 550, (code, text)
    # what the sender reads: an unknown user of one of our domains, or a domain that is not ours (now)
    if "inactive.test" in rcpt:
        assert text.startswith(b"5.7.1 Relaying"), text
    else:
        assert text == f"5.1.1 <{rcpt}>: no such user".encode(), text


def test_domain_with_logins_off_still_receives(stack):
    subject = accepted(stack, "nina@nologin.test")
    assert _eventually(lambda: stack.maildir_count("nina@nologin.test", subject) == 1), stack.log()


def _eventually(check, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


# --- logins ------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(NEW_SCHEMES))
def test_imap_and_pop3_login_with_new_hash_schemes(stack, key):
    address = f"new-{key}@alpha.test"
    stack.imap(address, PASSWORD).logout()
    stack.pop3(address, PASSWORD).quit()


@pytest.mark.parametrize("key", sorted(_legacy_hashes("x")))
def test_imap_and_pop3_login_with_imported_legacy_hashes(stack, key):
    address = f"legacy-{key}@alpha.test"
    stack.imap(address, PASSWORD).logout()
    stack.pop3(address, PASSWORD).quit()


def test_wrong_password_is_refused(stack):
    with pytest.raises(imaplib.IMAP4.error):
        stack.imap("alice@alpha.test", "not the password")


@pytest.mark.parametrize("address", ["nina@nologin.test", "disabled@alpha.test", "ivan@inactive.test"])
def test_login_refused_for_logins_off_inactive_mailbox_and_inactive_domain(stack, address):
    with pytest.raises(imaplib.IMAP4.error):
        stack.imap(address, PASSWORD)
    with pytest.raises(poplib.error_proto):
        stack.pop3(address, PASSWORD)
    conn = stack.smtp("submission")
    try:
        conn.starttls(context=stack.tls_context())
        conn.ehlo("client.mailstack.test")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            conn.login(address, PASSWORD)
    finally:
        conn.close()


# --- SMTP AUTH and relay ------------------------------------------------------------------
def test_smtp_auth_is_not_offered_without_tls(stack):
    conn = stack.smtp("submission")
    try:
        assert not conn.has_extn("auth")
        code, _ = conn.docmd("AUTH", "PLAIN AGFsaWNlQGFscGhhLnRlc3QAeA==")
        assert code in (503, 504, 538), code
    finally:
        conn.close()


def test_smtp_auth_over_starttls_and_implicit_tls(stack):
    conn = stack.smtp("submission")
    try:
        conn.starttls(context=stack.tls_context())
        conn.ehlo("client.mailstack.test")
        assert conn.has_extn("auth")
        conn.login("alice@alpha.test", PASSWORD)
    finally:
        conn.close()
    conn = stack.smtp("smtps")
    try:
        conn.login("alice@alpha.test", PASSWORD)
    finally:
        conn.close()


def test_submission_port_wants_authentication(stack):
    conn = stack.smtp("submission")
    try:
        code, _ = conn.mail("alice@alpha.test")
        assert code == 530
    finally:
        conn.close()


def test_relay_refused_without_authentication(stack):
    _, replies, _ = send(stack, "someone@elsewhere.test")
    assert replies["someone@elsewhere.test"][0] == 550


def _authenticated(stack, address):
    conn = stack.smtp("smtps")
    conn.login(address, PASSWORD)
    return conn


def test_relay_refused_for_a_mailbox_that_may_not_relay(stack):
    conn = _authenticated(stack, "norelay@alpha.test")
    try:
        _, replies, _ = send(stack, "someone@elsewhere.test", sender="norelay@alpha.test", conn=conn)
        assert replies["someone@elsewhere.test"][0] == 550
    finally:
        conn.close()


def test_authenticated_local_delivery_from_own_address(stack):
    conn = _authenticated(stack, "sender@alpha.test")
    try:
        subject, replies, data = send(stack, "alice@alpha.test", sender="sender@alpha.test", conn=conn)
        assert replies["alice@alpha.test"][0] == 250 and data[0] == 250
    finally:
        conn.close()
    stack.wait_for("alice@alpha.test", PASSWORD, subject)


@pytest.mark.parametrize("sender", ["sales@alpha.test", "Sender@ALIAS.test", "sales@alias.test"])
def test_sending_as_an_alias_that_delivers_to_you_or_a_domain_alias_form_is_allowed(stack, sender):
    conn = _authenticated(stack, "sender@alpha.test")
    try:
        code, text = conn.mail(sender)
        assert code == 250, text
    finally:
        conn.close()


@pytest.mark.parametrize(
    "sender", ["alice@alpha.test", "info@alpha.test", "alice@alias.test", "someone@elsewhere.test", ""]
)
def test_sending_as_someone_elses_address_is_refused(stack, sender):
    conn = _authenticated(stack, "sender@alpha.test")
    try:
        code, text = conn.mail(sender)
        assert code == 553, (code, text)
    finally:
        conn.close()


# --- hostile local parts reach the SQL (exim -bt routes without the RCPT ACL) ------------------------
HOSTILE_LOCAL_PARTS = [
    "alice' OR '1'='1",
    "alice'--",
    "x' UNION SELECT address FROM lookup_mailboxes_v1 WHERE '1'='1",
    "alice\\' OR 1=1 -- ",
    "alice\\",
    "al%",
    "%",
    "ali_e",
    "_____",
    "alice\u00ed",
    "al\u00edce",
    "a" * 200,
    "a" * 300,
]


def _quoted(local: str) -> str:
    return '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize("local", HOSTILE_LOCAL_PARTS)
def test_hostile_local_parts_are_quoted_for_the_database_and_route_nowhere_else(stack, local):
    from tests.mailstack.stack import parse_bt

    routes = parse_bt(stack.exim("-bt", f"{_quoted(local)}@alpha.test").stdout)
    assert routes and all(kind == "rejected" for kind, _ in routes), routes
    if len(local) > 250:
        return  # Exim itself refuses the address before any lookup
    # at a catch-all domain the literal address is unknown, so the catch-all takes it
    routes = parse_bt(stack.exim("-bt", f"{_quoted(local)}@beta.test").stdout)
    assert routes == {("mailbox", "erin@beta.test")}, routes


def test_message_over_the_size_limit_is_refused(stack):
    big = message("alice@alpha.test", "too large")
    big.set_content("z" * 2_200_000)  # the tests render MAIL_MESSAGE_SIZE_LIMIT = 2M
    _, replies, data = send(stack, "alice@alpha.test", msg=big)
    assert data[0] == 552, data


def test_a_password_changed_in_the_panel_takes_effect_within_the_auth_cache_ttl(stack, directory):
    import time

    from accounts import services as accounts

    mailbox = accounts.get_mailbox("dave@alpha.test")
    stack.imap("dave@alpha.test", PASSWORD).logout()  # now cached
    new_password = "a brand new passphrase"  # noqa: S105 - a test password
    accounts.mailbox_set_password(origin="test", acting_user=None, mailbox=mailbox, password=new_password)
    try:
        time.sleep(1.2)  # the tests render MAIL_AUTH_CACHE_TTL = 1 s
        stack.imap("dave@alpha.test", new_password).logout()
        with pytest.raises(imaplib.IMAP4.error):
            stack.imap("dave@alpha.test", PASSWORD)
    finally:
        accounts.mailbox_set_password(origin="test", acting_user=None, mailbox=mailbox, password=PASSWORD)
        stack.flush_auth_cache()


def test_imap_and_pop3_starttls_on_the_plain_ports(stack):
    """(Dovecot counts loopback connections as secure, so the refusal of plaintext logins without TLS
    on these ports cannot be shown from 127.0.0.1; `ssl = required` enforces it for real clients.)"""
    conn = imaplib.IMAP4("127.0.0.1", stack.ports["imap"], timeout=30)
    try:
        conn.starttls(ssl_context=stack.tls_context())
        conn.login("alice@alpha.test", PASSWORD)
    finally:
        conn.logout()
    pop = poplib.POP3("127.0.0.1", stack.ports["pop3"], timeout=30)
    try:
        pop.stls(context=stack.tls_context())
        pop.user("alice@alpha.test")
        pop.pass_(PASSWORD)
    finally:
        pop.quit()


@pytest.mark.vendors("sqlite")
def test_dovecot_reads_an_sqlite_directory_only_as_its_auth_user(stack):
    """The auth workers run as MAIL_DOVECOT_AUTH_USER, not root: the file's group decides.

    A second Dovecot reads a copy of the directory that only root may read, then its group too."""
    import grp
    import os
    import sqlite3

    from mailserver import config as mailconfig
    from tests.mailstack.stack import MailStack

    copy = stack.root / "sqlite-copy"
    copy.mkdir(mode=0o755)
    path = copy / "directory.sqlite3"
    source, target = sqlite3.connect(stack.database.name), sqlite3.connect(path)
    source.backup(target)
    target.execute("PRAGMA journal_mode=DELETE")  # a reader of a WAL file must be able to write its -shm
    source.close(), target.close()
    os.chown(path, 0, 0)
    path.chmod(0o640)  # root's alone
    second = MailStack(mailconfig.Database(vendor="sqlite", name=str(path)), {})
    try:
        second.start()
        with pytest.raises(imaplib.IMAP4.error, match="UNAVAILABLE"):
            second.imap("alice@alpha.test", PASSWORD)
        os.chown(path, 0, grp.getgrnam("dovecot").gr_gid)  # the group of the auth user may read
        second.imap("alice@alpha.test", PASSWORD).logout()
    finally:
        second.stop()


def test_archiving_a_deleted_mailbox_ends_its_open_sessions_and_leaves_nothing_behind(stack, directory):
    """A session still open when the mail-store job moves the maildir must not write into the old
    place, where a new mailbox of the same address would find it. Measured: Dovecot ends the
    session itself at its next command and creates nothing, so the job needs no `doveadm kick`
    (which would need rights over Dovecot's sockets)."""
    import time

    from accounts import services as accounts
    from accounts.archives import mailstore_run
    from tests import factories

    address = "kickme@alpha.test"
    mailbox = factories.mailbox(address)
    subject = accepted(stack, address)
    stack.wait_for(address, PASSWORD, subject)
    session = stack.imap(address, PASSWORD)
    session.select("INBOX")
    accounts.mailbox_delete(origin="test", acting_user=None, mailbox=mailbox)
    result = mailstore_run(store=stack.root / "store")
    assert result["archived"] == 1 and not result["errors"], result
    # the session ends: Dovecot notices that its INBOX went away
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        for _ in range(5):
            session.noop()
            time.sleep(0.1)
    try:
        session.append("Sent", None, None, b"Subject: draft\r\n\r\nwritten after the delete\r\n")
        session.append("INBOX", None, None, b"Subject: note\r\n\r\nwritten after the delete\r\n")
    except (imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError):
        pass
    time.sleep(0.5)
    assert not (stack.root / "store" / "alpha.test" / "kickme").exists(), "a stray maildir for the next owner"
