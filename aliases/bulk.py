"""Aliases in bulk: ``mailadmin.bulk``'s engine with the rules of ``aliases.services``."""

from __future__ import annotations

from collections.abc import Iterable

from aliases.models import Alias, addresses_in_use
from domains import limits
from domains.bulk import domain_of, domains_of
from mailadmin import bulk, permissions
from mailadmin.permissions import require


def alias_bulk_load(*, acting_user, rows: Iterable[dict], origin: str, **options) -> bulk.Loaded:
    """Create aliases from rows of ``domain``, ``local_part`` ("" for the catch-all), ``destinations``, ``active``.

    Whoever manages a domain may load its aliases, within its alias limit.
    """

    def prepare(rows):
        domains, _grants = limits.lock_limits_of(domains_of(rows))
        return {"domains": domains}

    def authorize(actor, context):
        for domain in context["domains"].values():
            require(actor is None or permissions.can_manage_domain(actor, domain), "You do not manage that domain.")

    def build(row, context):
        bulk.unknown_fields(row, {"domain", "local_part", "destinations", "active"})
        alias = Alias(
            domain=domain_of(row, context["domains"]),
            local_part=row.get("local_part", ""),
            destinations=row.get("destinations", ""),  # parsed and made canonical by clean_fields
            active=row.get("active", True),
        )
        alias.clean_fields(exclude=["domain"])
        alias.clean()
        return alias

    def check(batch):
        bulk.refuse_taken(batch, lambda a: a.address, addresses_in_use(a.address for a in batch.objects()))
        rooms: dict[int, int | None] = {}
        for number, name, alias in list(batch.built):
            if alias.domain_id not in rooms:
                rooms[alias.domain_id] = limits.alias_room(alias.domain)
            if rooms[alias.domain_id] is None:
                continue
            if rooms[alias.domain_id] < 1:
                batch.refuse(number, name, limits.count_exceeded(alias.domain, "aliases"))
            else:
                rooms[alias.domain_id] -= 1

    return bulk.load(
        rows,
        acting_user=acting_user,
        origin=origin,
        model=Alias,
        action="alias.bulk_load",
        prepare=prepare,
        authorize=authorize,
        build=build,
        check=check,
        exclude=("domain",),
        **options,
    )


def alias_bulk_create(*, acting_user, domain, rows: list[dict], origin: str) -> list[Alias]:
    """Many aliases of ``domain`` (rows of ``local_part``, ``destinations``, optional ``line``), all or none."""
    require(acting_user is None or permissions.can_manage_domain(acting_user, domain), "You do not manage that domain.")
    loaded = alias_bulk_load(
        acting_user=acting_user,
        rows=[{**row, "domain": domain.name} for row in rows],
        origin=origin,
        label="Line",
        name=lambda row: str(row.get("local_part") or "@"),
        batch_size=max(len(rows), 1),
    )
    return loaded.written
