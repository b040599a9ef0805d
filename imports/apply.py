"""Create-or-leave-alone of each kind of object, through the services.

Each function returns "created", "updated" or "unchanged", or raises
ValidationError with the reason. Passwords are set only when a mailbox is
created: an existing mailbox keeps its password (its user may have changed it,
or the panel re-hashed it at login), so a second run changes nothing.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from accounts import services as accounts
from accounts.models import Mailbox, hash_policy
from aliases import services as aliases
from aliases.models import Alias
from domains import services as domains
from domains.models import AdminGrant, Domain, DomainAlias
from mailadmin.lib import passwords
from mailadmin.lib.addresses import AddressError, normalize_address, parse_destinations, split_address
from vacation import services as vacations
from vacation.models import Vacation

ORIGIN = "import"


def _changes(obj, wanted: dict) -> dict:
    return {key: value for key, value in wanted.items() if getattr(obj, key) != value}


def domain(*, name: str, **settings) -> str:
    existing = Domain.objects.filter(name=domains.domain_name_from(name)).first()
    if existing is None:
        domains.domain_create(acting_user=None, name=name, origin=ORIGIN, **settings)
        return "created"
    changes = _changes(existing, settings)
    if not changes:
        return "unchanged"
    domains.domain_update(acting_user=None, domain=existing, origin=ORIGIN, **changes)
    return "updated"


def domain_alias(*, name: str, target: str, active: bool = True) -> str:
    target_domain = domains.get_domain(target)
    existing = DomainAlias.objects.filter(name=domains.domain_name_from(name)).first()
    if existing is None:
        domains.domain_alias_create(acting_user=None, name=name, target=target_domain, active=active, origin=ORIGIN)
        return "created"
    if existing.target_id != target_domain.pk:
        text = gettext("%(name)s is already a domain alias of %(domain)s.")
        raise ValidationError(text % {"name": existing.name, "domain": existing.target.name})
    if existing.active == active:
        return "unchanged"
    domains.domain_alias_update(acting_user=None, alias=existing, active=active, origin=ORIGIN)
    return "updated"


def canonical(address: str) -> str:
    try:
        return normalize_address(address)
    except AddressError:
        return address


def existing_mailboxes(addresses) -> set[str]:
    return set(Mailbox.objects.filter(address__in=[canonical(a) for a in addresses]).values_list("address", flat=True))


def mailbox(
    *,
    address: str,
    password: str = "",
    password_hash: str = "",
    quota_bytes: int | None = None,
    login: bool = True,
    **fields,
) -> str:
    """An existing mailbox brought to what the source says (its password is left alone: its user
    may have changed it, or the panel re-hashed it at login). New ones go through ``mailbox_row``."""
    existing = Mailbox.objects.get(address=canonical(address))
    wanted = dict(fields, **({} if quota_bytes is None else {"quota_bytes": quota_bytes}))
    changes = _changes(existing, wanted)
    if not changes:
        return "unchanged"
    accounts.mailbox_update(acting_user=None, mailbox=existing, origin=ORIGIN, **changes)
    return "updated"


def mailbox_row(
    *, address: str, password: str = "", password_hash: str = "", quota_bytes=None, login: bool = True, **fields
) -> dict:
    """A row of the bulk path (``accounts.bulk.mailbox_bulk_load``) for a new mailbox: the imported
    hash as it is, or the clear text (``hash_clear_passwords`` hashes it); never a throw-away.
    ``login`` False: a mailbox that receives mail but cannot log in (no usable password) until
    someone sets one."""
    try:
        local_part, domain_name = split_address(address)
    except AddressError as exc:
        raise ValidationError({"address": str(exc)}) from None
    if not login:
        return {"domain": domain_name, "local_part": local_part, **fields} | (
            {} if quota_bytes is None else {"quota_bytes": quota_bytes}
        )
    if not password and not password_hash:
        raise ValidationError({"password": gettext("The source has no password for this mailbox.")})
    row = {"domain": domain_name, "local_part": local_part, **fields}
    if quota_bytes is not None:
        row["quota_bytes"] = quota_bytes
    return row | ({"password_hash": password_hash} if password_hash else {"_password": password})


def hash_clear_passwords(rows: list[dict]) -> None:
    """Clear-text passwords of a source (a CSV file) hashed with the current scheme, over every core."""
    clear = [row for row in rows if "_password" in row]
    hashes = passwords.hash_many([row["_password"] for row in clear], hash_policy())
    for row, stored in zip(clear, hashes, strict=True):
        row["password_hash"] = stored
        del row["_password"]


def alias(*, address: str, destinations, active: bool = True) -> str:
    """An alias; ``@domain`` (empty local part) is the domain's catch-all."""
    local_part, _, domain_name = address.rpartition("@")
    domain_obj = domains.get_domain(domain_name)
    existing = Alias.objects.filter(domain=domain_obj, local_part=local_part.lower()).first()
    if existing is None:
        aliases.alias_create(
            acting_user=None,
            domain=domain_obj,
            local_part=local_part,
            destinations=destinations,
            active=active,
            origin=ORIGIN,
        )
        return "created"
    try:
        wanted = parse_destinations(destinations, domain_obj.name)
    except AddressError as exc:
        raise ValidationError({"destinations": str(exc)}) from None
    outcome = "unchanged"
    if existing.destination_list != wanted:
        aliases.alias_set_destinations(acting_user=None, alias=existing, destinations=wanted, origin=ORIGIN)
        outcome = "updated"
    if existing.active != active:
        aliases.alias_set_active(acting_user=None, alias=existing, active=active, origin=ORIGIN)
        outcome = "updated"
    return outcome


def forwarding(*, address: str, destinations, keep_copy: bool) -> str:
    """A mailbox's forwarding, as ``mailbox_set_forwarding`` stores it (the same rules)."""
    target = accounts.get_mailbox(address)
    probe = Mailbox(address=target.address, domain=target.domain, local_part=target.local_part)
    probe.set_forwarding(destinations, keep_copy=keep_copy)
    if (target.forward_to, target.forward_keep_copy) == (probe.forward_to, probe.forward_keep_copy):
        return "unchanged"
    outcome = "created" if not target.forward_to else "updated"
    accounts.mailbox_set_forwarding(
        acting_user=None, mailbox=target, destinations=destinations, keep_copy=keep_copy, origin=ORIGIN
    )
    return outcome


def vacation(*, address: str, mode: str, subject: str = "", body: str = "", first_day=None, last_day=None) -> str:
    """A vacation reply; ``mode`` "off" with a text keeps the text for later (custom, then off)."""
    target = accounts.get_mailbox(address)
    existing = Vacation.objects.filter(mailbox=target).first()
    text = {"subject": subject, "body": body} if subject or body else {}
    wanted = {"mode": mode, "first_day": first_day, "last_day": last_day, **text}
    if existing is not None and not _changes(existing, wanted):
        return "unchanged"
    if mode == "off" and text:
        vacations.vacation_set(acting_user=None, mailbox=target, mode="custom", origin=ORIGIN, **text)
    vacations.vacation_set(
        acting_user=None,
        mailbox=target,
        mode=mode,
        first_day=first_day,
        last_day=last_day,
        origin=ORIGIN,
        **(text if mode == "custom" else {}),
    )
    return "created" if existing is None else "updated"


def grant(
    *, admin: str, domains_: list[str] = (), superuser: bool = False, password_hash: str = "", **capabilities
) -> str:
    """An admin grant over ``domains_`` (added to the admin's existing grant), or superuser status
    (a panel-only account with the old ``password_hash`` when the admin has no mailbox here)."""
    if superuser:
        existing = Mailbox.objects.filter(address=canonical(admin)).first()
        if existing is not None and existing.is_superuser:
            return "unchanged"
        accounts.superuser_create(address=admin, password=None, password_hash=password_hash, origin=ORIGIN)
        return "created"
    try:
        admin_mailbox = accounts.get_mailbox(admin)
    except ValidationError:
        raise ValidationError(
            gettext(
                "%(admin)s has no mailbox here: a domain admin logs in with its mailbox; create it and import again."
            )
            % {"admin": admin}
        ) from None
    wanted = [domains.get_domain(name) for name in domains_]
    existing = AdminGrant.objects.filter(admin=admin_mailbox).first()
    have = list(existing.domains.all()) if existing else []
    missing = [d for d in wanted if d not in have]
    if existing is not None and not missing and not _changes(existing, capabilities):
        return "unchanged"
    domains.grant_set(acting_user=None, admin=admin_mailbox, domains=have + missing, origin=ORIGIN, **capabilities)
    return "created" if existing is None else "updated"


APPLY = {
    "domain": domain,
    "domain alias": domain_alias,
    "mailbox": mailbox,
    "alias": alias,
    "forwarding": forwarding,
    "vacation": vacation,
    "grant": grant,
}
