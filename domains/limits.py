"""The limits of a domain and of the admin grants that cover it: the one home of every check.

Usage is read from the totals the database keeps by triggers in the transaction of every write
(``accounts.totals``, read through ``Mailbox.objects.totals_by_domain``: ``counts``), so it stays
right whoever changes the mailboxes and aliases, and costs one row whatever a domain's size
(counting a domain of 100,000 mailboxes at each creation did not). A writer locks first
(``lock_limits``, or ``lock_limits_of`` for many domains at once: the domains, then their grants,
in id order, so two writers never deadlock), then checks, then writes, in one transaction.
Quotas are bytes; 0 is unlimited.

The services (one mailbox) and the bulk loader (a batch) call the same functions: a batch
is checked as a whole, once, with its total.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext, ngettext

from domains.models import AdminGrant, Domain, names_in_use
from mailadmin import permissions
from mailadmin.templatetags import panel


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
            ngettext(
                "%(domains)s is relayed to another host: its mailboxes and aliases live there, not here.",
                "%(domains)s are relayed to another host: its mailboxes and aliases live there, not here.",
                len(relayed),
            )
            % {"domains": ", ".join(relayed)}
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
                "quota_bytes": gettext(
                    "The quota of a mailbox in %(domain)s is at most %(size)s (0, unlimited, is not allowed)."
                )
                % {"domain": domain.name, "size": panel.quota(domain.max_quota_bytes)}
            }
        )


def counts(domain: Domain) -> dict:
    """The domain's figures now (``mailboxes``, ``aliases``, ``unlimited`` ...), from its totals row,
    read afresh: after ``lock_limits`` they are what the last writer committed plus this
    transaction's own writes. A domain without its row (a dump restored without its triggers, which
    ``manage.py lookup_tables check`` names) is counted instead, so its limits still hold."""
    figures = get_user_model().objects.totals_by_domain([domain]).get(domain.pk)
    if figures is None:
        return {"mailboxes": domain.mailboxes.count(), "aliases": domain.aliases.count()}
    return figures


def mailbox_room(domain: Domain) -> int | None:
    """How many more mailboxes the domain may have (None: no limit)."""
    return None if not domain.max_mailboxes else max(domain.max_mailboxes - counts(domain)["mailboxes"], 0)


def alias_room(domain: Domain) -> int | None:
    """How many more aliases the domain may have (None: no limit)."""
    return None if not domain.max_aliases else max(domain.max_aliases - counts(domain)["aliases"], 0)


def count_exceeded(domain: Domain, noun: str) -> ValidationError:
    """The refusal when ``noun`` ("mailboxes" or "aliases") would pass the domain's limit."""
    if noun == "mailboxes":
        limit, count = domain.max_mailboxes, counts(domain)["mailboxes"]
        text = ngettext(
            "%(domain)s may have at most %(limit)s mailbox and has %(count)s.",
            "%(domain)s may have at most %(limit)s mailboxes and has %(count)s.",
            limit,
        )
    else:
        limit, count = domain.max_aliases, counts(domain)["aliases"]
        text = ngettext(
            "%(domain)s may have at most %(limit)s alias and has %(count)s.",
            "%(domain)s may have at most %(limit)s aliases and has %(count)s.",
            limit,
        )
    return ValidationError(text % {"domain": domain.name, "limit": limit, "count": count})


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
    figures = counts(domain)
    count = figures["mailboxes"]
    if domain.max_mailboxes and count > domain.max_mailboxes:
        text = ngettext("The domain already has %(n)s mailbox.", "The domain already has %(n)s mailboxes.", count)
        raise ValidationError({"max_mailboxes": text % {"n": count}})
    aliases = figures["aliases"]
    if domain.max_aliases and aliases > domain.max_aliases:
        text = ngettext("The domain already has %(n)s alias.", "The domain already has %(n)s aliases.", aliases)
        raise ValidationError({"max_aliases": text % {"n": aliases}})
    if domain.max_quota_bytes:
        too_big = domain.mailboxes.filter(Q(quota_bytes=0) | Q(quota_bytes__gt=domain.max_quota_bytes)).count()
        if too_big:
            text = ngettext(
                "%(n)s mailbox has a larger or unlimited quota.",
                "%(n)s mailboxes have a larger or unlimited quota.",
                too_big,
            )
            raise ValidationError({"max_quota_bytes": text % {"n": too_big}})
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
        text = ngettext(
            "%(domain)s forwards only within this server: %(addresses)s is outside.",
            "%(domain)s forwards only within this server: %(addresses)s are outside.",
            len(outside),
        )
        raise ValidationError({"destinations": text % {"domain": domain.display_name, "addresses": ", ".join(outside)}})


def check_forwarding_holds(domain: Domain) -> None:
    """With forwarding outside switched off, no mailbox of the domain may still forward outside."""
    if domain.forward_outside:
        return
    forwarding = domain.mailboxes.exclude(forward_to="").values_list("address", "forward_to")
    outside = [address for address, to in forwarding if outside_destinations(to.split(", "))]
    if outside:
        shown = ", ".join(outside[:5])
        if len(outside) > 5:
            shown = gettext("%(addresses)s and %(n)s more") % {"addresses": shown, "n": len(outside) - 5}
        text = ngettext(
            "%(n)s mailbox forwards outside this server (%(addresses)s): change it first.",
            "%(n)s mailboxes forward outside this server (%(addresses)s): change them first.",
            len(outside),
        )
        raise ValidationError({"forward_outside": text % {"n": len(outside), "addresses": shown}})


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
                "quota_bytes": gettext(
                    "The domain is also administered under a grant with a limited quota, so a mailbox cannot have "
                    "an unlimited quota."
                )
                if private
                else gettext(
                    "The domain is administered by %(admin)s under a limited quota of %(size)s, so a mailbox cannot "
                    "have an unlimited quota."
                )
                % {"admin": who, "size": panel.quota(grant.quota_bytes)}
            }
        )
    usage = grant.usage()
    if new_mailboxes and grant.max_mailboxes and usage["mailboxes"] + new_mailboxes > grant.max_mailboxes:
        raise ValidationError(
            gettext("The domain is also administered under another grant, which allows no more mailboxes.")
            if private
            else ngettext(
                "The grant of %(admin)s allows %(limit)s mailbox across its domains and %(count)s exist.",
                "The grant of %(admin)s allows %(limit)s mailboxes across its domains and %(count)s exist.",
                grant.max_mailboxes,
            )
            % {"admin": who, "limit": grant.max_mailboxes, "count": usage["mailboxes"]}
        )
    if grant.quota_bytes and usage["quota_bytes"] + quota_added > grant.quota_bytes:
        free = grant.quota_bytes - usage["quota_bytes"]
        raise ValidationError(
            {
                "quota_bytes": gettext(
                    "The domain is also administered under another grant, which has not enough quota left for that."
                )
                if private
                else gettext("The grant of %(admin)s has %(size)s for all its domains; %(left)s are left.")
                % {"admin": who, "size": panel.quota(grant.quota_bytes), "left": panel.size(max(free, 0))}
            }
        )


def check_grant_holds(grant: AdminGrant) -> None:
    """A grant's new limits must still hold for what its domains already have."""
    usage = grant.usage()
    if grant.max_mailboxes and usage["mailboxes"] > grant.max_mailboxes:
        count = usage["mailboxes"]
        text = ngettext("Its domains already have %(n)s mailbox.", "Its domains already have %(n)s mailboxes.", count)
        raise ValidationError({"max_mailboxes": text % {"n": count}})
    if grant.quota_bytes and usage["quota_bytes"] > grant.quota_bytes:
        allocated = panel.quota(usage["quota_bytes"])
        raise ValidationError({"quota_bytes": gettext("Its domains already allocate %(size)s.") % {"size": allocated}})
    if grant.quota_bytes and usage["unlimited"]:
        raise ValidationError(
            {
                "quota_bytes": ngettext(
                    "%(n)s mailbox in its domains has an unlimited quota, which a limited grant cannot cover.",
                    "%(n)s mailboxes in its domains have an unlimited quota, which a limited grant cannot cover.",
                    usage["unlimited"],
                )
                % {"n": usage["unlimited"]}
            }
        )
