"""Importer of the vmail-sql MySQL schema for Exim (Chris Lightfoot's design).

Tables read (columns of the versions in use; alternatives are accepted):
- ``domain(domain_name, max_popbox ...)``: domains; ``max_popbox`` is the mailbox limit.
- ``popbox(domain_name, local_part, password_hash ...)``: mailboxes; one without a
  password hash receives mail but cannot log in until one is set (noted).
- ``forwarder(domain_name, local_part, remote_name)``: aliases; the local part
  ``_default_`` is the domain's catch-all. Destinations may be comma-separated. A
  forwarder with a POP box's address won over the box (its router ran first): it
  becomes that mailbox's forwarding without a copy.
- ``domain.password_hash`` (the domain control panel's password) has no equivalent:
  noted per domain.
- ``domain_alias(alias, domain_name)``: domain aliases (optional table).

Password hashes become Dovecot schemes: ``{md5}hex`` and bare 32-digit hex are
MD5 digests, i.e. Dovecot's ``{PLAIN-MD5}`` (Dovecot's own ``{MD5}`` means
MD5-CRYPT); ``{crypt}`` is ``{CRYPT}`` (libc crypt: DES or ``$1$``);
``{crypt-md5}`` is ``{MD5-CRYPT}``. ``{plaintext}`` passwords are hashed now with
the current scheme and the clear text is not kept.
"""

from __future__ import annotations

import re

from imports.base import Importer, Item, SourceError, as_int, as_text, pick
from mailadmin.lib import passwords

_PREFIX = re.compile(r"^\{([A-Za-z0-9-]+)\}(.*)$", re.S)
_SCHEMES = {"md5": "PLAIN-MD5", "crypt": "CRYPT", "crypt-md5": "MD5-CRYPT", "md5-crypt": "MD5-CRYPT"}


def convert_hash(stored: str) -> tuple[str, str]:
    """(password_hash, clear_password) for a vmail-sql ``password_hash`` value; one is empty.

    Raises ValueError naming the problem for a value that is no known form.
    """
    stored = stored.strip()
    if not stored:
        raise ValueError("no password hash")
    match = _PREFIX.match(stored)
    if match:
        scheme, value = match.group(1).lower(), match.group(2)
        if scheme in ("plaintext", "plain", "cleartext"):
            return "", value
        if scheme == "md5" and not re.fullmatch(r"[0-9a-fA-F]{32}", value):
            raise ValueError("{md5} value is not a 32-digit hex MD5 digest")
        dovecot = _SCHEMES.get(scheme)
        if dovecot is None:
            raise ValueError(f"unknown vmail-sql password scheme {{{match.group(1)}}}")
        return passwords.normalize_hash("{%s}%s" % (dovecot, value)), ""
    try:
        return passwords.normalize_hash(stored), ""  # bare md5 hex (and bare crypt forms)
    except passwords.UnknownScheme as exc:
        raise ValueError(str(exc)) from None


class VmailSqlImporter(Importer):
    def __init__(self, source):
        self.source = source
        self.label = f"vmail-sql from {source.label}"
        self._notes: list[str] = []

    def _rows(self, name: str) -> list[dict]:
        return self.source.table(name) or []

    def notes(self) -> list[str]:
        return self._notes

    def items(self):
        for name in ("domain", "popbox"):
            if self.source.table(name) is None:
                raise SourceError(
                    f"The source has no {name} table: is it a vmail-sql database, or a whole dump of one? "
                    "Nothing was imported."
                )
        items = list(self._items())
        if any(item.kind == "forwarding" for item in items):
            self._notes.append(
                "a forwarder with the address of a POP box became that mailbox's forwarding without a copy "
                "(vmail-sql's forwarder router ran before the POP box)"
            )
        return items

    def _items(self):
        for n, row in enumerate(self._rows("domain"), 1):
            name = as_text(pick(row, "domain_name", "domain", "name")).strip()
            yield Item("domain", name, f"domain row {n}", {"name": name, "max_mailboxes": _limit(row)})
            if as_text(row.get("password_hash")).strip():
                self._notes.append(
                    f"{name}: its domain password (vmail-sql's domain control panel) is not carried over: "
                    "appoint one of its mailboxes as its admin (manage.py grant set)"
                )
        for n, row in enumerate(self._rows("domain_alias"), 1):
            name = as_text(pick(row, "alias", "alias_name", "domain_alias", "alias_domain")).strip()
            target = as_text(pick(row, "domain_name", "domain", "target")).strip()
            yield Item("domain alias", name, f"domain_alias row {n}", {"name": name, "target": target})
        boxes = set()
        for n, row in enumerate(self._rows("popbox"), 1):
            item = self._mailbox(n, row)
            boxes.add(item.key.lower())
            yield item
        for n, row in enumerate(self._rows("forwarder"), 1):
            local = as_text(pick(row, "local_part")).strip()
            domain = as_text(pick(row, "domain_name", "domain")).strip()
            address = f"{'' if local == '_default_' else local}@{domain}"
            destinations = as_text(pick(row, "remote_name", "destination", "forward_to"))
            if address.lower() in boxes:  # the forwarder wins over the POP box: forwarding without a copy
                data = {"address": address, "destinations": destinations, "keep_copy": False}
                yield Item("forwarding", address, f"forwarder row {n}", data)
                continue
            yield Item("alias", address, f"forwarder row {n}", {"address": address, "destinations": destinations})

    def _mailbox(self, n: int, row: dict) -> Item:
        address = f"{as_text(pick(row, 'local_part')).strip()}@{as_text(pick(row, 'domain_name', 'domain')).strip()}"
        item = Item("mailbox", address, f"popbox row {n}", {"address": address})
        stored = as_text(pick(row, "password_hash", "password"))
        if not stored.strip():
            item.data["login"] = False
            self._notes.append(
                f"{address}: no password in the source: it receives mail but cannot log in until one is set"
            )
            return item
        try:
            password_hash, clear = convert_hash(stored)
        except ValueError as exc:
            item.error = f"password: {exc}"
            return item
        item.data.update(password_hash=password_hash, password=clear)
        return item


def _limit(row: dict) -> int:
    value = as_int(pick(row, "max_popbox", "max_popboxes", "max_mailboxes"), 0, field="max_popbox")
    return max(value, 0)
