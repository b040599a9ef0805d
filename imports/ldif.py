"""Importer of an LDIF export of a Jamm-style LDAP mail tree.

Entries by object class:
- ``JammVirtualDomain`` (``jvd``): a domain; ``accountActive: FALSE`` makes it inactive.
- ``JammMailAccount`` (``mail``, ``userPassword``, ``mailbox``, ``cn``/``sn``/
  ``givenName``): a mailbox; ``accountActive`` is its active flag. Hashes keep
  their scheme (``{SSHA}``, ``{SMD5}``, ``{CRYPT}``, ``{SHA}``) except LDAP's
  ``{MD5}`` (RFC 2307: a base64 MD5 digest), which is Dovecot's ``{LDAP-MD5}``.
- ``JammMailAlias`` (``mail``, ``maildrop``): an alias (``@domain``: catch-all). A
  bare ``maildrop`` name is name@the alias's domain when that is an account or
  alias of the file; otherwise the alias is reported (Postfix reads a bare name as
  name@$myorigin: Jamm's own ``postmaster`` alias has ``maildrop: postmaster``).
- ``JammPostmaster`` on a ``JammMailAlias`` (Jamm's ``cn=postmaster`` entry; an older
  tree's ``organizationalRole``): each ``roleOccupant`` account becomes an administrator
  of that domain (an admin grant); an occupant that is no account is reported. The
  entry's own DN as occupant is Jamm's placeholder for a new domain and grants nothing.
Entries marked ``delete: TRUE`` (Jamm's soft deletion) are reported, not imported.
A line that is not LDIF, or a file cut in the middle of an entry (ldapsearch and
slapcat end every entry with a blank line), refuses the whole file, naming the line.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

from accounts.models import maildir_of
from imports.base import Importer, Item, SourceError, as_bool, read_text
from mailadmin.lib import passwords

# Attributes whose values are bytes, not text (RFC 4517/4523); other base64 values must be UTF-8.
BINARY_ATTRIBUTES = {
    "audio",
    "authorityrevocationlist",
    "cacertificate",
    "certificaterevocationlist",
    "crosscertificatepair",
    "jpegphoto",
    "photo",
    "usercertificate",
    "userpkcs12",
    "usersmimecertificate",
}
# What an entry of each Jamm object class cannot be without: missing from the last entry, the file was cut.
REQUIRED = {"jammvirtualdomain": ("jvd",), "jammmailaccount": ("mail", "userpassword"), "jammmailalias": ("mail",)}
LINE_RE = re.compile(r"^([A-Za-z0-9;.-]+)(::?|:<)\s?(.*)$")


def parse_ldif(text: str) -> list[dict[str, list[str]]]:
    """Entries as {attribute (lower-case): [values]}, with "dn" first; base64 values decoded."""
    return [entry for _line, entry in read_entries(text)]


def read_entries(text: str, name: str = "LDIF") -> list[tuple[int, dict[str, list]]]:
    """(line of its dn, entry) of each entry. The whole text is refused (SourceError naming ``name``
    and the line) when a line is not LDIF, or when the file ends in the middle of an entry."""
    entries, entry, start = [], None, 0
    lines = _unfold(text, name)
    for number, line in [*lines, (len(lines) + 1, "")]:
        if not line.strip():
            if entry is not None:
                entries.append((start, entry))
            entry = None
            continue
        if line.startswith("#") or (entry is None and not entries and line.lower().startswith("version:")):
            continue
        attribute, value = _attribute(number, line, name)
        if entry is None:
            if attribute != "dn":
                raise SourceError(f"{name}: line {number}: an entry starts with 'dn:', not {attribute!r}.")
            entry, start = {}, number
        entry.setdefault(attribute, []).append(value)
    if entries and not re.search(r"\n[ \t]*\r?\n\s*$", text):
        _check_complete(text, *entries[-1], name)
    return entries


def _unfold(text: str, name: str) -> list[tuple[int, str]]:
    """(line number, line) with folded lines (a continuation starts with one space) joined."""
    unfolded: list[tuple[int, str]] = []
    blank = True
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(" "):
            if blank:
                raise SourceError(
                    f"{name}: line {number}: a continuation line (it starts with a space) follows no line."
                )
            unfolded[-1] = (unfolded[-1][0], unfolded[-1][1] + line[1:])
            continue
        blank = not line.strip()
        unfolded.append((number, line))
    return unfolded


def _attribute(number: int, line: str, name: str) -> tuple[str, str | bytes]:
    match = LINE_RE.match(line)
    if not match:
        raise SourceError(f"{name}: line {number}: not an LDIF line ('attribute: value'): {line[:60]!r}")
    attribute, *options = match.group(1).lower().split(";")
    sep, value = match.group(2), match.group(3)
    if attribute == "changetype":
        raise SourceError(f"{name}: line {number}: a change record, not an entry (export with ldapsearch or slapcat).")
    if sep == ":<":
        raise SourceError(f"{name}: line {number}: the value of {attribute} is given by URL, which is not read.")
    if sep == "::":
        try:
            value = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise SourceError(f"{name}: line {number}: the value of {attribute} is not valid base64.") from None
        if attribute not in BINARY_ATTRIBUTES and "binary" not in options:
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                raise SourceError(f"{name}: line {number}: the value of {attribute} is not UTF-8 text.") from None
    return attribute, value


def _check_complete(text: str, start: int, entry: dict, name: str) -> None:
    """The last entry of a file that does not end with a blank line: it is whole, or the file was cut."""
    last = text.splitlines()[-1]
    missing = [a for c in _classes(entry) for a in REQUIRED.get(c, ()) if a not in entry]
    if not entry.get("objectclass"):
        missing.insert(0, "objectClass")
    reason = ""
    if not text.endswith("\n"):
        reason = "its last line has no line end"
    elif last.startswith(" "):
        reason = "it ends with a continuation line"
    elif missing:
        reason = f"it has no {', '.join(missing)}"
    if reason:
        raise SourceError(
            f"{name}: line {start}: the last entry ({_one(entry, 'dn')}) is not closed by a blank line and "
            f"{reason}: the file looks cut short; nothing was imported."
        )


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
        entries = read_entries(read_text(self.path, self.encoding), str(self.path))
        by_dn = {_dn_key(_one(entry, "dn")): entry for _line, entry in entries}
        items, grants = [], {}  # grants: address -> [where, {domains}]
        for line, entry in entries:
            item = self._item(line, entry)
            if item is not None:
                items.append(item)
            deleted = as_bool(_one(entry, "delete", "FALSE"))
            if _classes(entry) & {"jammpostmaster", "organizationalrole"} and not deleted:
                items.extend(self._postmasters(line, entry, by_dn, grants))
        _qualify_maildrops([item for item in items if item.kind in ("mailbox", "alias")])
        for address, (where, domains) in grants.items():
            items.append(Item("grant", address, where, {"admin": address, "domains_": sorted(domains)}))
        return items

    def _item(self, line: int, entry: dict) -> Item | None:
        classes, where = _classes(entry), f"line {line}"
        if "jammvirtualdomain" in classes:
            item = Item("domain", _one(entry, "jvd"), where, {"name": _one(entry, "jvd")})
            item.data["active"] = as_bool(_one(entry, "accountactive", "TRUE"))
        elif "jammmailaccount" in classes:
            item = self._mailbox(entry, where)
        elif "jammmailalias" in classes:
            address = _one(entry, "mail")
            data = {"address": address, "destinations": entry.get("maildrop", [])}
            item = Item("alias", address, where, dict(data, active=as_bool(_one(entry, "accountactive", "TRUE"))))
        else:
            return None
        if as_bool(_one(entry, "delete", "FALSE")):
            item.data, item.error = {}, "marked deleted in the LDAP tree (delete: TRUE): not imported"
        return item

    def _postmasters(self, line: int, entry: dict, by_dn: dict, grants: dict) -> list[Item]:
        """Each roleOccupant of a postmaster entry (Jamm's ``JammPostmaster``, or an older tree's
        ``organizationalRole``) administers its domain: added to ``grants``, or a reported item."""
        dn, reported = _one(entry, "dn"), []
        domain = self._domain_of(dn)
        for occupant in entry.get("roleoccupant", []):
            if _dn_key(occupant) == _dn_key(dn):
                continue  # Jamm makes a new domain's postmaster its own occupant: a placeholder, nobody
            target = by_dn.get(_dn_key(occupant))
            address = _one(target, "mail") if target is not None else _mail_from_dn(occupant)
            if not domain:
                error = f"the postmaster entry {dn} is not under a domain (jvd=) entry"
            elif target is not None and "jammmailaccount" not in _classes(target):
                error = f"roleOccupant {occupant} is not a mail account: only a mailbox can administer a domain"
            elif not address:
                error = f"roleOccupant {occupant} is not a mail account of this file"
            else:
                grants.setdefault(address, [f"line {line}", set()])[1].add(domain)
                continue
            reported.append(Item("grant", address or occupant, f"line {line}", error=error + ": no admin grant made"))
        return reported

    def _mailbox(self, entry: dict, where: str) -> Item:
        address = _one(entry, "mail")
        item = Item("mailbox", address, where)
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
    return match.group(1).strip() if match else ""


def _dn_key(dn: str) -> str:
    return dn.lower().replace(" ", "")


def _qualify_maildrops(items: list[Item]) -> None:
    """A bare ``maildrop`` name (no @) becomes name@the alias's domain when that address is an account
    or alias imported from this file; otherwise the alias is reported with its line. Postfix itself would
    read the name as name@$myorigin, a user of the mail host (Jamm's postmaster has ``maildrop: postmaster``),
    so a name that is nothing in this file is not qualified silently."""
    aliases = [item for item in items if item.kind == "alias"]
    unresolved = True
    while unresolved:  # an alias that fails makes the aliases that name it fail too
        known = {item.key.lower() for item in items if not item.error}
        unresolved = False
        for item in (item for item in aliases if not item.error):
            address = item.key.lower()
            for drop in (d for d in item.data["destinations"] if "@" not in d):
                wanted = f"{drop}@{address.rpartition('@')[2]}".lower()
                if wanted == address or wanted not in known:
                    what = (
                        "this alias itself" if wanted == address else "not an account or alias imported from this file"
                    )
                    item.data, unresolved = {}, True
                    item.error = (
                        f"maildrop '{drop}' has no domain: Postfix reads it as {drop}@$myorigin (a user of the "
                        f"mail host), and {wanted} is {what}; give the full address"
                    )
                    break
    for item in (item for item in aliases if not item.error):
        domain = item.key.rpartition("@")[2].lower()
        item.data["destinations"] = [d if "@" in d else f"{d}@{domain}".lower() for d in item.data["destinations"]]
