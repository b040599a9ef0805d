"""Where mail to an address goes, explained from the lookup views (``manage.py trace``).

It follows the same precedence as Exim's routers in deploy/exim/20-routers.conf, from
the same views, so what it says is what Exim does (a differential test compares it
with ``exim -bt`` on a generated directory):

  domain alias -> inactive mailbox (550) -> over quota (4xx) -> [vacation] -> forwarding
  [+ a kept copy] -> mailbox -> alias -> catch-all -> loop (dropped) -> 550; other domains
  are relayed.

An address already expanded by the alias (or catch-all, domain-alias or forwarding)
step earlier in its own chain is not expanded again, as Exim skips a router for an
address it handled in the ancestry: that is how alias loops stop, and how a forwarding
loop ends in the mailbox where it comes round again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection

from mailadmin.lib.sizes import format_size

# The local parts the RCPT ACL lets through (the rules of mailadmin/lib/addresses.py).
_ATEXT = r"A-Za-z0-9#$&'*+=?^_`{}~-"
LOCAL_PART_RE = re.compile(rf"^[{_ATEXT}]+(\.[{_ATEXT}]+)*$")


@dataclass
class Outcome:
    """One end of the routing tree."""

    kind: str  # mailbox | external | rejected | deferred | dropped
    address: str
    reason: str = ""
    via: list[str] = field(default_factory=list)  # the chain from the traced address, outermost first
    info: dict = field(default_factory=dict)


@dataclass
class Trace:
    address: str
    steps: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    rcpt: str = ""  # what the SMTP server answers at RCPT (unauthenticated client)

    @property
    def mailboxes(self) -> list[str]:
        return sorted({o.address for o in self.outcomes if o.kind == "mailbox"})

    @property
    def external(self) -> list[str]:
        return sorted({o.address for o in self.outcomes if o.kind == "external"})

    def as_dict(self) -> dict:
        return {
            "address": self.address,
            "rcpt": self.rcpt,
            "steps": self.steps,
            "outcomes": [o.__dict__ for o in self.outcomes],
            "mailboxes": self.mailboxes,
            "external": self.external,
        }


def _one(sql: str, key: str) -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([c[0].lower() for c in cursor.description], row, strict=True))


def _domain(name: str):
    return _one(
        "SELECT domain, target, is_alias, active, logins_enabled FROM lookup_domains_v1 WHERE domain = %s", name
    )


def _mailbox(address: str):
    return _one(
        "SELECT address, active, may_relay, filtering, over_quota, quota_bytes FROM lookup_mailboxes_v1 "
        "WHERE address = %s",
        address,
    )


def _alias(address: str):
    return _one("SELECT address, destinations, active, is_catchall FROM lookup_aliases_v1 WHERE address = %s", address)


def _vacation(address: str):
    return _one(
        "SELECT address, mode, first_day, last_day, interval_seconds FROM lookup_vacations_v1 WHERE address = %s",
        address,
    )


def _forward(address: str):
    return _one("SELECT address, destinations, keep_copy FROM lookup_forwards_v1 WHERE address = %s", address)


def split(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().rpartition("@")
    return local, domain.lower().rstrip(".")


def trace(address: str) -> Trace:
    result = Trace(address=address)
    local, domain = split(address)
    if not local or not domain:
        result.rcpt = "501 not an address"
        result.outcomes.append(Outcome("rejected", address, "not an address"))
        return result
    row = _domain(domain)
    if row and int(row["active"]) and (len(local) > 64 or not LOCAL_PART_RE.match(local)):
        result.rcpt = "550 no such user (a local part the directory cannot hold)"
        result.steps.append(f"{domain} is ours, but '{local}' is not a local part the directory can hold")
        result.outcomes.append(Outcome("rejected", address, "invalid local part"))
        return result
    _route(result, f"{local.lower()}@{domain}", [], [])
    result.rcpt = _rcpt_answer(result)
    return result


def _rcpt_answer(result: Trace) -> str:
    kinds = {o.kind for o in result.outcomes}
    top = result.outcomes[0] if len(result.outcomes) == 1 else None
    if top and top.kind == "external" and not top.via:
        return "550 relay not permitted (unless authenticated as a mailbox that may relay)"
    if top and top.kind == "rejected":
        return f"550 {top.reason}"
    if top and top.kind == "deferred":
        return f"451 {top.reason}"
    if top and top.kind == "dropped":
        return "550 alias loop that reaches no mailbox"
    if kinds <= {"dropped", "rejected"}:
        return "250 accepted (but nothing would be delivered)"
    return "250 accepted"


def _route(result: Trace, address: str, via: list[str], handled: list[tuple[str, str]]) -> None:
    local, domain = split(address)
    indent = "  " * len(via)
    row = _domain(domain)
    if not row or not int(row["active"]):
        why = "an inactive domain" if row else "not a local domain"
        result.steps.append(f"{indent}{address}: {why}: sent out (relay)")
        result.outcomes.append(Outcome("external", address, why, via))
        return
    target = row["target"]
    if target != domain and ("domain_alias", address) not in handled:
        new = f"{local}@{target}"
        result.steps.append(f"{indent}{address}: {domain} is a domain alias of {target} -> {new}")
        _route(result, new, [*via, address], [*handled, ("domain_alias", address)])
        return
    mailbox = _mailbox(address)
    if mailbox and not int(mailbox["active"]):
        result.steps.append(f"{indent}{address}: mailbox is disabled: refused (550)")
        result.outcomes.append(Outcome("rejected", address, "mailbox disabled", via))
        return
    if mailbox and int(mailbox["over_quota"]):
        result.steps.append(f"{indent}{address}: mailbox is over quota: deferred (4xx), delivered once below quota")
        result.outcomes.append(Outcome("deferred", address, "mailbox over quota", via))
        return
    if mailbox:
        vacation = _vacation(address)
        info = {
            "filtering": bool(int(mailbox["filtering"])),
            "quota_bytes": int(mailbox["quota_bytes"] or 0),
            "over_quota": False,
            "vacation": vacation["mode"] if vacation else "",
        }
        notes = [
            "filtering on" if info["filtering"] else "filtering OFF (checks skipped when it is the only recipient)",
            f"quota {format_size(info['quota_bytes'])}" if info["quota_bytes"] else "no quota",
        ]
        if vacation:
            notes.append(f"vacation reply ({vacation['mode']} text) to qualifying senders")
        forward = _forward(address) if ("forward", address) not in handled else None
        if forward:
            destinations = [d.strip() for d in forward["destinations"].split(",") if d.strip()]
            keep = bool(int(forward["keep_copy"]))
            copy = "keeping a copy" if keep else "no copy kept"
            result.steps.append(f"{indent}{address}: forwarded ({copy}) -> {', '.join(destinations)}")
            for destination in destinations:
                _route(result, destination.lower(), [*via, address], [*handled, ("forward", address)])
            if not keep:
                if vacation:
                    result.steps.append(
                        f"{indent}{address}: vacation reply ({vacation['mode']} text) to qualifying senders"
                    )
                return
        result.steps.append(f"{indent}{address}: mailbox: delivered to Dovecot (LMTP); " + ", ".join(notes))
        result.outcomes.append(Outcome("mailbox", address, "", via, info))
        return
    for kind, key in (("alias", address), ("catchall", f"@{domain}")):
        alias = _alias(key)
        if not alias or not int(alias["active"]):
            continue
        if (kind, address) in handled:
            continue  # the loop case: Exim skips a router for an address it already handled
        label = "alias" if kind == "alias" else f"catch-all of {domain}"
        destinations = [d.strip() for d in alias["destinations"].split(",") if d.strip()]
        result.steps.append(f"{indent}{address}: {label} -> {', '.join(destinations)}")
        for destination in destinations:
            _route(result, destination.lower(), [*via, address], [*handled, (kind, address)])
        return
    if any((alias := _alias(k)) and int(alias["active"]) for k in (address, f"@{domain}")):
        result.steps.append(f"{indent}{address}: alias loop: this branch is dropped")
        result.outcomes.append(Outcome("dropped", address, "alias loop", via))
        return
    result.steps.append(f"{indent}{address}: no such mailbox or alias: refused (550)")
    result.outcomes.append(Outcome("rejected", address, "no such user", via))
