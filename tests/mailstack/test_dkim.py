"""DKIM through real Exim, on every database: mail a user submits leaves signed with the domain's
RSA and Ed25519 keys, the signatures verify (dkimpy) against the records ``manage.py dkim show``
gives, a rotation signs with the new keys while the old ones stay published, and a forged From:
or a domain without keys is sent unsigned, never held back."""

from __future__ import annotations

import email
import time

import dkim as dkimpy
import pytest

from domains import dkim
from domains.services import get_domain
from tests.mailstack.stack import EXIM_USER
from tests.mailstack.test_core import _authenticated, message, send

pytestmark = pytest.mark.mailstack

SENDER = "relayer@alpha.test"


@pytest.fixture
def signing(stack, directory):
    domain = get_domain("alpha.test")
    keys = dkim.dkim_enable(origin="test", acting_user=None, domain=domain)
    dkim.install(stack.root / "dkim", group=EXIM_USER)
    yield keys
    dkim.dkim_disable(origin="test", acting_user=None, domain=domain)
    dkim.install(stack.root / "dkim", group=EXIM_USER)


def dns_of(domain_name: str):
    """dkimpy's DNS: the TXT records ``dkim show`` gives for the domain, nothing else."""
    records = {f"{k.record_name}.": k.record_text for k in dkim.published_keys(get_domain(domain_name))}

    def lookup(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        return records.get(name if name.endswith(".") else name + ".", "").encode() or None

    return lookup


def submitted(stack, to: str, *, sender: str = SENDER, header_from: str | None = None) -> bytes:
    """Submit one message as ``sender`` (authenticated); the bytes the outside sink received."""
    msg = message(to, f"dkim {time.monotonic_ns()}", sender=header_from or sender)
    conn = _authenticated(stack, sender)
    try:
        subject, replies, data = send(stack, to, sender=sender, conn=conn, msg=msg)
    finally:
        conn.close()
    assert replies[to][0] == 250 and data[0] == 250, (replies, data)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        got = [m for m in stack.sink.messages if m[1] == [to] and msg["Subject"].encode() in m[2]]
        if got:
            return got[0][2]
        time.sleep(0.1)
    raise AssertionError(f"nothing reached the sink\n{stack.log()}")


def signatures(raw: bytes) -> list[dict]:
    found = []
    for value in email.message_from_bytes(raw).get_all("DKIM-Signature") or []:
        tags = dict(part.strip().split("=", 1) for part in value.replace("\r\n", "").split(";") if "=" in part)
        found.append({k.strip(): "".join(v.split()) for k, v in tags.items()})
    return found


def verified(raw: bytes, domain_name: str) -> list[bool]:
    """Each signature of the message verified on its own (dkimpy checks one index at a time)."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    checker = dkimpy.DKIM(raw)
    results = []
    for i in range(len(signatures(raw))):
        try:
            results.append(checker.verify(idx=i, dnsfunc=dns_of(domain_name)))
        except dkimpy.ValidationError:  # (dkimpy raises for a body that does not match)
            results.append(False)
    return results


def test_submitted_mail_is_signed_with_rsa_and_ed25519_and_both_verify(stack, signing):
    raw = submitted(stack, "friend@elsewhere.test")
    sigs = signatures(raw)
    assert sorted(s["a"] for s in sigs) == ["ed25519-sha256", "rsa-sha256"]
    assert {s["d"] for s in sigs} == {"alpha.test"}
    assert {s["s"] for s in sigs} == {k.selector for k in signing}
    assert verified(raw, "alpha.test") == [True, True]


def test_a_changed_message_no_longer_verifies(stack, signing):
    raw = submitted(stack, "friend@elsewhere.test")
    assert verified(raw.replace(b"Hello from the mail-stack tests.", b"Hello from someone else."), "alpha.test") == [
        False,
        False,
    ]


def test_after_a_rotation_the_new_keys_sign_and_the_old_stay_published(stack, signing):
    domain = get_domain("alpha.test")
    new = dkim.dkim_rotate(origin="test", acting_user=None, domain=domain)
    dkim.install(stack.root / "dkim", group=EXIM_USER)
    raw = submitted(stack, "friend@elsewhere.test")
    assert {s["s"] for s in signatures(raw)} == {k.selector for k in new}
    assert verified(raw, "alpha.test") == [True, True]
    published = {k.selector for k in dkim.published_keys(domain)}
    assert published >= {k.selector for k in new} | {k.selector for k in signing}  # old ones too, for the grace


def test_a_forged_from_header_is_not_signed_with_the_domains_key(stack, signing):
    raw = submitted(stack, "friend@elsewhere.test", sender="sender@alpha.test", header_from="ceo@beta.test")
    assert signatures(raw) == []


def test_a_domain_without_keys_sends_unsigned(stack, signing):
    raw = submitted(stack, "friend@elsewhere.test", sender="dave@beta.test")
    assert signatures(raw) == []
