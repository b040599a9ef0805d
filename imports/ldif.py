"""Importer of an LDIF export of a Jamm-style LDAP mail tree.

Entries by object class:
- ``JammVirtualDomain`` (``jvd``): a domain; ``accountActive: FALSE`` makes it inactive.
- ``JammMailAccount`` (``mail``, ``userPassword``, ``mailbox``, ``cn``/``sn``/
  ``givenName``): a mailbox; ``accountActive`` is its active flag. Hashes keep
  their scheme (``{SSHA}``, ``{SMD5}``, ``{CRYPT}``, ``{SHA}``) except LDAP's
  ``{MD5}`` (RFC 2307: a base64 MD5 digest), which is Dovecot's ``{LDAP-MD5}``.
- ``JammMailAlias`` (``mail``, ``maildrop``): an alias (``@domain``: catch-all).
- ``organizationalRole`` with ``roleOccupant`` (Jamm's ``cn=postmaster`` entry):
  each occupant becomes an administrator of that domain (an admin grant).
Entries marked ``delete: TRUE`` (Jamm's soft deletion) are reported, not imported.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from accounts.models import maildir_of
from imports.base import Importer, Item, as_bool, read_text
from mailadmin.lib import passwords


def parse_ldif(text: str) -> list[dict[str, list[str]]]:
    """Entries as {attribute (lower-case): [values]}, with "dn" first; base64 values decoded."""
    entries, entry = [], None
    lines = text.splitlines()
    unfolded: list[str] = []
    for line in lines:
        if line.startswith(" ") and unfolded:
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    for line in unfolded + [""]:
        if not line.strip():
            if entry:
                entries.append(entry)
            entry = None
            continue
        if line.startswith("#") or line.lower().startswith("version:"):
            continue
        match = re.match(r"^([A-Za-z0-9;.-]+)(::?|:<)\s?(.*)$", line)
        if not match:
            raise ValueError(f"Not an LDIF line: {line[:60]!r}")
        name, sep, value = match.group(1).lower().split(";")[0], match.group(2), match.group(3)
        if sep == "::":
            value = base64.b64decode(value).decode("utf-8", errors="replace")
        elif sep == ":<":
            continue  # values by URL are not read
        if entry is None:
            entry = {}
        entry.setdefault(name, []).append(value)
    return entries


def convert_hash(value: str) -> str:
    """An LDAP ``userPassword`` in Dovecot's form."""
    match = re.match(r"^\{([A-Za-z0-9-]+)\}(.*)$", value, re.S)
    if match and match.group(1).upper() == "MD5":
        value = "{LDAP-MD5}" + match.group(2)
    return passwords.normalize_hash(value)


def _one(entry: dict, name: str, default: str = "") -> str:
    return entry.get(name, [default])[0]


def _classes(entry: dict) -> set[str]:
    return {c.lower() for c in entry.get("objectclass", [])}


class LdifImporter(Importer):
    def __init__(self, path, *, encoding: str | None = None):
        self.path, self.encoding = Path(path), encoding
        self.label = f"LDIF {self.path}"
        self._notes: list[str] = []

    def notes(self) -> list[str]:
        return self._notes

    def items(self):
        entries = parse_ldif(read_text(self.path, self.encoding))
        by_dn = {_one(e, "dn").lower().replace(" ", ""): e for e in entries}
        items, admins = [], {}
        for entry in entries:
            classes, dn = _classes(entry), _one(entry, "dn")
            deleted = as_bool(_one(entry, "delete", "FALSE"))
            if "jammvirtualdomain" in classes:
                item = Item("domain", _one(entry, "jvd"), dn, {"name": _one(entry, "jvd")})
                item.data["active"] = as_bool(_one(entry, "accountactive", "TRUE"))
            elif "jammmailaccount" in classes:
                item = self._mailbox(entry, dn)
            elif "jammmailalias" in classes:
                address = _one(entry, "mail")
                data = {"address": address, "destinations": entry.get("maildrop", [])}
                item = Item("alias", address, dn, dict(data, active=as_bool(_one(entry, "accountactive", "TRUE"))))
            else:
                item = None
            if item is not None:
                if deleted:
                    item.data, item.error = {}, "marked deleted in the LDAP tree (delete: TRUE): not imported"
                items.append(item)
            if "organizationalrole" in classes and not deleted:
                domain = self._domain_of(dn)
                for occupant in entry.get("roleoccupant", []):
                    target = by_dn.get(occupant.lower().replace(" ", ""), {})
                    address = _one(target, "mail") or _mail_from_dn(occupant)
                    admins.setdefault(address, []).append(domain)
        for address, domains in admins.items():
            data = {"admin": address, "domains_": sorted(set(domains))}
            items.append(Item("grant", address, "roleOccupant of postmaster entries", data))
        return items

    def _mailbox(self, entry: dict, dn: str) -> Item:
        address = _one(entry, "mail")
        item = Item("mailbox", address, dn)
        try:
            password_hash = convert_hash(_one(entry, "userpassword"))
        except passwords.UnknownScheme as exc:
            item.error = f"userPassword: {exc}"
            return item
        first = _one(entry, "givenname")
        last = _one(entry, "sn")
        if not first and not last and _one(entry, "cn"):
            first = _one(entry, "cn")
        item.data = {
            "address": address,
            "password_hash": password_hash,
            "active": as_bool(_one(entry, "accountactive", "TRUE")),
            "first_name": first[:150],
            "last_name": last[:150] if last != address else "",
        }
        local, _, domain = address.lower().rpartition("@")
        maildir = _one(entry, "mailbox")
        if maildir and maildir.strip("/") + "/" != maildir_of(domain, local):
            self._notes.append(f"{address}: the old maildir was {maildir}; here it is {maildir_of(domain, local)}")
        return item

    @staticmethod
    def _domain_of(dn: str) -> str:
        match = re.search(r"(?:^|,)\s*jvd=([^,]+)", dn, re.I)
        return match.group(1).strip() if match else ""


def _mail_from_dn(dn: str) -> str:
    match = re.match(r"^\s*mail=([^,]+)", dn, re.I)
    return match.group(1).strip() if match else dn
