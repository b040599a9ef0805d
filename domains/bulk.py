"""Domains and domain aliases in bulk: ``mailadmin.bulk``'s engine with the rules of ``domains.services``."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from domains import limits
from domains.models import Domain, DomainAlias, names_in_use
from domains.services import DOMAIN_SETTINGS, domain_name_from
from mailadmin import bulk, permissions
from mailadmin.permissions import require


def require_superuser(acting_user, _context=None) -> None:
    require(acting_user is None or permissions.is_superuser(acting_user), gettext("Only superusers load in bulk."))


def domains_of(rows: Iterable[dict], key: str = "domain") -> set[str]:
    """The canonical names rows refer to (a name that is not one is reported by its row)."""
    names = set()
    for row in rows:
        try:
            names.add(domain_name_from(str(row.get(key, ""))))
        except ValidationError:
            pass
    return names


def domain_of(row: dict, domains: dict[str, Domain]) -> Domain:
    name = domain_name_from(str(row.get("domain", "")), "domain")
    try:
        return domains[name]
    except KeyError:
        raise ValidationError({"domain": gettext("No domain %(name)s.") % {"name": name}}) from None


def _names_free(batch: bulk.Batch) -> None:
    taken = {name: reason for name, (_owner, reason) in names_in_use(o.name for o in batch.objects()).items()}
    bulk.refuse_taken(batch, lambda obj: obj.name, taken)


def domain_bulk_load(*, acting_user, rows: Iterable[dict], origin: str, **options) -> bulk.Loaded:
    """Create domains from rows of ``name`` and any of ``DOMAIN_SETTINGS``."""

    def build(row, _context):
        bulk.unknown_fields(row, {"name", *DOMAIN_SETTINGS})
        domain = Domain(**{**row, "name": domain_name_from(str(row.get("name", "")))})
        domain.clean_fields()
        return domain

    return bulk.load(
        rows,
        acting_user=acting_user,
        origin=origin,
        model=Domain,
        action="domain.bulk_load",
        prepare=lambda _rows: limits.lock_names() or {},
        authorize=require_superuser,
        build=build,
        check=_names_free,
        **options,
    )


def domain_alias_bulk_load(*, acting_user, rows: Iterable[dict], origin: str, **options) -> bulk.Loaded:
    """Create domain aliases from rows of ``name``, ``domain`` (the target's name) and ``active``."""

    def prepare(rows):
        limits.lock_names()
        return {"domains": {d.name: d for d in Domain.objects.filter(name__in=domains_of(rows))}}

    def build(row, context):
        bulk.unknown_fields(row, {"name", "domain", "active"})
        alias = DomainAlias(
            name=domain_name_from(str(row.get("name", ""))),
            target=domain_of(row, context["domains"]),
            active=row.get("active", True),
        )
        alias.clean_fields(exclude=["target"])
        return alias

    return bulk.load(
        rows,
        acting_user=acting_user,
        origin=origin,
        model=DomainAlias,
        action="domain_alias.bulk_load",
        prepare=prepare,
        authorize=require_superuser,
        build=build,
        check=_names_free,
        exclude=("target",),
        **options,
    )
