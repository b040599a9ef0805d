"""Importer of PostfixAdmin's tables (MySQL/MariaDB or PostgreSQL, live or dumped).

- ``domain``: description, limits (``aliases``/``mailboxes``: 0 unlimited; a
  negative "none" cannot be expressed and is imported as unlimited, with a
  note), ``maxquota`` (MB, also the default quota), ``active``. Backup-MX
  domains are not hosted here and are reported, not imported; the pseudo-domain
  ``ALL`` is skipped.
- ``mailbox``: ``password`` as PostfixAdmin stored it (md5crypt ``$1$``,
  ``{SCHEME}`` forms of its dovecot: encryption, sha512 crypt, bcrypt ...), name,
  ``quota`` in bytes (kept exactly), ``active``, ``phone``, ``email_other``.
- ``alias``: the alias row each mailbox has for itself is skipped; vacation
  pseudo-destinations (``user#domain@autoreply.domain``) are dropped.
- ``alias_domain``, ``vacation`` (active -> custom text, inactive text kept),
  ``domain_admins`` (admin grants; the domain ``ALL`` means superuser).
"""

from __future__ import annotations

import datetime

from imports.base import Importer, Item, as_bool, as_int, as_text
from mailadmin.lib import passwords
from mailadmin.lib.sizes import MB


class PostfixAdminImporter(Importer):
    def __init__(self, source):
        self.source = source
        self.label = f"PostfixAdmin from {source.label}"
        self._notes: list[str] = []

    def _rows(self, name: str) -> list[dict]:
        return self.source.table(name) or []

    def notes(self) -> list[str]:
        return self._notes

    def items(self):
        mailboxes = {as_text(r["username"]).strip().lower() for r in self._rows("mailbox")}
        items = [self._domain(n, r) for n, r in enumerate(self._rows("domain"), 1) if r["domain"] != "ALL"]
        for n, row in enumerate(self._rows("alias_domain"), 1):
            name = as_text(row["alias_domain"])
            data = {"name": name, "target": as_text(row["target_domain"]), "active": as_bool(row.get("active"), True)}
            items.append(Item("domain alias", name, f"alias_domain row {n}", data))
        items += [self._mailbox(n, r) for n, r in enumerate(self._rows("mailbox"), 1)]
        items += [i for n, r in enumerate(self._rows("alias"), 1) if (i := self._alias(n, r, mailboxes))]
        items += [self._vacation(n, r) for n, r in enumerate(self._rows("vacation"), 1)]
        items += self._grants()
        return items

    def _domain(self, n: int, row: dict) -> Item:
        name = as_text(row["domain"])
        item = Item("domain", name, f"domain row {n}")
        if as_bool(row.get("backupmx")):
            item.error = "a backup MX domain (relayed, not hosted here): not imported"
            return item
        limits = {}
        for source, field in (("aliases", "max_aliases"), ("mailboxes", "max_mailboxes")):
            value = as_int(row.get(source), field=source)
            if value < 0:
                self._notes.append(f"{name}: {source} = {value} (none allowed) imported as unlimited")
            limits[field] = max(value, 0)
        maxquota = max(as_int(row.get("maxquota"), field="maxquota"), 0)
        item.data = {
            "name": name,
            "description": as_text(row.get("description"))[:255],
            "active": as_bool(row.get("active"), True),
            "max_quota_bytes": maxquota * MB,
            "default_quota_bytes": maxquota * MB,
            **limits,
        }
        return item

    def _mailbox(self, n: int, row: dict) -> Item:
        address = as_text(row["username"]).strip()
        item = Item("mailbox", address, f"mailbox row {n}")
        try:
            password_hash = passwords.normalize_hash(as_text(row.get("password")).strip())
        except passwords.UnknownScheme as exc:
            item.error = f"password: {exc} (PostfixAdmin's cleartext storage cannot be told from a hash)"
            return item
        first, _, last = as_text(row.get("name")).strip().rpartition(" ")
        quota = as_int(row.get("quota"), field="quota")
        item.data = {
            "address": address,
            "password_hash": password_hash,
            "quota_bytes": max(quota, 0),  # bytes in PostfixAdmin too: kept exactly
            "active": as_bool(row.get("active"), True),
            "first_name": (first or last)[:150],
            "last_name": (last if first else "")[:150],
            "phone": as_text(row.get("phone"))[:50],
            "other_email": as_text(row.get("email_other")).strip(),
        }
        return item

    def _alias(self, n: int, row: dict, mailboxes: set[str]) -> Item | None:
        address = as_text(row["address"]).strip()
        goto = [d.strip() for d in as_text(row.get("goto")).replace("\n", ",").split(",") if d.strip()]
        goto = [d for d in goto if "#" not in d.partition("@")[0]]  # vacation pseudo-addresses
        item = Item("alias", address, f"alias row {n}")
        if address.lower() in mailboxes:
            others = [d for d in goto if d.lower() != address.lower()]
            if not others:
                return None  # the mailbox's own alias row
            item.error = f"the mailbox also forwards to {', '.join(others)}: forwarding from a mailbox is not imported"
            return item
        if not goto:
            return None
        item.data = {"address": address, "destinations": goto, "active": as_bool(row.get("active"), True)}
        return item

    def _vacation(self, n: int, row: dict) -> Item:
        address = as_text(row["email"]).strip()
        active = as_bool(row.get("active"))
        first, last = _day(row.get("activefrom")), _day(row.get("activeuntil"))
        data = {
            "address": address,
            "mode": "custom" if active else "off",
            "subject": as_text(row.get("subject")).strip()[:200],
            "body": as_text(row.get("body")),
            "first_day": first,
            "last_day": last if (not first or not last or last >= first) else None,
        }
        return Item("vacation", address, f"vacation row {n}", data)

    def _grants(self) -> list[Item]:
        wanted: dict[str, list[str]] = {}
        for row in self._rows("domain_admins"):
            if as_bool(row.get("active"), True):
                wanted.setdefault(as_text(row["username"]).strip(), []).append(as_text(row["domain"]))
        items = []
        for admin, domain_names in wanted.items():
            if "ALL" in domain_names:
                items.append(Item("grant", admin, "domain_admins (ALL)", {"admin": admin, "superuser": True}))
            else:
                data = {"admin": admin, "domains_": sorted(domain_names)}
                items.append(Item("grant", admin, "domain_admins", data))
        return items


def _day(value) -> datetime.date | None:
    """A vacation's first or last day; PostfixAdmin's far-away defaults mean "none"."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.strip().split("+")[0].strip())
        except ValueError:
            return None
    day = value.date() if isinstance(value, datetime.datetime) else value
    return day if datetime.date(2001, 1, 1) <= day <= datetime.date(2037, 12, 31) else None
