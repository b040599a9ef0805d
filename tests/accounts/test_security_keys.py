"""Security keys (WebAuthn) as the login's second step: added only once two-factor login is set up,
checked for the right site, origin and challenge (used once, expiring), a cloned key (its counter
not growing) refused, wrong answers counted against the same throttle as codes, everything
audited, and the keys removed with the second factor. The key here is a software authenticator
(an ECDSA P-256 key answering as a CTAP2 key does); Chromium's virtual authenticator drives the
pages in tests/browser/test_two_factor.py."""

import hashlib
import json
import os
import struct

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from accounts import twofactor
from accounts.models import SecurityKey
from mailadmin.models import AuditEntry
from tests.accounts.test_two_factor import as_if_seconds_passed, enrol

pytestmark = pytest.mark.django_db

RP_ID, ORIGIN = "panel.example.org", "https://panel.example.org"


class SoftKey:
    """A security key in software: makes a credential for a site and signs its challenges."""

    def __init__(self, rp_id: str = RP_ID):
        self.rp_id, self.private = rp_id, ec.generate_private_key(ec.SECP256R1())
        self.credential_id, self.count = os.urandom(32), 0

    def _client_data(self, kind: str, options: dict, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": options["challenge"], "origin": origin}).encode()

    def create(self, options_json: str, origin: str = ORIGIN) -> str:
        options = json.loads(options_json)
        numbers = self.private.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([0x41])  # user present, attested credential data
            + struct.pack(">I", self.count)
            + bytes(16)
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + cose
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options, origin)
        return json.dumps(
            {
                "id": bytes_to_base64url(self.credential_id),
                "rawId": bytes_to_base64url(self.credential_id),
                "type": "public-key",
                "clientExtensionResults": {},
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "attestationObject": bytes_to_base64url(attestation),
                },
            }
        )

    def get(self, options_json: str, origin: str = ORIGIN, *, count: int | None = None) -> str:
        options = json.loads(options_json)
        self.count = self.count + 1 if count is None else count
        auth_data = hashlib.sha256(self.rp_id.encode()).digest() + bytes([0x01]) + struct.pack(">I", self.count)
        client_data = self._client_data("webauthn.get", options, origin)
        signature = self.private.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {
                "id": bytes_to_base64url(self.credential_id),
                "rawId": bytes_to_base64url(self.credential_id),
                "type": "public-key",
                "clientExtensionResults": {},
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "authenticatorData": bytes_to_base64url(auth_data),
                    "signature": bytes_to_base64url(signature),
                },
            }
        )


def add_key(mailbox, key: SoftKey, session: dict, name="blue key", origin=ORIGIN) -> SecurityKey:
    options = twofactor.key_registration_options(mailbox=mailbox, session=session, rp_id=RP_ID, rp_name="Panel")
    return twofactor.add_security_key(
        acting_user=mailbox,
        mailbox=mailbox,
        session=session,
        name=name,
        credential=key.create(options, origin),
        rp_id=RP_ID,
        expected_origin=ORIGIN,
        origin="test",
    )


def key_login(mailbox, key: SoftKey, session: dict, **answer) -> str:
    options = twofactor.key_login_options(mailbox=mailbox, session=session, rp_id=RP_ID)
    return twofactor.verify_key_login(
        mailbox=mailbox,
        session=session,
        credential=key.get(options, **answer),
        rp_id=RP_ID,
        expected_origin=ORIGIN,
        origin="test",
    )


def test_a_key_is_added_once_two_factor_login_is_on_and_then_logs_in(personas):
    user, session, key = personas.user, {}, SoftKey()
    with pytest.raises(PermissionDenied):
        twofactor.key_registration_options(mailbox=user, session=session, rp_id=RP_ID, rp_name="Panel")
    enrol(user)
    stored = add_key(user, key, session)
    assert stored.name == "blue key" and base64url_to_bytes(stored.credential_id) == key.credential_id
    assert session == {}  # the challenge is used up
    assert key_login(user, key, {}) == "security key"
    stored.refresh_from_db()
    assert stored.sign_count == 1 and stored.last_used_at is not None
    assert list(AuditEntry.objects.filter(action__startswith="two_factor.k").values_list("action", flat=True)) == [
        "two_factor.key_add"
    ]
    assert AuditEntry.objects.filter(action="two_factor.login").last().after == {
        "method": "security key",
        "key": "blue key",
    }


def test_an_answer_for_another_site_or_origin_or_challenge_is_refused(personas):
    user = personas.user
    device, _ = enrol(user)
    with pytest.raises(ValidationError, match="not accepted"):
        add_key(user, SoftKey(rp_id="phish.example"), {})
    with pytest.raises(ValidationError, match="not accepted"):
        add_key(user, SoftKey(), {}, origin="https://phish.example")
    assert not SecurityKey.objects.exists()
    key = SoftKey()
    add_key(user, key, {})
    with pytest.raises(ValidationError, match="did not answer for this account"):
        key_login(user, key, {}, origin="https://panel.example.org.phish.example")
    as_if_seconds_passed(device, 60)  # (a wrong answer slows the next one, as a wrong code does)
    # an answer to an old challenge: the session's challenge is another one by now
    session = {}
    old = twofactor.key_login_options(mailbox=user, session=session, rp_id=RP_ID)
    twofactor.key_login_options(mailbox=user, session=session, rp_id=RP_ID)
    with pytest.raises(ValidationError, match="did not answer"):
        twofactor.verify_key_login(
            mailbox=user, session=session, credential=key.get(old), rp_id=RP_ID, expected_origin=ORIGIN, origin="t"
        )


def test_a_challenge_is_used_once_and_expires(personas):
    user, key = personas.user, SoftKey()
    enrol(user)
    add_key(user, key, {})
    session = {}
    options = twofactor.key_login_options(mailbox=user, session=session, rp_id=RP_ID)
    answer = key.get(options)
    args = {"mailbox": user, "credential": answer, "rp_id": RP_ID, "expected_origin": ORIGIN, "origin": "t"}
    assert twofactor.verify_key_login(session=session, **args) == "security key"
    with pytest.raises(ValidationError, match="asked too long ago"):  # the same answer replayed
        twofactor.verify_key_login(session=session, **args)
    session = {}
    options = twofactor.key_login_options(mailbox=user, session=session, rp_id=RP_ID)
    session[twofactor.SESSION_KEY_CHALLENGE]["at"] -= twofactor.KEY_SECONDS + 1
    with pytest.raises(ValidationError, match="asked too long ago"):
        twofactor.verify_key_login(session=session, **{**args, "credential": key.get(options)})


def test_a_cloned_key_whose_counter_does_not_grow_is_refused_and_counted(personas):
    user, key = personas.user, SoftKey()
    device, _ = enrol(user)
    add_key(user, key, {})
    key_login(user, key, {}, count=5)
    with pytest.raises(ValidationError, match="did not answer"):
        key_login(user, key, {}, count=5)  # a copy of the key answering with the counter it had
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert AuditEntry.objects.filter(action="two_factor.refused").last().after == {
        "refused": "wrong",
        "method": "security key",
    }


def test_wrong_answers_share_the_codes_throttle(personas):
    user, key, stranger = personas.user, SoftKey(), SoftKey()
    device, _ = enrol(user)
    add_key(user, key, {})
    for n, answer in enumerate((stranger, "garbage")):
        if n:
            as_if_seconds_passed(device, 60)
        session = {}
        options = twofactor.key_login_options(mailbox=user, session=session, rp_id=RP_ID)
        credential = answer.get(options) if isinstance(answer, SoftKey) else "{not json"
        with pytest.raises(ValidationError, match="did not answer"):
            twofactor.verify_key_login(
                mailbox=user, session=session, credential=credential, rp_id=RP_ID, expected_origin=ORIGIN, origin="t"
            )
    with pytest.raises(ValidationError, match="Too many wrong codes"):
        key_login(user, key, {})  # the right key must wait too
    as_if_seconds_passed(device, 60)
    assert key_login(user, key, {}) == "security key"


def test_at_most_ten_keys_and_each_once_and_names_are_one_line(personas):
    user = personas.user
    enrol(user)
    key = SoftKey()
    add_key(user, key, {})
    with pytest.raises(ValidationError, match="added already"):
        add_key(user, key, {})
    with pytest.raises(ValidationError, match="one line"):
        add_key(user, SoftKey(), {}, name="a\x00b")
    for n in range(9):
        add_key(user, SoftKey(), {}, name=f"key {n}")
    with pytest.raises(ValidationError, match="At most 10"):
        add_key(user, SoftKey(), {}, name="eleventh")


def test_keys_go_with_the_second_factor_and_only_their_owner_removes_one(personas, client):
    user = personas.user
    enrol(user)
    stored = add_key(user, SoftKey(), {})
    with pytest.raises(PermissionDenied):
        twofactor.remove_security_key(acting_user=personas.superuser, key=stored, origin="t")
    other = Client()
    other.force_login(personas.superuser)
    assert other.post(reverse("accounts:two_factor_key_remove", args=[stored.pk])).status_code == 404
    twofactor.reset(acting_user=personas.superuser, mailbox=user, origin="t")
    assert not SecurityKey.objects.exists()


def test_the_login_pages_options_need_a_pending_login_and_an_unknown_answer_is_refused(client, personas):
    user, key = personas.user, SoftKey()
    enrol(user)
    add_key(user, key, {})
    response = client.post(reverse("login_key_options"))
    assert response.status_code == 403 and "Log in again" in response.json()["error"]
    client.post(reverse("login"), {"username": user.address, "password": personas.password})
    response = client.post(reverse("login_key_options"))
    assert response.status_code == 200
    options = response.json()
    assert [c["id"] for c in options["allowCredentials"]] == [bytes_to_base64url(key.credential_id)]
    assert options["rpId"] == "testserver"
    # an answer for the test server's origin from a key registered for another site: refused, still pending
    page = client.post(reverse("login_verify"), {"credential": key.get(response.content.decode(), "http://testserver")})
    assert page.status_code == 200 and "did not answer for this account" in page.content.decode()
    assert client.get(reverse("accounts:me")).status_code == 302  # not logged in
    assert "Use my security key" in page.content.decode()  # the pending login is still there


def test_the_command_line_shows_the_keys_and_its_reset_removes_them(personas):
    import io

    from django.core.management import call_command

    superuser = personas.superuser
    enrol(superuser)
    add_key(superuser, SoftKey(), {}, name="red key")
    out = io.StringIO()
    call_command("mailbox", "two-factor", superuser.address, "--json", stdout=out)
    assert json.loads(out.getvalue())["security_keys"] == ["red key"]
    out = io.StringIO()
    call_command("mailbox", "two-factor", superuser.address, "--reset", "--json", stdout=out)
    assert json.loads(out.getvalue())["security_keys"] == []
    assert not SecurityKey.objects.exists()
