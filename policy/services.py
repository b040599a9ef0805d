"""Writes to the sender lists (``policy.models.SenderRule``): add, delete; and what a list holds.
The server's DNS blocklists (``policy.models.DnsBlocklist``): add, change, delete.
Greylisting's allow list (``policy.models.GreylistAllow``): add, delete; and the expiry of its triplets.

Keyword-only, one transaction each, permission-checked (``mailadmin.permissions``), audited.
"""

from __future__ import annotations

import ipaddress
import time

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from domains.models import Domain
from mailadmin import permissions
from mailadmin.audit import record, snapshot
from mailadmin.lib.addresses import AddressError, normalize_domain
from mailadmin.permissions import require
from policy.models import (
    MAX_BLOCKLISTS,
    MAX_GREYLIST_ALLOWED,
    MAX_RULES_PER_OWNER,
    DnsBlocklist,
    GreylistAllow,
    GreylistTriplet,
    SenderRule,
    parse_greylist_allow,
)


def rules_of(*, domain=None, mailbox=None):
    """The rules of one list: a mailbox's own (``mailbox``), or its domain-wide ones (``domain``)."""
    if mailbox is not None:
        return SenderRule.objects.filter(mailbox=mailbox)
    return SenderRule.objects.filter(domain=domain, mailbox__isnull=True)


def may_edit(acting_user, rule_or_owner) -> bool:
    """Whether ``acting_user`` (None: the system) may change the list a rule, mailbox or domain is."""
    if acting_user is None:
        return True
    if isinstance(rule_or_owner, SenderRule):
        rule_or_owner = rule_or_owner.mailbox if rule_or_owner.mailbox_id else rule_or_owner.domain
    if isinstance(rule_or_owner, Domain):
        return permissions.can_edit_domain_sender_list(acting_user, rule_or_owner)
    return permissions.can_edit_sender_list(acting_user, rule_or_owner)


@transaction.atomic
def sender_rule_add(*, acting_user, action: str, pattern: str, origin: str, domain=None, mailbox=None) -> SenderRule:
    """Allow or refuse ``pattern`` on a mailbox's list (``mailbox``) or a domain's (``domain``)."""
    if (domain is None) == (mailbox is None):
        raise ValueError("sender_rule_add takes a domain or a mailbox")
    require(may_edit(acting_user, mailbox or domain), gettext("You may not change that sender list."))
    if mailbox is not None:
        if not mailbox.has_mailbox:
            raise ValidationError(
                gettext("%(account)s is a panel-only account without a mailbox.") % {"account": mailbox}
            )
        # (the list's owner row locked: two forms posted at once cannot both pass the count or the unique check)
        # (no join: PostgreSQL locks no outer join, and a panel-only account has no domain)
        mailbox = get_user_model().objects.select_for_update().get(pk=mailbox.pk)
        domain = mailbox.domain
    else:
        domain = Domain.objects.select_for_update().get(pk=domain.pk)
    rule = SenderRule(domain=domain, mailbox=mailbox, action=action)
    rule.set_pattern(pattern)
    if rules_of(domain=domain, mailbox=mailbox).count() >= MAX_RULES_PER_OWNER:
        text = gettext("A list holds at most %(n)s entries: remove some first.")
        raise ValidationError(text % {"n": MAX_RULES_PER_OWNER})
    rule.full_clean()
    rule.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="sender_rule.add",
        obj=rule,
        domain=domain,
        after=snapshot(rule),
    )
    return rule


@transaction.atomic
def sender_rule_delete(*, acting_user, rule: SenderRule, origin: str) -> None:
    require(may_edit(acting_user, rule), gettext("You may not change that sender list."))
    before = snapshot(rule)
    record(
        acting_user=acting_user, origin=origin, action="sender_rule.delete", obj=rule, domain=rule.domain, before=before
    )
    rule.delete()


# --- DNS blocklists ------------------------------------------------------------------------------

BLOCKLIST_FIELDS = ("name", "answers", "enabled")


def blocklist_named(zone: str) -> DnsBlocklist | None:
    """The blocklist of ``zone`` as typed (any case, a final dot, Unicode), or None."""
    try:
        return DnsBlocklist.objects.filter(zone=normalize_domain(zone)).first()
    except AddressError:
        return None


def blocklist_data(blocklist: DnsBlocklist) -> dict:
    """A blocklist as the CLI and the API show it."""
    return {
        "zone": blocklist.zone,
        "name": blocklist.name,
        "answers": blocklist.answers.splitlines(),
        "enabled": blocklist.enabled,
        "created": blocklist.created,
    }


@transaction.atomic
def blocklist_add(*, acting_user, zone: str, name: str, answers: str, origin: str, enabled: bool = True):
    require(permissions.can_manage_blocklists(acting_user), gettext("Only superusers change the DNS blocklists."))
    if DnsBlocklist.objects.count() >= MAX_BLOCKLISTS:
        text = gettext("At most %(n)s blocklists: each is a DNS query for every message from outside.")
        raise ValidationError(text % {"n": MAX_BLOCKLISTS})
    blocklist = DnsBlocklist(zone=zone, name=name, answers=answers, enabled=enabled)
    blocklist.full_clean()
    try:
        with transaction.atomic():  # (the same zone added twice at once: the unique index decides)
            blocklist.save()
    except IntegrityError:
        text = gettext("%(zone)s is already a blocklist.")
        raise ValidationError({"zone": text % {"zone": blocklist.zone}}) from None
    record(acting_user=acting_user, origin=origin, action="blocklist.add", obj=blocklist, after=snapshot(blocklist))
    return blocklist


@transaction.atomic
def blocklist_update(*, acting_user, blocklist: DnsBlocklist, origin: str, **fields) -> DnsBlocklist:
    """Change a blocklist's ``name``, ``answers`` or ``enabled`` (its zone is what it is)."""
    require(permissions.can_manage_blocklists(acting_user), gettext("Only superusers change the DNS blocklists."))
    unknown = set(fields) - set(BLOCKLIST_FIELDS)
    if unknown:
        raise ValueError(f"blocklist_update does not take {sorted(unknown)}")
    blocklist = DnsBlocklist.objects.select_for_update().get(pk=blocklist.pk)
    before = snapshot(blocklist)
    for key, value in fields.items():
        setattr(blocklist, key, value)
    blocklist.full_clean()
    blocklist.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="blocklist.update",
        obj=blocklist,
        before=before,
        after=snapshot(blocklist),
    )
    return blocklist


@transaction.atomic
def blocklist_delete(*, acting_user, blocklist: DnsBlocklist, origin: str) -> None:
    require(permissions.can_manage_blocklists(acting_user), gettext("Only superusers change the DNS blocklists."))
    record(acting_user=acting_user, origin=origin, action="blocklist.delete", obj=blocklist, before=snapshot(blocklist))
    blocklist.delete()


def client_listings(address: str) -> list[dict]:
    """What each enabled blocklist says of a client address now, asked as Exim asks (the reversed
    address under the zone) through the panel's resolver (MAIL_DNS_RESOLVERS): per list its answers,
    whether one of them is among its codes (Exim would refuse), what they mean, or the DNS error
    (Exim would not refuse). A ValidationError for something that is not an IP address."""
    import dns.exception
    import dns.resolver

    from domains.dnscheck import resolver

    try:
        client = ipaddress.ip_address((address or "").strip())
    except ValueError:
        text = gettext("%(value)r is not an IPv4 or IPv6 address.")
        raise ValidationError(text % {"value": (address or "")[:60]}) from None
    reversed_name = client.reverse_pointer.rsplit(".", 2)[0]  # (without in-addr.arpa / ip6.arpa)
    ask, found = resolver(), []
    for blocklist in DnsBlocklist.objects.filter(enabled=True).order_by("zone"):
        row = {"zone": blocklist.zone, "name": blocklist.name, "answers": [], "listed": False, "error": ""}
        try:
            row["answers"] = sorted(r.address for r in ask.resolve(f"{reversed_name}.{blocklist.zone}", "A"))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            pass
        except dns.exception.DNSException as exc:
            row["error"] = gettext("no answer (%(error)s): Exim would not refuse") % {"error": type(exc).__name__}
        codes, meanings = set(blocklist.codes.split(",")), blocklist.meaning_of()
        row["listed"] = any(a in codes for a in row["answers"])
        row["meaning"] = ", ".join(meanings[a] for a in row["answers"] if a in meanings)
        found.append(row)
    return found


# --- Greylisting (policy.models.GreylistAllow, GreylistTriplet) --------------------------------


def greylist_allow_named(pattern: str) -> GreylistAllow | None:
    """The allow-list entry of ``pattern`` as typed (any case, Unicode, a network in any form), or None."""
    try:
        canonical, _ = parse_greylist_allow(pattern)
    except ValidationError:
        return None
    return GreylistAllow.objects.filter(pattern=canonical).first()


def greylist_allow_data(entry: GreylistAllow) -> dict:
    """An allow-list entry as the CLI and the API show it."""
    return {
        "id": entry.pk,
        "pattern": entry.pattern,
        "kind": "network" if entry.is_network else "sender domain",
        "note": entry.note,
        "created": entry.created,
    }


@transaction.atomic
def greylist_allow_add(*, acting_user, pattern: str, origin: str, note: str = "") -> GreylistAllow:
    require(
        permissions.can_manage_greylisting(acting_user), gettext("Only superusers change the greylisting allow list.")
    )
    if GreylistAllow.objects.count() >= MAX_GREYLIST_ALLOWED:
        text = gettext("At most %(n)s entries: Exim reads the whole list for each message.")
        raise ValidationError(text % {"n": MAX_GREYLIST_ALLOWED})
    entry = GreylistAllow(pattern=pattern, note=note)
    entry.full_clean(validate_unique=False)
    try:
        with transaction.atomic():  # (the same entry added twice at once: the unique index decides)
            entry.save()
    except IntegrityError:
        text = gettext("%(pattern)s is already on the allow list.")
        raise ValidationError({"pattern": text % {"pattern": entry.pattern}}) from None
    record(acting_user=acting_user, origin=origin, action="greylist.allow", obj=entry, after=snapshot(entry))
    return entry


@transaction.atomic
def greylist_allow_delete(*, acting_user, entry: GreylistAllow, origin: str) -> None:
    require(
        permissions.can_manage_greylisting(acting_user), gettext("Only superusers change the greylisting allow list.")
    )
    record(acting_user=acting_user, origin=origin, action="greylist.disallow", obj=entry, before=snapshot(entry))
    entry.delete()


def greylist_expire(now: int | None = None) -> int:
    """Delete the triplets greylisting no longer needs (the daily job, ``manage.py greylist expire``):
    those never retried within their domain's window, those that passed but brought no mail for
    their domain's expiry, and those of domains no longer hosted once the longest expiry is over.
    One pair of statements per distinct (window, expiry) of the domains. Returns how many went."""
    now = int(time.time()) if now is None else now
    gone = 0
    times = list(Domain.objects.values_list("greylist_window_hours", "greylist_expiry_days").distinct())
    for window, expiry in times:
        names = Domain.objects.filter(greylist_window_hours=window, greylist_expiry_days=expiry).values("name")
        ours = GreylistTriplet.objects.filter(domain__in=names)
        gone += ours.filter(passed=0, first_seen__lt=now - window * 3600).delete()[0]
        gone += ours.filter(last_seen__lt=now - expiry * 86400).delete()[0]
    longest = max([expiry * 86400 for _, expiry in times] + [36 * 86400])
    orphans = GreylistTriplet.objects.exclude(domain__in=Domain.objects.values("name"))
    gone += orphans.filter(last_seen__lt=now - longest).delete()[0]
    return gone


def greylist_counts(domain=None) -> dict:
    """How many senders wait for their retry and how many have passed (one domain's, or all)."""
    rows = GreylistTriplet.objects.all() if domain is None else GreylistTriplet.objects.filter(domain=domain.name)
    passed = rows.filter(passed=1).count()
    return {"waiting": rows.count() - passed, "passed": passed}
