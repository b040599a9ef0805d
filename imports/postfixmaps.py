"""Importer of Postfix ``virtual`` alias maps and ``/etc/aliases``-style files.

- ``virtual`` (postconf ``virtual_alias_maps``, the text before ``postmap``):
  ``user@domain  dest, dest``; ``@domain  dest`` is the domain's catch-all; a
  key that is a domain name with the conventional placeholder as its value
  (``example.com  anything``: virtual(5) ignores the value) declares a virtual
  alias domain, which is created. Any other key without ``@`` is ambiguous:
  ``postmaster  admin@x`` is Postfix's "user" form, which matches
  ``postmaster@$myorigin`` and every ``$mydestination`` domain, not one virtual
  domain; such lines are reported with their file and line, not guessed at.
- aliases(5) files: ``name: dest, dest`` for the domain given with ``domain``.
Lines starting with white space continue the previous one; a line whose first
non-blank character is ``#`` is a comment. A ``#`` later in a line is not: Postfix
would read it and the words after it as destinations, so such a line is reported.
A bare name as a destination means that name in the alias's own domain. Pipes
(``|command``), files (``/path``) and ``:include:`` lists have no place in a
virtual mail directory: such entries are reported, not imported.
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


VALUE_RE = re.compile(r'"([^"]*)"|([^,\s]+)')  # a destination: "quoted whole" or up to a comma or space


def split_values(value: str) -> list[str]:
    """Comma- or space-separated destinations; double quotes keep a destination whole."""
    return [a or b for a, b in VALUE_RE.findall(value)]


# The value of a virtual alias domain line: virtual(5) ignores it; one word such as "anything".
PLACEHOLDER_RE = re.compile(r"[^\s,@|/:\"#]+")


def _comment_after(value: str | None) -> bool:
    """Whether a destination (outside quotes) starts with ``#``: a comment only in the writer's mind."""
    return any(not quoted and bare.startswith("#") for quoted, bare in VALUE_RE.findall(value or ""))


def _user_form(key: str) -> str:
    """Why a virtual map key without ``@`` that does not declare a domain is not imported."""
    if "." not in key:
        return (
            f"'{key}' has no '@': in a virtual map that is Postfix's user form, which matches {key}@$myorigin and "
            f"{key}@ every $mydestination domain, not one virtual domain; ambiguous, so not imported "
            f"(write {key}@DOMAIN)"
        )
    return (
        f"'{key}' has no '@' but has destinations: a virtual alias domain is declared with a placeholder "
        f"('{key} anything'), and as a local part it would match {key}@$myorigin; ambiguous, so not imported"
    )


class PostfixMapsImporter(Importer):
    def __init__(
        self, *, virtual=(), aliases=(), domain: str = "", create_domains: bool = False, encoding: str | None = None
    ):
        self.virtual, self.aliases = [Path(p) for p in virtual], [Path(p) for p in aliases]
        self.domain, self.create_domains, self.encoding = domain, create_domains, encoding
        self.label = "Postfix maps " + ", ".join(str(p) for p in self.virtual + self.aliases)

    def _entries(self) -> list[tuple[str, str, str | None, bool]]:
        """(where, key, destinations or None, from a virtual map) of every entry of every file."""
        entries = []
        for path in self.virtual:
            for number, line in logical_lines(read_text(path, self.encoding)):
                key, value = (re.split(r"\s+", line, maxsplit=1) + [""])[:2]
                entries.append((f"{path.name} line {number}", key, value.strip(), True))
        for path in self.aliases:
            for number, line in logical_lines(read_text(path, self.encoding)):
                key, colon, value = line.partition(":")
                where = f"{path.name} line {number}"
                if not colon:
                    entries.append((where, line, None, False))
                    continue
                key = f"{key.strip()}@{self.domain}" if self.domain else key.strip()
                entries.append((where, key, value.strip(), False))
        return entries

    def items(self):
        domains, items, seen = [], [], {}
        for where, key, value, virtual in self._entries():
            if virtual and "@" not in key and not _comment_after(value):
                if "." in key and PLACEHOLDER_RE.fullmatch(value):  # a virtual alias domain
                    domains.append((where, key))
                else:
                    items.append(Item("alias", key, where, error=_user_form(key)))
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
        elif _comment_after(value):
            item.error = "a '#' after the value is not a comment in Postfix: it would be read as destinations"
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
