"""The limits of a domain and of the admin grants that cover it: the one home of every check.

Usage is never stored: it is counted from the current mailboxes and aliases, so it stays
right whoever changes them. A writer locks first (``lock_limits``, or ``lock_limits_of`` for
many domains at once: the domains, then their grants, in id order, so two writers never
deadlock), then checks, then writes, in one transaction. Quotas are bytes; 0 is unlimited.

The services (one mailbox) and the bulk loader (a batch) call the same functions: a batch
is checked as a whole, once, with its total.
"""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db.models import Q

from domains.models import AdminGrant, Domain, names_in_use
from mailadmin import permissions
from mailadmin.lib.sizes import format_size


def lock_names() -> None:
    """Serialise creations of domain and domain-alias names, which share one namespace.

    Each table has its own unique index; the cross-table check (``Domain.names_in_use``) is
    made race-free by taking the same row lock first (the lowest domain row; on SQLite the
    IMMEDIATE transaction already serialises writers).
    """
    list(Domain.objects.select_for_update().order_by("pk").values_list("pk", flat=True)[:1])


def refuse_relayed(domains) -> None:
    """A domain relayed to another host (``Domain.relay_host``) takes no mailboxes or aliases here:
    every writer that adds them locks the domain first, and is refused here, under that lock."""
    relayed = sorted(d.name for d in domains if d.relay_host)
    if relayed:
        raise ValidationError(
            f"{', '.join(relayed)} {'is' if len(relayed) == 1 else 'are'} relayed to another host: "
            "its mailboxes and aliases live there, not here."
        )


def lock_limits(domain: Domain) -> tuple[Domain, list[AdminGrant]]:
    """Lock the domain and every grant covering it (in id order, so no deadlock)."""
    domain = Domain.objects.select_for_update().get(pk=domain.pk)
    refuse_relayed([domain])
    grants = list(AdminGrant.objects.select_for_update().filter(domains=domain).order_by("pk"))
    return domain, grants


def lock_limits_of(names: set[str]) -> tuple[dict[str, Domain], list[tuple[AdminGrant, set[int]]]]:
    """``lock_limits`` for many domains (by canonical name): the domains, then their grants, each
    grant with the ids of the locked domains it covers."""
    domains = {d.name: d for d in Domain.objects.filter(name__in=names).order_by("pk").select_for_update()}
    refuse_relayed(domains.values())
    ids = [d.pk for d in domains.values()]
    covered = defaultdict(set)
    links = AdminGrant.domains.through.objects.filter(domain_id__in=ids).values_list("admingrant_id", "domain_id")
    for grant_id, domain_id in links:
        covered[grant_id].add(domain_id)
    grants = AdminGrant.objects.select_for_update().filter(pk__in=list(covered)).order_by("pk").select_related("admin")
    return domains, [(grant, covered[grant.pk]) for grant in grants]


# --- one domain -------------------------------------------------------------------------


def check_mailbox_quota(domain: Domain, quota_bytes: int) -> None:
    """A mailbox's quota within the domain's largest (which then also rules out unlimited)."""
    if domain.max_quota_bytes and (quota_bytes == 0 or quota_bytes > domain.max_quota_bytes):
        raise ValidationError(
            {
                "quota_bytes": f"The quota of a mailbox in {domain.name} is at most "
                f"{format_size(domain.max_quota_bytes)} (0, unlimited, is not allowed)."
            }
        )


def mailbox_room(domain: Domain) -> int | None:
    """How many more mailboxes the domain may have (None: no limit)."""
    return None if not domain.max_mailboxes else max(domain.max_mailboxes - domain.mailboxes.count(), 0)


def alias_room(domain: Domain) -> int | None:
    """How many more aliases the domain may have (None: no limit)."""
    return None if not domain.max_aliases else max(domain.max_aliases - domain.aliases.count(), 0)


def count_exceeded(domain: Domain, noun: str) -> ValidationError:
    """The refusal when ``noun`` ("mailboxes" or "aliases") would pass the domain's limit."""
    if noun == "mailboxes":
        limit, count = domain.max_mailboxes, domain.mailboxes.count()
    else:
        limit, count = domain.max_aliases, domain.aliases.count()
    return ValidationError(f"{domain.name} may have at most {limit} {noun} and has {count}.")


def check_mailbox_limits(
    domain: Domain,
    grants: list[AdminGrant],
    *,
    new_mailboxes: int,
    old_quota_bytes: int | None,
    new_quota_bytes: int,
    acting_user=None,
) -> None:
    """Would adding ``new_mailboxes`` (0 or 1) or changing one quota break a domain or grant limit?

    Call after ``lock_limits`` in the same transaction. ``old_quota_bytes`` is the quota being
    replaced (None when creating). ``acting_user`` decides how much the messages tell about
    other admins' grants (see ``check_grant``).
    """
    check_mailbox_quota(domain, new_quota_bytes)
    room = mailbox_room(domain)
    if new_mailboxes and room is not None and room < new_mailboxes:
        raise count_exceeded(domain, "mailboxes")
    for grant in grants:
        check_grant(
            grant,
            new_mailboxes=new_mailboxes,
            quota_added=new_quota_bytes - (old_quota_bytes or 0),
            unlimited=new_quota_bytes == 0,
            acting_user=acting_user,
        )


def check_limits_hold(domain: Domain) -> None:
    """A domain's new limits must still hold for what it already has."""
    count = domain.mailboxes.count()
    if domain.max_mailboxes and count > domain.max_mailboxes:
        raise ValidationError({"max_mailboxes": f"The domain already has {count} mailboxes."})
    aliases = domain.aliases.count()
    if domain.max_aliases and aliases > domain.max_aliases:
        raise ValidationError({"max_aliases": f"The domain already has {aliases} aliases."})
    if domain.max_quota_bytes:
        too_big = domain.mailboxes.filter(Q(quota_bytes=0) | Q(quota_bytes__gt=domain.max_quota_bytes)).count()
        if too_big:
            raise ValidationError({"max_quota_bytes": f"{too_big} mailbox(es) have a larger or unlimited quota."})
    check_forwarding_holds(domain)


# --- forwarding: where a domain's mailboxes may send their mail on --------------------------


def outside_destinations(addresses) -> list[str]:
    """The addresses whose domain is neither a domain nor a domain alias of this server."""
    addresses = list(addresses)
    local = names_in_use({address.rpartition("@")[2] for address in addresses})
    return [address for address in addresses if address.rpartition("@")[2] not in local]


def check_forwarding(domain: Domain, destinations) -> None:
    """``destinations`` are allowed for a mailbox of ``domain`` (only local ones when it says so)."""
    if domain.forward_outside:
        return
    outside = outside_destinations(destinations)
    if outside:
        where = f"{domain.display_name} forwards only within this server"
        raise ValidationError({"destinations": f"{where}: {', '.join(outside)} is outside."})


def check_forwarding_holds(domain: Domain) -> None:
    """With forwarding outside switched off, no mailbox of the domain may still forward outside."""
    if domain.forward_outside:
        return
    forwarding = domain.mailboxes.exclude(forward_to="").values_list("address", "forward_to")
    outside = [address for address, to in forwarding if outside_destinations(to.split(", "))]
    if outside:
        shown = ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
        raise ValidationError(
            {"forward_outside": f"{len(outside)} mailbox(es) forward outside this server ({shown}): change them first."}
        )


# --- the grants that cover a domain ---------------------------------------------------------


def check_grant(
    grant: AdminGrant, *, new_mailboxes: int = 0, quota_added: int = 0, unlimited: bool = False, acting_user=None
) -> None:
    """Would ``new_mailboxes`` more, ``quota_added`` more bytes, or an ``unlimited`` quota break ``grant``?

    Another admin's grant may cover domains the acting admin must not know of: its messages then
    name neither that admin nor its usage (the system and superusers get the details).
    """
    private = acting_user is not None and not permissions.is_superuser(acting_user) and grant.admin_id != acting_user.pk
    who = grant.admin.address
    if grant.quota_bytes and unlimited:
        raise ValidationError(
            {
                "quota_bytes": "The domain is also administered under a grant with a limited quota, so a mailbox "
                "cannot have an unlimited quota."
                if private
                else f"The domain is administered by {who} under a limited quota of "
                f"{format_size(grant.quota_bytes)}, so a mailbox cannot have an unlimited quota."
            }
        )
    usage = grant.usage()
    if new_mailboxes and grant.max_mailboxes and usage["mailboxes"] + new_mailboxes > grant.max_mailboxes:
        raise ValidationError(
            "The domain is also administered under another grant, which allows no more mailboxes."
            if private
            else f"The grant of {who} allows {grant.max_mailboxes} mailboxes across its "
            f"domains and {usage['mailboxes']} exist."
        )
    if grant.quota_bytes and usage["quota_bytes"] + quota_added > grant.quota_bytes:
        free = grant.quota_bytes - usage["quota_bytes"]
        raise ValidationError(
            {
                "quota_bytes": "The domain is also administered under another grant, which has not enough "
                "quota left for that."
                if private
                else f"The grant of {who} has {format_size(grant.quota_bytes)} for all its domains; "
                f"{format_size(max(free, 0), zero='0 bytes')} are left."
            }
        )


def check_grant_holds(grant: AdminGrant) -> None:
    """A grant's new limits must still hold for what its domains already have."""
    usage = grant.usage()
    if grant.max_mailboxes and usage["mailboxes"] > grant.max_mailboxes:
        raise ValidationError({"max_mailboxes": f"Its domains already have {usage['mailboxes']} mailboxes."})
    if grant.quota_bytes and usage["quota_bytes"] > grant.quota_bytes:
        raise ValidationError({"quota_bytes": f"Its domains already allocate {format_size(usage['quota_bytes'])}."})
    if grant.quota_bytes and usage["unlimited"]:
        raise ValidationError(
            {
                "quota_bytes": f"{usage['unlimited']} mailbox(es) in its domains have an unlimited "
                "quota, which a limited grant cannot cover."
            }
        )
