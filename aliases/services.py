"""Writes to aliases (forwarders and catch-alls)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from aliases.models import Alias, addresses_in_use
from domains.limits import alias_room, count_exceeded, lock_limits
from domains.models import Domain
from mailadmin import permissions
from mailadmin.audit import record, snapshot
from mailadmin.permissions import require


def get_alias(address: str) -> Alias:
    """An alias by address, or a ValidationError (``Alias.objects.get_by_address``)."""
    return Alias.objects.get_by_address(address)


def _require_manage(acting_user, domain: Domain) -> None:
    require(
        acting_user is None or permissions.can_manage_domain(acting_user, domain),
        gettext("You do not manage that domain."),
    )


@transaction.atomic
def alias_create(
    *, acting_user, domain: Domain, local_part: str, destinations, active: bool = True, origin: str
) -> Alias:
    """Create an alias; an empty ``local_part`` makes the domain's catch-all."""
    _require_manage(acting_user, domain)
    domain, _grants = lock_limits(domain)
    alias = Alias(domain=domain, local_part=local_part, destinations="", active=active)
    alias.set_destinations(destinations)
    alias.full_clean()
    if reason := addresses_in_use([alias.address]).get(alias.address):
        raise ValidationError({"local_part": reason})
    if alias_room(domain) == 0:
        raise count_exceeded(domain, "aliases")
    alias.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="alias.create",
        obj=alias,
        domain=domain,
        after=snapshot(alias),
    )
    return alias


@transaction.atomic
def alias_set_destinations(*, acting_user, alias: Alias, destinations, origin: str) -> Alias:
    _require_manage(acting_user, alias.domain)
    alias = Alias.objects.select_for_update().select_related("domain").get(pk=alias.pk)
    before = snapshot(alias)
    alias.set_destinations(destinations)
    alias.full_clean()
    alias.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="alias.update",
        obj=alias,
        domain=alias.domain,
        before=before,
        after=snapshot(alias),
    )
    return alias


@transaction.atomic
def alias_set_active(*, acting_user, alias: Alias, active: bool, origin: str) -> Alias:
    _require_manage(acting_user, alias.domain)
    before = snapshot(alias)
    alias.active = active
    alias.save(update_fields=["active", "updated"])
    record(
        acting_user=acting_user,
        origin=origin,
        action="alias.update",
        obj=alias,
        domain=alias.domain,
        before=before,
        after=snapshot(alias),
    )
    return alias


@transaction.atomic
def alias_delete(*, acting_user, alias: Alias, origin: str) -> None:
    _require_manage(acting_user, alias.domain)
    before = snapshot(alias)
    alias.delete()
    record(
        acting_user=acting_user,
        origin=origin,
        action="alias.delete",
        obj=alias,
        domain=alias.domain,
        before=before,
    )


# --- role addresses of new domains (issue 5) -----------------------------------------

ROLE_ADDRESSES = ("postmaster", "abuse")  # RFC 2142: every mail domain should have them


@transaction.atomic
def role_aliases_create(*, acting_user, domain: Domain, target: str, origin: str) -> list[Alias]:
    """Make ``postmaster@`` and ``abuse@`` of ``domain`` forward to ``target``, unless they exist.

    An existing mailbox or alias of either name is left as it is.
    """
    _require_manage(acting_user, domain)
    created = []
    taken = addresses_in_use(f"{local_part}@{domain.name}" for local_part in ROLE_ADDRESSES)
    for local_part in ROLE_ADDRESSES:
        if f"{local_part}@{domain.name}" in taken:
            continue
        created.append(
            alias_create(
                acting_user=acting_user, domain=domain, local_part=local_part, destinations=[target], origin=origin
            )
        )
    return created
