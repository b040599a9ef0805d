"""Dovecot {SCHEME}hash handling, cross-checked with Dovecot's own doveadm."""

import base64
import hashlib
import subprocess

import pytest
from passlib.hash import des_crypt, md5_crypt, sha512_crypt

from mailadmin.lib.passwords import (
    HashPolicy,
    UnknownScheme,
    hash_many,
    hash_password,
    needs_rehash,
    normalize_hash,
    split_hash,
    verify_password,
)

CHEAP = {
    "ARGON2ID": HashPolicy(scheme="ARGON2ID", argon2_memory_kib=1024, argon2_time_cost=1),
    "BLF-CRYPT": HashPolicy(scheme="BLF-CRYPT", bcrypt_rounds=4),
    "SHA512-CRYPT": HashPolicy(scheme="SHA512-CRYPT", sha512_rounds=5000),
}
PASSWORD = "pässwörd with spaces & 'quotes'"


def doveadm(*args: str) -> subprocess.CompletedProcess:
    """Dovecot's own password tool, with an empty configuration."""
    return subprocess.run(["doveadm", "-c", "/dev/null", "pw", *args], capture_output=True, text=True, timeout=30)


def _legacy_hashes(password: str) -> dict[str, str]:
    salt = b"s4lt!"
    md5 = hashlib.md5(password.encode()).hexdigest()  # noqa: S324 - a legacy scheme under test
    ssha = base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()  # noqa: S324
    ssha512 = base64.b64encode(hashlib.sha512(password.encode() + salt).digest() + salt).decode()
    return {
        "{PLAIN-MD5}": "{PLAIN-MD5}" + md5,
        "{MD5-CRYPT}": "{MD5-CRYPT}" + md5_crypt.hash(password),
        "{CRYPT}": "{CRYPT}" + des_crypt.hash(password[:8]),
        "{SSHA}": "{SSHA}" + ssha,
        "{SSHA512}": "{SSHA512}" + ssha512,
        "{SHA512-CRYPT}": "{SHA512-CRYPT}" + sha512_crypt.using(rounds=5000).hash(password),
        "{PLAIN}": "{PLAIN}" + password,
        "bare md5 hex (vmail-sql)": md5,
        "bare md5-crypt": md5_crypt.hash(password),
    }


@pytest.mark.parametrize("scheme", sorted(CHEAP))
def test_new_hashes_carry_the_scheme_and_verify(scheme):
    stored = hash_password(PASSWORD, CHEAP[scheme])
    assert stored.startswith("{%s}" % scheme)
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "x", stored)
    assert not verify_password("", stored)


@pytest.mark.parametrize("scheme", sorted(CHEAP))
def test_dovecot_verifies_the_hashes_we_make(scheme):
    password = PASSWORD if scheme != "BLF-CRYPT" else "short enough for bcrypt"
    stored = hash_password(password, CHEAP[scheme])
    assert doveadm("-t", stored, "-p", password).returncode == 0
    assert doveadm("-t", stored, "-p", password + "x").returncode != 0


@pytest.mark.parametrize(
    "scheme",
    [
        "ARGON2ID",
        "BLF-CRYPT",
        "SHA512-CRYPT",
        "SSHA",
        "SSHA512",
        "PLAIN-MD5",
        "MD5-CRYPT",
        "SHA256-CRYPT",
        "SMD5",
        "SHA",
    ],
)
def test_we_verify_the_hashes_dovecot_makes(scheme):
    made = doveadm("-s", scheme, "-p", "from dovecot")
    assert made.returncode == 0, made.stderr
    stored = made.stdout.strip()
    assert verify_password("from dovecot", stored)
    assert not verify_password("from dovecot!", stored)


@pytest.mark.parametrize("kind", sorted(_legacy_hashes(PASSWORD)))
def test_legacy_hashes_verify_and_ask_for_a_rehash(kind):
    stored = _legacy_hashes(PASSWORD)[kind]
    password = PASSWORD[:8] if kind == "{CRYPT}" else PASSWORD
    assert verify_password(password, stored)
    assert not verify_password("wrong password", stored)
    assert needs_rehash(stored, CHEAP["ARGON2ID"])


@pytest.mark.parametrize("kind", sorted(_legacy_hashes(PASSWORD)))
def test_the_stored_hash_itself_is_never_accepted_as_the_password(kind):
    stored = _legacy_hashes(PASSWORD)[kind]
    assert not verify_password(stored, stored)
    assert not verify_password(normalize_hash(stored), stored)


def test_legacy_hashes_are_also_accepted_by_dovecot_in_normalised_form():
    for kind, stored in _legacy_hashes(PASSWORD).items():
        password = PASSWORD[:8] if kind == "{CRYPT}" else PASSWORD
        assert doveadm("-t", normalize_hash(stored), "-p", password).returncode == 0, kind


@pytest.mark.parametrize(
    "stored", ["{NOPE}secret", "{ROT13}frperg", "{}secret", "secret", "plain text", "", "{PLAIN-MD5.XYZ}abc"]
)
def test_unknown_schemes_are_refused_never_read_as_plain_text(stored):
    secret = stored.split("}", 1)[-1]
    assert not verify_password(secret, stored)
    assert not verify_password(stored, stored)
    with pytest.raises(UnknownScheme):
        split_hash(stored)


def test_scheme_names_are_case_insensitive_as_in_dovecot():
    assert verify_password("x", "{plain}x")
    assert verify_password(PASSWORD, "{ssha512}" + _legacy_hashes(PASSWORD)["{SSHA512}"][9:])


def test_malformed_hashes_never_verify():
    for stored in ["{SSHA}not base64!!", "{ARGON2ID}$argon2id$garbage", "{SHA512-CRYPT}$6$", "{PLAIN-MD5}zz"]:
        assert not verify_password("anything", stored)


def test_rehash_follows_the_policy():
    cheap = CHEAP["ARGON2ID"]
    stored = hash_password("pw", cheap)
    assert not needs_rehash(stored, cheap)
    assert needs_rehash(stored, HashPolicy(argon2_memory_kib=2048, argon2_time_cost=1))
    assert needs_rehash(stored, CHEAP["SHA512-CRYPT"])


def test_rehash_of_a_sha512_crypt_hash_with_odd_rounds():
    salted = "$abcdefgh$" + "a" * 86
    assert not needs_rehash("{SHA512-CRYPT}$6$rounds=5000" + salted, CHEAP["SHA512-CRYPT"])
    assert needs_rehash("{SHA512-CRYPT}$6$rounds=²" + salted, CHEAP["SHA512-CRYPT"])  # no ValueError
    assert needs_rehash("{SHA512-CRYPT}$6$rounds=５０００" + salted, CHEAP["SHA512-CRYPT"])


def test_unusable_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="empty"):
        hash_password("", CHEAP["ARGON2ID"])
    with pytest.raises(ValueError, match="72 bytes"):
        hash_password("x" * 73, CHEAP["BLF-CRYPT"])
    with pytest.raises(ValueError, match="NUL"):
        hash_password("a\x00b", CHEAP["ARGON2ID"])
    with pytest.raises(ValueError, match="must use one of"):
        HashPolicy(scheme="PLAIN")


@pytest.mark.parametrize("scheme", sorted(CHEAP))
def test_many_hashes_at_once_are_each_its_own_password_in_order(scheme):
    raws = [f"password number {n}" for n in range(6)]
    hashes = hash_many(raws, CHEAP[scheme])
    assert len(set(hashes)) == 6
    assert all(verify_password(raw, stored) for raw, stored in zip(raws, hashes, strict=True))
    assert not verify_password(raws[0], hashes[1])
