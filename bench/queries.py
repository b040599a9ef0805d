"""The lookup queries the shipped configuration runs, read from the rendered deploy/ templates.

The Exim configuration is rendered for the current database (``mailserver.config``),
its macros are expanded, and every ``SELECT`` in a lookup (``${lookup driver{SELECT ...}}``
or a ``driver;SELECT ...`` list) is taken with its quoted key replaced by a ``%s``
placeholder; Dovecot's ``password_query`` and ``user_query`` likewise (``'%u'``).
Dovecot's ``iterate_query`` (``doveadm -A``, a listing by design) is left out: it is
not a per-message or per-login lookup.

Each placeholder has a key kind - ``domain`` (a domain or domain-alias name),
``address`` (an address at one of our domains), ``catchall`` (``@domain``), ``zone`` (a DNS
blocklist's, given as the domain) or ``triplet`` (greylisting's key, given as the domain) - and
``Lookup.params(local_part, domain)`` fills them all for one recipient. A lookup with no key (the
enabled DNS blocklists, greylisting's allow list) has no placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailserver import config as mailconfig
from mailserver.lookup import GREYLIST_TABLE, V2_TABLES, V2_VIEWS, VIEWS

# Exim's numbers in a query (not keys): the size of the message, as at DATA for a 1 MB message.
_NUMBERS = {"$message_size": "1048576"}

_MACRO_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)\s*=\s*(.*)$")
_BLOCK = re.compile(r"^([a-z][a-z0-9_]*):\s*$")
_OPTION = re.compile(r"^\s*(?:(?:hide|domainlist|hostlist|addresslist)\s+)?([a-z_]+)")
_KEY = re.compile(r"E?'\$\{quote_(?:mysql|pgsql|sqlite):(.*?)\}'")


@dataclass(frozen=True)
class Lookup:
    where: str  # e.g. "exim router mailbox (condition)"
    server: str  # exim, dovecot or greylist: whose database user runs it
    view: str
    kinds: tuple[str, ...]  # what each %s holds: domain, address, catchall, zone or triplet
    sql: str

    def params(self, local_part: str, domain: str) -> list[str]:
        """The parameters for a lookup of local_part@domain."""
        value = {
            "domain": domain,
            "address": f"{local_part}@{domain}",
            "catchall": f"@{domain}",
            "zone": domain,
            "triplet": domain,
        }
        return [value[kind] for kind in self.kinds]


# Optional parts of the configuration are all taken (every lookup the templates can make), but
# those of a mail host that reads replicas: its replica-gap check (GAP_ROW, asked of the replica
# and of the primary only before a refusal) is guarded by tests/mailserver/test_lookup_explain.py.
_SKIPPED_UNLESS_DEFINED = {"PRIMARY_DRIVER"}


def _expand_macros(text: str) -> list[str]:
    """Exim's macro expansion (definitions anywhere at the start of a line, used after them)."""
    lines, macros, out = text.replace("\\\n", " ").splitlines(), {}, []
    blocks = []  # each open .ifdef/.ifndef: [decided by its macro, its lines left out]
    for line in lines:
        directive = line.split()[:2]
        if directive and directive[0] in (".ifdef", ".ifndef"):
            decided = directive[1] in _SKIPPED_UNLESS_DEFINED
            defined = directive[1] in macros
            blocks.append([decided, decided and defined != (directive[0] == ".ifdef")])
            continue
        if directive and directive[0] == ".else":
            blocks[-1][1] = blocks[-1][0] and not blocks[-1][1]  # (both branches taken when not decided)
            continue
        if directive and directive[0] == ".endif":
            blocks.pop()
            continue
        if any(skip for _, skip in blocks):
            continue
        for name in sorted(macros, key=len, reverse=True):
            if name in line:
                line = line.replace(name, macros[name])
        match = _MACRO_LINE.match(line)
        if match:
            macros[match.group(1)] = match.group(2).strip()
            continue
        out.append(line)
    return out


def _selects(line: str) -> list[str]:
    """Every SELECT statement in one (expanded) configuration line."""
    found = []
    for match in re.finditer(r"\{SELECT ", line):
        depth, i = 1, match.end()
        while depth and i < len(line):
            depth += {"{": 1, "}": -1}.get(line[i], 0)
            i += 1
        found.append(line[match.start() + 1 : i - 1])
    for match in re.finditer(r"(?:mysql|pgsql|sqlite);(SELECT .*)$", line):
        found.append(match.group(1))
    return found


def _kind(expression: str) -> str:
    if expression.startswith("@"):
        return "catchall"
    if "dnslist_domain" in expression:
        return "zone"
    if "acl_m_gkey" in expression:
        return "triplet"
    if "sender_address_domain" in expression or "${domain:" in expression:
        return "domain"
    if (
        "@" in expression
        or "sender_address" in expression
        or "authenticated_id" in expression
        or "address_data" in expression
        or "acl_m_sender" in expression
        or "$item" in expression  # an item of $recipients
    ):
        return "address"
    return "domain"


def _view(sql: str) -> str:
    return next(name for name in [*VIEWS, *V2_TABLES, *V2_VIEWS, GREYLIST_TABLE] if re.search(rf"\bFROM {name}\b", sql))


def exim_lookups(exim_conf: str) -> list[Lookup]:
    lookups, section, block = [], "", ""
    for line in _expand_macros(exim_conf):
        if line.startswith("begin "):
            section, block = line.split()[1].rstrip("s"), ""
        elif _BLOCK.match(line):
            block = _BLOCK.match(line).group(1)
        for select in _selects(line):
            keys = _KEY.findall(select)
            if not keys and "$" in select:
                raise ValueError(f"No quoted key in: {select}")
            sql = _KEY.sub("%s", select.replace("%", "%%"))
            for name, number in _NUMBERS.items():
                sql = sql.replace(name, number)
            option = _OPTION.match(line).group(1) if _OPTION.match(line) else "?"
            where = f"exim {section or 'main'} {block}".strip() + f" ({option})"
            view = _view(sql)
            server = "greylist" if view == GREYLIST_TABLE else "exim"  # (GREYLIST_DRIVER: its own user)
            lookups.append(Lookup(where, server, view, tuple(_kind(key) for key in keys), sql))
    return lookups


def dovecot_queries(script: str) -> dict[str, str]:
    """The point queries of deploy/dovecot/directory.lua, as DB-API SQL with one %s parameter."""
    found = re.findall(r'^local (PASSDB_QUERY|USERDB_QUERY) = "(SELECT .*)"$', script, re.M)
    return {name: sql.replace("%", "%%").replace("'%%s'", "%s") for name, sql in found}


def dovecot_lookups(script: str) -> list[Lookup]:
    return [
        Lookup(f"dovecot {name}", "dovecot", _view(sql), ("address",), sql)
        for name, sql in dovecot_queries(script).items()
    ]


def shipped_lookups() -> list[Lookup]:
    """Each distinct lookup (SQL and key kinds) of the rendered configuration, for the current database.

    A lookup made in several places is listed once, with every place in ``where``.
    """
    values = mailconfig.values()
    found = exim_lookups(mailconfig.render_exim(values))
    found += dovecot_lookups(mailconfig.render_dovecot(values)["directory.lua"])
    unique: dict[tuple, Lookup] = {}
    for lookup in found:
        key = (lookup.sql, lookup.kinds)
        if key in unique:
            first = unique[key]
            unique[key] = Lookup(f"{first.where}; {lookup.where}", first.server, first.view, first.kinds, first.sql)
        else:
            unique[key] = lookup
    return list(unique.values())
