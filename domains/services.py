"""Writes to domains, domain aliases and admin grants, and the shared limit checks.

Every function takes keyword-only arguments and ``acting_user`` (a mailbox,
or None for the system and the command line run as root), runs in one
transaction, validates with ``full_clean`` and writes its audit row.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from domains.models import AdminGrant, Domain, DomainAlias
from mailadmin import permissions
from mailadmin.audit import record, snapshot
from mailadmin.lib.addresses import AddressError, normalize_domain
from mailadmin.lib.sizes import format_size
from mailadmin.permissions import require

DOMAIN_SETTINGS = (
    "description",
    "active",
    "logins_enabled",
    "default_may_relay",
    "max_mailboxes",
    "max_aliases",
    "max_quota_bytes",
    "default_quota_bytes",
)


def _allowed(acting_user, predicate, *args) -> bool:
    return acting_user is None or predicate(acting_user, *args)


def domain_name_from(value: str, field: str = "name") -> str:
    try:
        return normalize_domain(value)
    except AddressError as exc:
        raise ValidationError({field: str(exc)}) from None


def get_domain(name: str) -> Domain:
    """The domain of that name (any spelling, U-label or A-label), or ValidationError."""
    ascii_name = domain_name_from(name, "domain")
    try:
        return Domain.objects.get(name=ascii_name)
    except Domain.DoesNotExist:
        raise ValidationError({"domain": f"No domain {ascii_name}."}) from None


@transaction.atomic
def domain_create(*, acting_user, name: str, origin: str = "cli", **fields) -> Domain:
    require(acting_user is None or permissions.can_change_limits(acting_user), "Only superusers create domains.")
    unknown = set(fields) - set(DOMAIN_SETTINGS)
    if unknown:
        raise ValidationError(f"Unknown domain setting(s): {', '.join(sorted(unknown))}.")
    domain = Domain(name=domain_name_from(name), **fields)
    _lock_names()
    domain.full_clean()
    domain.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="domain.create",
        obj=domain,
        domain=domain,
        after=snapshot(domain),
    )
    return domain


@transaction.atomic
def domain_update(*, acting_user, domain: Domain, origin: str = "cli", **fields) -> Domain:
    """Change settings, flags or limits: superusers only (admins never change their limits)."""
    require(
        acting_user is None or permissions.can_change_limits(acting_user),
        "Only superusers change a domain's settings and limits.",
    )
    unknown = set(fields) - set(DOMAIN_SETTINGS)
    if unknown:
        raise ValidationError(f"Unknown domain setting(s): {', '.join(sorted(unknown))}.")
    domain = Domain.objects.select_for_update().get(pk=domain.pk)
    before = snapshot(domain)
    for key, value in fields.items():
        setattr(domain, key, value)
    domain.full_clean()
    _check_limits_hold(domain)
    domain.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="domain.update",
        obj=domain,
        domain=domain,
        before=before,
        after=snapshot(domain),
    )
    return domain


def _check_limits_hold(domain: Domain) -> None:
    """New limits must still hold for what the domain already has."""
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


@transaction.atomic
def domain_delete(*, acting_user, domain: Domain, origin: str = "cli", force: bool = False) -> None:
    """Delete a domain; with mailboxes in it only with ``force`` (which deletes them too)."""
    require(acting_user is None or permissions.can_change_limits(acting_user), "Only superusers delete domains.")
    domain = Domain.objects.select_for_update().get(pk=domain.pk)
    count = domain.mailboxes.count()
    if count and not force:
        raise ValidationError(f"{domain.name} still has {count} mailbox(es); delete them first or force it.")
    before = snapshot(domain)
    from accounts.services import archive_request  # the mail of each mailbox is archived, not lost

    for mailbox in domain.mailboxes.all():
        archive_request(mailbox=mailbox, acting_user=acting_user)
    domain.mailboxes.all().delete()
    domain.delete()
    record(acting_user=acting_user, origin=origin, action="domain.delete", obj=domain, domain=domain, before=before)


@transaction.atomic
def domain_alias_create(
    *, acting_user, name: str, target: Domain, active: bool = True, origin: str = "cli"
) -> DomainAlias:
    _require_domain_alias_right(acting_user, target)
    alias = DomainAlias(name=domain_name_from(name), target=target, active=active)
    _lock_names()
    alias.full_clean()
    alias.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="domain_alias.create",
        obj=alias,
        domain=target,
        after=snapshot(alias),
    )
    return alias


@transaction.atomic
def domain_alias_update(*, acting_user, alias: DomainAlias, active: bool, origin: str = "cli") -> DomainAlias:
    _require_domain_alias_right(acting_user, alias.target)
    before = snapshot(alias)
    alias.active = active
    alias.full_clean()
    alias.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="domain_alias.update",
        obj=alias,
        domain=alias.target,
        before=before,
        after=snapshot(alias),
    )
    return alias


@transaction.atomic
def domain_alias_delete(*, acting_user, alias: DomainAlias, origin: str = "cli") -> None:
    _require_domain_alias_right(acting_user, alias.target)
    before = snapshot(alias)
    alias.delete()
    record(
        acting_user=acting_user,
        origin=origin,
        action="domain_alias.delete",
        obj=alias,
        domain=alias.target,
        before=before,
    )


def _require_domain_alias_right(acting_user, target: Domain) -> None:
    """Adding, switching and deleting a domain alias: the same right (superusers)."""
    require(_allowed(acting_user, permissions.can_manage_domain, target), "You do not manage that domain.")
    require(
        acting_user is None or permissions.can_manage_domain_aliases(acting_user),
        "Only superusers add domain aliases, or switch or delete them: a domain alias makes its name local "
        "for every sender here.",
    )


def _lock_names() -> None:
    """Serialise creations of domain and domain-alias names, which share one namespace.

    Each table has its own unique index; the cross-table check in ``clean`` is
    made race-free by taking the same row lock first (the lowest domain row;
    on SQLite the IMMEDIATE transaction already serialises writers).
    """
    list(Domain.objects.select_for_update().order_by("pk").values_list("pk", flat=True)[:1])


# --- limits shared by a domain and the grants that cover it -----------------


def lock_limits(domain: Domain) -> tuple[Domain, list[AdminGrant]]:
    """Lock the domain and every grant covering it (in id order, so no deadlock)."""
    domain = Domain.objects.select_for_update().get(pk=domain.pk)
    grants = list(AdminGrant.objects.select_for_update().filter(domains=domain).order_by("pk"))
    return domain, grants


def check_mailbox_limits(
    domain: Domain,
    grants: list[AdminGrant],
    *,
    new_mailboxes: int,
    old_quota_bytes: int | None,
    new_quota_bytes: int,
    acting_user=None,
) -> None:
    """Would adding ``new_mailboxes`` or changing a quota break a domain or grant limit?

    Call after ``lock_limits`` in the same transaction. ``old_quota_bytes`` is the
    quota being replaced (None when creating). ``acting_user`` decides how much
    the messages tell about other admins' grants (see ``_check_grant``).
    """
    if domain.max_quota_bytes and (new_quota_bytes == 0 or new_quota_bytes > domain.max_quota_bytes):
        raise ValidationError(
            {
                "quota_bytes": f"The quota of a mailbox in {domain.name} is at most "
                f"{format_size(domain.max_quota_bytes)} (0, unlimited, is not allowed)."
            }
        )
    if new_mailboxes and domain.max_mailboxes:
        count = domain.mailboxes.count()
        if count + new_mailboxes > domain.max_mailboxes:
            raise ValidationError(f"{domain.name} may have at most {domain.max_mailboxes} mailboxes and has {count}.")
    for grant in grants:
        _check_grant(
            grant,
            new_mailboxes=new_mailboxes,
            old_quota_bytes=old_quota_bytes,
            new_quota_bytes=new_quota_bytes,
            acting_user=acting_user,
        )


def _check_grant(
    grant: AdminGrant, *, new_mailboxes: int, old_quota_bytes: int | None, new_quota_bytes: int, acting_user=None
) -> None:
    # Another admin's grant may cover domains the acting admin must not know of: its messages then
    # name neither that admin nor its usage (the system and superusers get the details).
    private = acting_user is not None and not permissions.is_superuser(acting_user) and grant.admin_id != acting_user.pk
    who = grant.admin.address
    if grant.quota_bytes and new_quota_bytes == 0:
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
    if grant.quota_bytes:
        total = usage["quota_bytes"] - (old_quota_bytes or 0) + new_quota_bytes * max(new_mailboxes, 1)
        if total > grant.quota_bytes:
            free = grant.quota_bytes - usage["quota_bytes"] + (old_quota_bytes or 0)
            raise ValidationError(
                {
                    "quota_bytes": "The domain is also administered under another grant, which has not enough "
                    "quota left for that."
                    if private
                    else f"The grant of {who} has {format_size(grant.quota_bytes)} for all its domains; "
                    f"{format_size(max(free, 0), zero='0 bytes')} are left."
                }
            )


# --- admin grants --------------------------------------------------------------

GRANT_FIELDS = ("quota_bytes", "max_mailboxes", "can_create_mailboxes", "can_delete_mailboxes", "can_appoint_admins")


@transaction.atomic
def grant_set(*, acting_user, admin, domains: list[Domain], origin: str = "cli", **fields) -> AdminGrant:
    """Create or replace the grant of ``admin``: its domains, limits and capabilities."""
    unknown = set(fields) - set(GRANT_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown grant setting(s): {', '.join(sorted(unknown))}.")
    if acting_user is not None:
        require(permissions.can_appoint_admin(acting_user, domains), "You may not appoint admins for those domains.")
        require(
            admin.pk != acting_user.pk or permissions.is_superuser(acting_user), "You cannot change your own grant."
        )
    grant = AdminGrant.objects.select_for_update().filter(admin=admin).first()
    limited = acting_user is not None and not permissions.is_superuser(acting_user)
    if limited:
        _check_may_appoint(acting_user, admin, grant)
    before = snapshot(grant)
    grant = grant or AdminGrant(admin=admin)
    for key, value in fields.items():
        setattr(grant, key, value)
    if limited:  # the values the grant will have, defaults included
        _check_appointment_within(permissions.grant_of(acting_user), grant)
    grant.full_clean()
    grant.save()
    grant.domains.set(domains)
    _check_grant_holds(grant)
    record(
        acting_user=acting_user,
        origin=origin,
        action="grant.set",
        obj=grant,
        domain=domains[0] if len(domains) == 1 else None,
        before=before,
        after=snapshot(grant),
    )
    return grant


def _check_may_appoint(acting_user, admin, existing) -> None:
    """A new grant only for an end user of the actor's domains; an existing one only if the actor outranks it."""
    if existing is not None:
        require(permissions.can_manage_grant(acting_user, existing), "You may not change that admin's grant.")
        return
    own = permissions.grant_of(acting_user)
    require(
        permissions.role_rank(admin) == permissions.USER
        and admin.domain_id is not None
        and own.domains.filter(pk=admin.domain_id).exists(),
        "You can only appoint end users of your own domains.",
    )


def _check_appointment_within(own, grant) -> None:
    """An admin appointing another gives no more than it has."""
    key = permissions.grant_beyond(own, grant)
    if key in permissions.GRANT_CAPABILITIES:
        raise PermissionDenied(f"You cannot give a capability you do not have ({key}).")
    if key is not None:
        raise PermissionDenied(f"You cannot give more than your own {key} ({getattr(own, key)}).")


def _check_grant_holds(grant: AdminGrant) -> None:
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


@transaction.atomic
def grant_revoke(*, acting_user, admin, origin: str = "cli") -> None:
    grant = AdminGrant.objects.select_for_update().filter(admin=admin).first()
    if grant is None:
        raise ValidationError(f"{admin} has no admin grant.")
    if acting_user is not None:
        require(permissions.can_appoint_admin(acting_user, list(grant.domains.all())), "You may not revoke that grant.")
        require(
            permissions.is_superuser(acting_user) or admin.pk != acting_user.pk, "You cannot revoke your own grant."
        )
        require(permissions.can_manage_grant(acting_user, grant), "You may not revoke that admin's grant.")
    before = snapshot(grant)
    grant.delete()
    record(acting_user=acting_user, origin=origin, action="grant.revoke", obj=grant, before=before)
