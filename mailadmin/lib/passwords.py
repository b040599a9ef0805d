"""Password hashes in Dovecot's ``{SCHEME}hash`` form.

Dovecot verifies the stored hash itself (passdb from the lookup view), and the
panel verifies the same string here, so one password serves both.

- New hashes use one of ``NEW_SCHEMES`` (``ARGON2ID`` by default).
- Legacy hashes in any of ``VERIFY_SCHEMES`` keep working; callers re-hash
  after a successful login when ``needs_rehash`` says so.
- Bare hashes without a ``{SCHEME}`` prefix (as older vmail-sql style
  databases stored them) are recognised by their shape by ``normalize_hash``;
  anything it cannot recognise is refused, never compared as clear text.
- An unknown ``{SCHEME}`` never verifies, and a password equal to the stored
  string is only accepted where the scheme says so (``{PLAIN}x`` takes ``x``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from mailadmin.lib.messages import HelperError, gettext_noop
from mailadmin.lib.numbers import NumberError, parse_int


def _handler(name: str):
    """A passlib hasher, imported when first needed: a command that hashes nothing (most of them)
    does not pay for loading passlib and its back ends at start-up."""
    from passlib import hash as passlib_hash

    return getattr(passlib_hash, name)


NEW_SCHEMES = ("ARGON2ID", "BLF-CRYPT", "SHA512-CRYPT")
# Dovecot's name for each scheme we verify (names are case-insensitive there too).
VERIFY_SCHEMES = (
    "ARGON2ID",
    "ARGON2I",
    "BLF-CRYPT",
    "SHA512-CRYPT",
    "SHA256-CRYPT",
    "MD5-CRYPT",
    "MD5",
    "CRYPT",
    "PLAIN-MD5",
    "LDAP-MD5",
    "SMD5",
    "SHA",
    "SSHA",
    "SHA256",
    "SSHA256",
    "SHA512",
    "SSHA512",
    "PLAIN",
    "CLEARTEXT",
)
MAX_PASSWORD_BYTES = 4096  # beyond this a "password" is an attack on the hasher


@dataclass(frozen=True)
class HashPolicy:
    """How new hashes are made: the scheme and its cost parameters."""

    scheme: str = "ARGON2ID"
    argon2_memory_kib: int = 65536
    argon2_time_cost: int = 3
    argon2_parallelism: int = 1
    bcrypt_rounds: int = 10
    sha512_rounds: int = 5000

    def __post_init__(self):
        if self.scheme not in NEW_SCHEMES:
            raise ValueError(f"New password hashes must use one of {', '.join(NEW_SCHEMES)}.")


class UnknownScheme(ValueError):
    """The stored string has no scheme this module (and so Dovecot) knows."""


_SCHEME_RE = re.compile(r"^\{([A-Za-z0-9.-]+)\}(.*)$", re.S)
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_DES = re.compile(r"^[./0-9A-Za-z]{13}$")


def hash_password(raw: str, policy: HashPolicy | None = None) -> str:
    """Hash ``raw`` with the policy's scheme, in Dovecot's form."""
    policy = policy or HashPolicy()
    _check_raw(raw)
    if policy.scheme == "ARGON2ID":
        hasher = _handler("argon2").using(
            type="ID",
            memory_cost=policy.argon2_memory_kib,
            time_cost=policy.argon2_time_cost,
            parallelism=policy.argon2_parallelism,
        )
        return "{ARGON2ID}" + hasher.hash(raw)
    if policy.scheme == "BLF-CRYPT":
        if len(raw.encode()) > 72:
            raise HelperError(gettext_noop("BLF-CRYPT (bcrypt) cannot hash passwords longer than 72 bytes."))
        return "{BLF-CRYPT}" + _handler("bcrypt").using(ident="2y", rounds=policy.bcrypt_rounds).hash(raw)
    return "{SHA512-CRYPT}" + _handler("sha512_crypt").using(rounds=policy.sha512_rounds).hash(raw)


def hash_fast(raw: str) -> str:
    """A salted SHA-512 of ``raw`` in Dovecot's ``{SSHA512}`` form: only for secrets the server drew
    with at least 128 bits of entropy (app passwords), where a slow hash adds nothing and a mail
    program's every login would pay for it."""
    _check_raw(raw)
    salt = os.urandom(16)
    return "{SSHA512}" + base64.b64encode(hashlib.sha512(raw.encode() + salt).digest() + salt).decode("ascii")


def hash_many(
    raws: list[str],
    policy: HashPolicy | None = None,
    *,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    every: int = 10,
) -> list[str]:
    """``hash_password`` of each, in order, spread over the machine's cores.

    Argon2 (argon2-cffi) and bcrypt release the GIL while they hash, so threads run them in
    parallel: two cores hash twice as many per second. Errors are raised as ``hash_password``'s.
    ``progress(n)`` is told how many are hashed, every ``every`` hashes and at the end.
    """
    policy = policy or HashPolicy()
    workers = workers or min(len(raws), os.cpu_count() or 1) or 1
    hashes: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for hashed in pool.map(lambda raw: hash_password(raw, policy), raws):
            hashes.append(hashed)
            if progress and (len(hashes) % every == 0 or len(hashes) == len(raws)):
                progress(len(hashes))
    return hashes


def split_hash(stored: str) -> tuple[str, str]:
    """Return (SCHEME, hash) of a stored string, recognising bare legacy forms.

    Raises UnknownScheme for anything that is not a known scheme.
    """
    if not isinstance(stored, str) or not stored:
        raise UnknownScheme("No password hash is stored.")
    match = _SCHEME_RE.match(stored)
    if match:
        scheme, value = match.group(1).upper(), match.group(2)
        # Dovecot's encoding suffixes (.HEX, .B64) on digest schemes.
        base, _, suffix = scheme.partition(".")
        if base not in VERIFY_SCHEMES or suffix not in ("", "HEX", "B64", "BASE64"):
            raise UnknownScheme(f"Unknown password scheme {{{scheme}}}.")
        return scheme, value
    return _bare_scheme(stored), stored


def normalize_hash(stored: str) -> str:
    """The ``{SCHEME}hash`` form of a stored string (bare legacy forms get a prefix)."""
    scheme, value = split_hash(stored)
    return "{%s}%s" % (scheme, value)


def verify_password(raw: str, stored: str) -> bool:
    """True when ``raw`` is the password that ``stored`` was made from."""
    if not isinstance(raw, str) or not raw or len(raw.encode()) > MAX_PASSWORD_BYTES:
        return False
    try:
        scheme, value = split_hash(stored)
    except UnknownScheme:
        return False
    base, _, suffix = scheme.partition(".")
    try:
        return _VERIFIERS[base](raw, value, suffix)
    except (ValueError, TypeError, binascii.Error):
        return False  # a malformed hash never verifies


def needs_rehash(stored: str, policy: HashPolicy | None = None) -> bool:
    """True when ``stored`` is not a hash the policy would make now."""
    policy = policy or HashPolicy()
    try:
        scheme, value = split_hash(stored)
    except UnknownScheme:
        return True
    if scheme != policy.scheme:
        return True
    if scheme == "ARGON2ID":
        wanted = f"m={policy.argon2_memory_kib},t={policy.argon2_time_cost},p={policy.argon2_parallelism}"
        return f"${wanted}$" not in value
    if scheme == "BLF-CRYPT":
        return not value.startswith(f"$2y${policy.bcrypt_rounds:02d}$")
    if not value.startswith("$6$rounds="):
        return policy.sha512_rounds != 5000
    try:
        return parse_int(value.split("$")[2][7:]) != policy.sha512_rounds
    except NumberError:
        return True


def _check_raw(raw: str) -> None:
    if not isinstance(raw, str) or not raw:
        raise HelperError(gettext_noop("A password cannot be empty."))
    if len(raw.encode()) > MAX_PASSWORD_BYTES:
        raise HelperError(gettext_noop("A password is at most %(n)s bytes long."), n=MAX_PASSWORD_BYTES)
    if "\x00" in raw:
        raise HelperError(gettext_noop("A password cannot contain a NUL character."))


def _bare_scheme(stored: str) -> str:
    if _HEX32.match(stored):
        return "PLAIN-MD5"
    if stored.startswith("$1$"):
        return "MD5-CRYPT"
    if stored.startswith(("$5$",)):
        return "SHA256-CRYPT"
    if stored.startswith(("$6$",)):
        return "SHA512-CRYPT"
    if stored.startswith(("$2a$", "$2b$", "$2y$")):
        return "BLF-CRYPT"
    if stored.startswith("$argon2id$"):
        return "ARGON2ID"
    if stored.startswith("$argon2i$"):
        return "ARGON2I"
    if _DES.match(stored):
        return "CRYPT"
    raise UnknownScheme("The stored password has no {SCHEME} prefix and no shape this panel knows.")


def _crypt(raw: str, value: str, _suffix: str = "") -> bool:
    """Dovecot's CRYPT uses libc crypt(3): whatever the hash's own prefix says."""
    for name in ("md5_crypt", "sha256_crypt", "sha512_crypt", "bcrypt", "des_crypt"):
        handler = _handler(name)
        if handler.identify(value):
            return handler.verify(raw, value)
    return False


def _decode_digest(value: str, suffix: str, size: int) -> bytes:
    """Digest values are hex or base64; Dovecot picks by suffix, else by length."""
    if suffix == "HEX" or (not suffix and len(value) == size * 2 and re.fullmatch(r"[0-9a-fA-F]+", value)):
        return bytes.fromhex(value)
    return base64.b64decode(value, validate=True)


def _digest(algorithm: str, size: int, salted: bool):
    def verify(raw: str, value: str, suffix: str = "") -> bool:
        decoded = _decode_digest(value, suffix, size)
        digest, salt = decoded[:size], decoded[size:]
        if len(digest) != size or (salted and not salt) or (not salted and salt):
            return False
        computed = hashlib.new(algorithm, raw.encode() + salt).digest()
        return hmac.compare_digest(computed, digest)

    return verify


def _plain(raw: str, value: str, _suffix: str = "") -> bool:
    return hmac.compare_digest(raw.encode(), value.encode())


def _phc(handler: str, prefix: str):
    def verify(raw: str, value: str, _suffix: str = "") -> bool:
        return value.startswith(prefix) and _handler(handler).verify(raw, value)

    return verify


_VERIFIERS = {
    "ARGON2ID": _phc("argon2", "$argon2id$"),
    "ARGON2I": _phc("argon2", "$argon2i$"),
    "BLF-CRYPT": _phc("bcrypt", "$2"),
    "SHA512-CRYPT": _phc("sha512_crypt", "$6$"),
    "SHA256-CRYPT": _phc("sha256_crypt", "$5$"),
    "MD5-CRYPT": _phc("md5_crypt", "$1$"),
    "MD5": _phc("md5_crypt", "$1$"),  # Dovecot's {MD5} is MD5-CRYPT, not a plain digest
    "CRYPT": _crypt,
    "PLAIN-MD5": _digest("md5", 16, salted=False),
    "LDAP-MD5": _digest("md5", 16, salted=False),
    "SMD5": _digest("md5", 16, salted=True),
    "SHA": _digest("sha1", 20, salted=False),
    "SSHA": _digest("sha1", 20, salted=True),
    "SHA256": _digest("sha256", 32, salted=False),
    "SSHA256": _digest("sha256", 32, salted=True),
    "SHA512": _digest("sha512", 64, salted=False),
    "SSHA512": _digest("sha512", 64, salted=True),
    "PLAIN": _plain,
    "CLEARTEXT": _plain,
}
