"""Where mail to an address goes, explained from the lookup tables Exim reads (``manage.py trace``).

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

from domains.models import relay_route
from mailadmin.lib.addresses import AddressError, normalize_domain
from mailadmin.lib.sizes import format_size
from mailserver.lookup import VACATION_TODAY

# The local parts the RCPT ACL lets through (the rules of mailadmin/lib/addresses.py).
_ATEXT = r"A-Za-z0-9#$&'*+=?^_`{}~-"
LOCAL_PART_RE = re.compile(rf"^[{_ATEXT}]+(\.[{_ATEXT}]+)*$")


@dataclass
class Outcome:
    """One end of the routing tree."""

    kind: str  # mailbox | external (out to another host: relayed) | rejected | deferred | dropped
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
        "SELECT domain, target, is_alias, active, logins_enabled, max_message_bytes, check_blocklists, "
        "relay_host, relay_port, relay_verify, greylist, greylist_delay, greylist_window, greylist_expiry "
        "FROM lookup_domains_v2 "
        "WHERE domain = %s",
        name,
    )


def _address(address: str):
    """The row Exim reads for an address (contract v2), with the vacation reply due today."""
    return _one(
        "SELECT address, deliver, disabled, over_quota, quota_bytes, may_relay, filtering, forward_to, keep_copy, "
        f"alias_to, {VACATION_TODAY} AS vacation, send_limit, rcpt_limit FROM lookup_addresses_v2 WHERE address = %s",
        address,
    )


def _sender_lists(*owners: str) -> list[str]:
    """What the sender lists Exim reads (lookup_senders_v2) hold for these owners, one line each."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT owner, action, COUNT(*) FROM lookup_senders_v2 WHERE owner IN (%s, %s) GROUP BY owner, action",
            list(owners),
        )
        counts = {(owner, action): n for owner, action, n in cursor.fetchall()}
    lines = []
    for owner in owners:
        allowed, refused = counts.get((owner, "allow"), 0), counts.get((owner, "deny"), 0)
        if allowed or refused:
            whose = f"the domain {owner[1:]}" if owner.startswith("@") else owner
            lines.append(f"sender list of {whose}: {allowed} allowed, {refused} refused (allow beats deny; 550)")
    return lines


def _blocklists(domain: str, row) -> str:
    """Which DNS blocklists Exim asks about a client sending to ``domain`` (lookup_blocklists_v2)."""
    if not int(row["check_blocklists"]):
        return f"{domain} does not check the DNS blocklists"
    with connection.cursor() as cursor:
        cursor.execute("SELECT zone FROM lookup_blocklists_v2 WHERE enabled = 1 ORDER BY zone")
        zones = [zone for (zone,) in cursor.fetchall()]
    if not zones:
        return f"{domain} checks the DNS blocklists, but none is enabled"
    return f"a client not logged in and listed by {', '.join(zones)} is refused (550)"


def _greylisting(domain: str, row) -> str:
    """Whether Exim greylists mail to ``domain``, and how (lookup_domains_v2's greylist columns)."""
    if not int(row["greylist"] or 0):
        return ""
    delay, window, expiry = (int(row[k]) for k in ("greylist_delay", "greylist_window", "greylist_expiry"))
    return (
        f"{domain} greylists: a new sender from a client network not on the allow list gets 451 until it retries "
        f"after {delay} s and within {window // 3600} h; one that passed is accepted at once for "
        f"{expiry // 86400} days after its last message"
    )


def _alias_to(address: str) -> str:
    row = _address(address)
    return row["alias_to"] if row else ""


def split(address: str) -> tuple[str, str]:
    """Local part and domain, as Exim looks them up: a Unicode domain (as an SMTPUTF8 client writes
    it) as its A-labels (deploy/exim/40-retry.conf rewrites it so)."""
    local, _, domain = address.strip().rpartition("@")
    domain = domain.lower().rstrip(".")
    if not domain.isascii():
        try:
            domain = normalize_domain(domain)
        except AddressError:
            pass  # (Exim leaves a name it cannot convert as it is: no lookup finds it)
    return local, domain


def trace(address: str) -> Trace:
    result = Trace(address=address)
    local, domain = split(address)
    if not local or not domain:
        result.rcpt = "501 not an address"
        result.outcomes.append(Outcome("rejected", address, "not an address"))
        return result
    row = _domain(domain)
    if row and int(row["active"]) and row["relay_host"]:
        return _relayed(result, f"{local.lower()}@{domain}", row)
    if row and int(row["active"]) and (len(local) > 64 or not LOCAL_PART_RE.match(local)):
        result.rcpt = "550 no such user (a local part the directory cannot hold)"
        result.steps.append(f"{domain} is ours, but '{local}' is not a local part the directory can hold")
        result.outcomes.append(Outcome("rejected", address, "invalid local part"))
        return result
    _route(result, f"{local.lower()}@{domain}", [], [])
    result.rcpt = _rcpt_answer(result)
    if row and int(row["active"]):
        result.steps.append(_blocklists(domain, row))
        result.steps.extend(_sender_lists(f"{local.lower()}@{row['target']}", f"@{row['target']}"))
        if greylisting := _greylisting(domain, row):
            result.steps.append(greylisting)
    if row and int(row["active"]) and int(row["max_message_bytes"] or 0) > 0:
        size = int(row["max_message_bytes"])
        result.steps.append(f"{domain} accepts messages of at most {format_size(size)} ({size} bytes; 552 above)")
    if logins := _logins(f"{local.lower()}@{domain}"):
        result.steps.append(logins)
    own = _address(f"{local.lower()}@{domain}")
    if own and (int(own["send_limit"] or 0) or int(own["rcpt_limit"] or 0)):
        limits = [f"{own['send_limit']} messages" if int(own["send_limit"]) else "any number of messages"]
        limits.append(f"{own['rcpt_limit']} recipients" if int(own["rcpt_limit"]) else "any number of recipients")
        result.steps.append(f"{local.lower()}@{domain} may send {' and '.join(limits)} an hour (SMTP AUTH; 450 over)")
    return result


def _relayed(result: Trace, address: str, row) -> Trace:
    """A relay (backup MX) domain: taken for the relay host's recipients, passed on to it."""
    domain = address.rpartition("@")[2]
    host = relay_route(row["relay_host"], row["relay_port"])
    result.steps.append(f"{domain} is relayed to {host} (a backup MX here: its mailboxes are there)")
    if row["relay_verify"] == "callout":
        result.rcpt = f"250 if {host} accepts it when asked now (a callout; 451 while it cannot be asked)"
        result.outcomes.append(Outcome("external", address, f"to {host}, if it accepts the address"))
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT address FROM lookup_relay_recipients_v2 WHERE address IN (%s, %s)", [address, f"@{domain}"]
            )
            listed = [a for (a,) in cursor.fetchall()]
        if listed:
            why = "every address is" if f"@{domain}" in listed and address not in listed else "it is"
            result.rcpt = "250 accepted"
            result.steps.append(f"{why} on the relay list of {domain}")
            result.outcomes.append(Outcome("external", address, f"to {host} (queued here while it is down)"))
        else:
            result.rcpt = "550 no such user (not on the relay list)"
            result.outcomes.append(Outcome("rejected", address, f"not on the relay list of {domain}"))
    result.steps.append(_blocklists(domain, row))
    return result


PROTOCOL_NAMES = {"imap": "IMAP", "pop3": "POP3", "smtp": "SMTP submission", "sieve": "ManageSieve"}


def _logins(address: str) -> str:
    """What Dovecot (and Exim's SMTP AUTH through it) lets the mailbox's mail programs do, from the
    row of lookup_logins_v2 that Dovecot reads; empty for an address that is no mailbox."""
    row = _one(
        "SELECT login_allowed, app_passwords_only, imap, pop3, smtp, sieve FROM lookup_logins_v2 WHERE address = %s",
        address,
    )
    if row is None:
        return ""
    if not int(row["login_allowed"]):
        return f"{address}: mail programs may not log in (mailbox or domain inactive, or logins off)"
    allowed = [name for key, name in PROTOCOL_NAMES.items() if int(row[key])]
    refused = [name for key, name in PROTOCOL_NAMES.items() if not int(row[key])]
    text = f"{address}: mail programs may log in over {', '.join(allowed) or 'nothing'}"
    text += f" (not {', '.join(refused)})" if refused and allowed else ""
    if int(row["app_passwords_only"]):
        text += ", with app passwords only"
    return text


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
    row = _address(address)
    if row and int(row["disabled"]):
        result.steps.append(f"{indent}{address}: mailbox is disabled: refused (550)")
        result.outcomes.append(Outcome("rejected", address, "mailbox disabled", via))
        return
    if row and int(row["over_quota"]):
        result.steps.append(f"{indent}{address}: mailbox is over quota: deferred (4xx), delivered once below quota")
        result.outcomes.append(Outcome("deferred", address, "mailbox over quota", via))
        return
    if row and int(row["deliver"]):
        vacation = row["vacation"] or ""
        info = {
            "filtering": bool(int(row["filtering"])),
            "quota_bytes": int(row["quota_bytes"] or 0),
            "over_quota": False,
            "vacation": vacation,
        }
        notes = [
            "filtering on" if info["filtering"] else "filtering OFF (checks skipped when it is the only recipient)",
            f"quota {format_size(info['quota_bytes'])}" if info["quota_bytes"] else "no quota",
        ]
        if vacation:
            notes.append(f"vacation reply ({vacation} text) to qualifying senders")
        if row["forward_to"] and ("forward", address) not in handled:
            destinations = [d.strip() for d in row["forward_to"].split(",") if d.strip()]
            keep = bool(int(row["keep_copy"]))
            copy = "keeping a copy" if keep else "no copy kept"
            result.steps.append(f"{indent}{address}: forwarded ({copy}) -> {', '.join(destinations)}")
            for destination in destinations:
                _route(result, destination.lower(), [*via, address], [*handled, ("forward", address)])
            if not keep:
                if vacation:
                    result.steps.append(f"{indent}{address}: vacation reply ({vacation} text) to qualifying senders")
                return
        result.steps.append(f"{indent}{address}: mailbox: delivered to Dovecot (LMTP); " + ", ".join(notes))
        result.outcomes.append(Outcome("mailbox", address, "", via, info))
        return
    for kind, key in (("alias", address), ("catchall", f"@{domain}")):
        alias_to = _alias_to(key)
        if not alias_to:
            continue
        if (kind, address) in handled:
            continue  # the loop case: Exim skips a router for an address it already handled
        label = "alias" if kind == "alias" else f"catch-all of {domain}"
        destinations = [d.strip() for d in alias_to.split(",") if d.strip()]
        result.steps.append(f"{indent}{address}: {label} -> {', '.join(destinations)}")
        for destination in destinations:
            _route(result, destination.lower(), [*via, address], [*handled, (kind, address)])
        return
    if any(_alias_to(k) for k in (address, f"@{domain}")):
        result.steps.append(f"{indent}{address}: alias loop: this branch is dropped")
        result.outcomes.append(Outcome("dropped", address, "alias loop", via))
        return
    result.steps.append(f"{indent}{address}: no such mailbox or alias: refused (550)")
    result.outcomes.append(Outcome("rejected", address, "no such user", via))
