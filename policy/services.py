"""Writes to the sender lists (``policy.models.SenderRule``): add, delete; and what a list holds.
The server's DNS blocklists (``policy.models.DnsBlocklist``): add, change, delete.

Keyword-only, one transaction each, permission-checked (``mailadmin.permissions``), audited.
"""

from __future__ import annotations

import ipaddress

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from domains.models import Domain
from mailadmin import permissions
from mailadmin.audit import record, snapshot
from mailadmin.lib.addresses import AddressError, normalize_domain
from mailadmin.permissions import require
from policy.models import MAX_BLOCKLISTS, MAX_RULES_PER_OWNER, DnsBlocklist, SenderRule


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
    require(may_edit(acting_user, mailbox or domain), "You may not change that sender list.")
    if mailbox is not None:
        if not mailbox.has_mailbox:
            raise ValidationError(f"{mailbox} is a panel-only account without a mailbox.")
        # (the list's owner row locked: two forms posted at once cannot both pass the count or the unique check)
        # (no join: PostgreSQL locks no outer join, and a panel-only account has no domain)
        mailbox = get_user_model().objects.select_for_update().get(pk=mailbox.pk)
        domain = mailbox.domain
    else:
        domain = Domain.objects.select_for_update().get(pk=domain.pk)
    rule = SenderRule(domain=domain, mailbox=mailbox, action=action)
    rule.set_pattern(pattern)
    if rules_of(domain=domain, mailbox=mailbox).count() >= MAX_RULES_PER_OWNER:
        raise ValidationError(f"A list holds at most {MAX_RULES_PER_OWNER} entries: remove some first.")
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
    require(may_edit(acting_user, rule), "You may not change that sender list.")
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
    require(permissions.can_manage_blocklists(acting_user), "Only superusers change the DNS blocklists.")
    if DnsBlocklist.objects.count() >= MAX_BLOCKLISTS:
        raise ValidationError(
            f"At most {MAX_BLOCKLISTS} blocklists: each is a DNS query for every message from outside."
        )
    blocklist = DnsBlocklist(zone=zone, name=name, answers=answers, enabled=enabled)
    blocklist.full_clean()
    try:
        with transaction.atomic():  # (the same zone added twice at once: the unique index decides)
            blocklist.save()
    except IntegrityError:
        raise ValidationError({"zone": f"{blocklist.zone} is already a blocklist."}) from None
    record(acting_user=acting_user, origin=origin, action="blocklist.add", obj=blocklist, after=snapshot(blocklist))
    return blocklist


@transaction.atomic
def blocklist_update(*, acting_user, blocklist: DnsBlocklist, origin: str, **fields) -> DnsBlocklist:
    """Change a blocklist's ``name``, ``answers`` or ``enabled`` (its zone is what it is)."""
    require(permissions.can_manage_blocklists(acting_user), "Only superusers change the DNS blocklists.")
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
    require(permissions.can_manage_blocklists(acting_user), "Only superusers change the DNS blocklists.")
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
        raise ValidationError(f"{(address or '')[:60]!r} is not an IPv4 or IPv6 address.") from None
    reversed_name = client.reverse_pointer.rsplit(".", 2)[0]  # (without in-addr.arpa / ip6.arpa)
    ask, found = resolver(), []
    for blocklist in DnsBlocklist.objects.filter(enabled=True).order_by("zone"):
        row = {"zone": blocklist.zone, "name": blocklist.name, "answers": [], "listed": False, "error": ""}
        try:
            row["answers"] = sorted(r.address for r in ask.resolve(f"{reversed_name}.{blocklist.zone}", "A"))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            pass
        except dns.exception.DNSException as exc:
            row["error"] = f"no answer ({type(exc).__name__}): Exim would not refuse"
        codes, meanings = set(blocklist.codes.split(",")), blocklist.meaning_of()
        row["listed"] = any(a in codes for a in row["answers"])
        row["meaning"] = ", ".join(meanings[a] for a in row["answers"] if a in meanings)
        found.append(row)
    return found
