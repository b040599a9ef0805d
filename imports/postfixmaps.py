"""Importer of Postfix ``virtual`` alias maps and ``/etc/aliases``-style files.

- ``virtual`` (postconf ``virtual_alias_maps``, the text before ``postmap``):
  ``user@domain  dest, dest``; ``@domain  dest`` is the domain's catch-all; a
  key that is a bare domain name (``example.com  anything``) declares a virtual
  alias domain, which is created.
- aliases(5) files: ``name: dest, dest`` for the domain given with ``domain``.
Lines starting with white space continue the previous one; ``#`` starts a
comment line. A bare name as a destination means that name in the alias's own
domain. Pipes (``|command``), files (``/path``) and ``:include:`` lists have no
place in a virtual mail directory: such entries are reported, not imported.
"""

from __future__ import annotations

import re
from pathlib import Path

from imports.base import Importer, Item, read_text
from mailadmin.lib.addresses import AddressError, normalize_domain


def logical_lines(text: str):
    """(line number, text) of each entry, continuation lines joined."""
    current, start = None, 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[0] in " \t" and current is not None:
            current += " " + raw.strip()
            continue
        if current is not None:
            yield start, current
        current, start = raw.strip(), number
    if current is not None:
        yield start, current


def split_values(value: str) -> list[str]:
    """Comma- or space-separated destinations; double quotes keep a destination whole."""
    return [a or b for a, b in re.findall(r'"([^"]*)"|([^,\s]+)', value)]


class PostfixMapsImporter(Importer):
    def __init__(
        self, *, virtual=(), aliases=(), domain: str = "", create_domains: bool = False, encoding: str | None = None
    ):
        self.virtual, self.aliases = [Path(p) for p in virtual], [Path(p) for p in aliases]
        self.domain, self.create_domains, self.encoding = domain, create_domains, encoding
        self.label = "Postfix maps " + ", ".join(str(p) for p in self.virtual + self.aliases)

    def items(self):
        entries = []  # (where, key, destinations)
        for path in self.virtual:
            for number, line in logical_lines(read_text(path, self.encoding)):
                key, value = (re.split(r"\s+", line, maxsplit=1) + [""])[:2]
                entries.append((f"{path.name} line {number}", key, value.strip()))
        for path in self.aliases:
            for number, line in logical_lines(read_text(path, self.encoding)):
                key, colon, value = line.partition(":")
                where = f"{path.name} line {number}"
                if not colon:
                    entries.append((where, line, None))
                    continue
                entries.append((where, f"{key.strip()}@{self.domain}" if self.domain else key.strip(), value.strip()))
        domains, items, seen = [], [], {}
        for where, key, value in entries:
            if "@" not in key and "." in key and value is not None:  # a virtual alias domain
                domains.append((where, key))
                continue
            item = self._alias(where, key, value)
            if item.key in seen and not item.error:
                item.error = f"the same address as {seen[item.key]} (the first one is used)"
            seen.setdefault(item.key, where)
            if self.create_domains and not item.error:
                domains.append((where, item.key.rpartition("@")[2]))
            items.append(item)
        declared = {}
        for where, name in domains:
            declared.setdefault(name.lower(), where)
        return [Item("domain", name, where, {"name": name}) for name, where in declared.items()] + items

    def _alias(self, where: str, key: str, value: str | None) -> Item:
        item = Item("alias", key, where)
        if value is None:
            item.error = "not a 'name: destinations' line"
        elif "@" not in key:
            item.error = "a name without a domain (write user@domain, or give the domain of an aliases file)"
        elif not value:
            item.error = "no destinations"
        else:
            local, _, domain = key.rpartition("@")
            try:
                domain = normalize_domain(domain)
            except AddressError as exc:
                item.error = str(exc)
                return item
            item.key = f"{local.lower()}@{domain}"
            destinations = split_values(value)
            unsupported = [d for d in destinations if d.startswith(("|", "/", ":include:"))]
            if unsupported:
                item.error = f"pipe, file or :include: destinations are not supported ({unsupported[0]})"
            else:
                item.data = {"address": item.key, "destinations": destinations}
        return item
