"""Importer of PostfixAdmin's tables (MySQL/MariaDB or PostgreSQL, live or dumped).

- ``domain``: description, limits (``aliases``/``mailboxes``: 0 unlimited; a
  negative "none" cannot be expressed and is imported as unlimited, with a
  note), ``maxquota`` (PostfixAdmin's "MB" of ``quota_multiplier`` bytes, 1024000
  by default; also the default quota), ``active``; a total domain ``quota`` is
  noted (a grant limits totals here). Backup-MX domains are not hosted here and
  are reported, not imported; the pseudo-domain ``ALL`` and the rows of alias
  domains are skipped.
- ``mailbox``: ``password`` as PostfixAdmin stored it (md5crypt ``$1$``,
  ``{SCHEME}`` forms of its dovecot: encryption, sha512 crypt, bcrypt ...), name,
  ``quota`` in bytes (kept exactly), ``active``, ``phone``, ``email_other``.
- ``alias``: the alias row each mailbox has for itself is skipped; one that shares
  a mailbox's address and lists others is that mailbox's forwarding (keeping a copy
  when it lists the mailbox too); vacation pseudo-destinations
  (``user#domain@autoreply.domain``) are dropped; a destination without a domain is
  reported (Postfix would deliver it to a local user of the host).
- ``alias_domain`` (domain aliases; aliases and mailboxes inside one are reported),
  ``vacation`` (active -> custom text, inactive text kept).
- ``admin`` and ``domain_admins``: a domain admin becomes a grant over its domains
  (it needs a mailbox here to log in); a superadmin (``superadmin`` or the domain
  ``ALL``) becomes a superuser only with ``superadmins`` (``--superadmins``), with
  its PostfixAdmin hash when it has no mailbox; inactive admins are reported.
"""

from __future__ import annotations

import datetime

from imports.base import Importer, Item, SourceError, as_bool, as_int, as_text
from mailadmin.lib import passwords

# PostfixAdmin's $CONF['quota_multiplier']: the bytes of its "MB" in domain limits (mailbox quotas are in bytes)
QUOTA_MULTIPLIER = 1024000


class PostfixAdminImporter(Importer):
    def __init__(self, source, *, quota_multiplier: int = QUOTA_MULTIPLIER, superadmins: bool = False):
        self.source = source
        self.label = f"PostfixAdmin from {source.label}"
        self.quota_multiplier, self.superadmins = quota_multiplier, superadmins
        self._notes: list[str] = []

    def _rows(self, name: str) -> list[dict]:
        return self.source.table(name) or []

    def notes(self) -> list[str]:
        return self._notes

    def items(self):
        for name in ("domain", "mailbox"):
            if self.source.table(name) is None:
                raise SourceError(
                    f"The source has no {name} table: is it a PostfixAdmin database, or a whole dump of one? "
                    "Nothing was imported."
                )
        mailboxes = {as_text(r["username"]).strip().lower() for r in self._rows("mailbox")}
        alias_domains = {as_text(r["alias_domain"]).strip().lower(): r for r in self._rows("alias_domain")}
        items = [
            self._domain(n, r)
            for n, r in enumerate(self._rows("domain"), 1)
            if r["domain"] != "ALL" and as_text(r["domain"]).strip().lower() not in alias_domains
        ]
        for n, row in enumerate(self._rows("alias_domain"), 1):
            name = as_text(row["alias_domain"])
            data = {"name": name, "target": as_text(row["target_domain"]), "active": as_bool(row.get("active"), True)}
            items.append(Item("domain alias", name, f"alias_domain row {n}", data))
        for n, row in enumerate(self._rows("mailbox"), 1):
            item = self._mailbox(n, row)
            if item.key.rpartition("@")[2].lower() in alias_domains:
                item.error = "a mailbox in an alias domain (all its mail goes to the target domain): not imported"
            items.append(item)
        for n, row in enumerate(self._rows("alias"), 1):
            item = self._alias(n, row, mailboxes)
            if item is not None and item.key.rpartition("@")[2].lower() in alias_domains:
                item.error = (
                    "an alias in an alias domain: here an alias domain sends every address to the target "
                    "domain, so this alias would never be used; add it to the target domain instead"
                )
            if item is not None:
                items.append(item)
        items += [self._vacation(n, r) for n, r in enumerate(self._rows("vacation"), 1)]
        items += self._grants(mailboxes)
        if any(item.kind == "forwarding" and item.data.get("keep_copy") for item in items):
            self._notes.append("forwarding with a local copy (an alias row listing its own mailbox) became mailbox "
                               "forwarding with keep-copy")  # fmt: skip
        if any(item.kind == "forwarding" and not item.data.get("keep_copy") for item in items):
            self._notes.append("an alias row sharing its mailbox's address became mailbox forwarding without a copy")
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
        # PostfixAdmin's domain limits are in its own "MB" of quota_multiplier bytes (1024000 by default)
        maxquota = max(as_int(row.get("maxquota"), field="maxquota"), 0) * self.quota_multiplier
        total = as_int(row.get("quota"), field="quota")
        if total > 0:
            self._notes.append(
                f"{name}: its total domain quota ({total} x {self.quota_multiplier} bytes) has no equivalent per "
                "domain here: limit the total of an admin's domains with a grant"
            )
        item.data = {
            "name": name,
            "description": as_text(row.get("description"))[:255],
            "active": as_bool(row.get("active"), True),
            "max_quota_bytes": maxquota,
            "default_quota_bytes": maxquota,
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
        """An alias, or (sharing a mailbox's address) that mailbox's forwarding: PostfixAdmin keeps
        a copy by listing the mailbox itself among the destinations."""
        address = as_text(row["address"]).strip()
        goto = [d.strip() for d in as_text(row.get("goto")).replace("\n", ",").split(",") if d.strip()]
        goto = [d for d in goto if "#" not in d.partition("@")[0]]  # vacation pseudo-addresses
        bare = [d for d in goto if "@" not in d]
        if address.lower() in mailboxes:
            others = [d for d in goto if d.lower() != address.lower()]
            if not others:
                return None  # the mailbox's own alias row
            item = Item("forwarding", address, f"alias row {n}")
            item.data = {"address": address, "destinations": others, "keep_copy": len(others) < len(goto)}
            if not as_bool(row.get("active"), True):
                item.error = (
                    "forwarding that is switched off in PostfixAdmin: not imported (the mailbox keeps its mail)"
                )
        else:
            if not goto:
                return None
            item = Item("alias", address, f"alias row {n}")
            item.data = {"address": address, "destinations": goto, "active": as_bool(row.get("active"), True)}
        if bare:
            item.error = (
                f"destination '{bare[0]}' has no domain: Postfix delivers it to a local user of the mail host, "
                f"not to {bare[0]}@{address.rpartition('@')[2]}; not imported, write the whole address"
            )
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

    def _grants(self, mailboxes: set[str]) -> list[Item]:
        """Admins (``admin``) with their domains (``domain_admins``): a domain admin becomes a grant
        over its domains (it needs a mailbox here to log in); a superadmin becomes a superuser only
        when asked (``superadmins``), else it is reported; an inactive admin is reported."""
        admins = {as_text(r["username"]).strip().lower(): r for r in self._rows("admin")}
        wanted: dict[str, list[str]] = {}
        inactive: set[str] = set()
        for row in self._rows("domain_admins"):
            name = as_text(row["username"]).strip().lower()
            if as_bool(row.get("active"), True):
                wanted.setdefault(name, []).append(as_text(row["domain"]))
            else:
                inactive.add(name)
        for name, row in admins.items():
            if as_bool(row.get("superadmin")):
                wanted.setdefault(name, []).append("ALL")
            if not as_bool(row.get("active"), True):
                inactive.add(name)
        items = []
        for admin in sorted(set(wanted) | inactive):
            stored = as_text(admins.get(admin, {}).get("password")).strip()
            if admin in inactive:
                items.append(Item("grant", admin, "admin", error="an inactive admin in PostfixAdmin: not imported"))
            elif "ALL" in wanted[admin] and not self.superadmins:
                error = (
                    "a PostfixAdmin superadmin: not made a superuser here unless the import is run with --superadmins"
                )
                items.append(Item("grant", admin, "domain_admins (ALL)", error=error))
            elif "ALL" in wanted[admin]:
                data = {"admin": admin, "superuser": True, "password_hash": "" if admin in mailboxes else stored}
                items.append(Item("grant", admin, "domain_admins (ALL)", data))
            else:
                data = {"admin": admin, "domains_": sorted(wanted[admin]), "can_create_mailboxes": True,
                        "can_delete_mailboxes": True}  # fmt: skip
                items.append(Item("grant", admin, "domain_admins", data))
            if admin in mailboxes and stored and admin not in inactive:
                self._notes.append(f"{admin}: the admin password of PostfixAdmin is not kept; the mailbox password "
                                   "logs in to the panel")  # fmt: skip
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
