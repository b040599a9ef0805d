"""Writes to mailboxes: create, update, passwords, delete, superuser status."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Mailbox
from aliases.models import Alias
from domains.models import Domain
from domains.services import check_mailbox_limits, lock_limits, require
from mailadmin import permissions
from mailadmin.audit import record, snapshot
from mailadmin.lib import passwords
from mailadmin.lib.addresses import AddressError, normalize_address

PROFILE_FIELDS = ("first_name", "last_name", "phone", "other_email", "notes")
FLAG_FIELDS = ("active", "may_relay", "filtering")


def generate_password(length: int = 16) -> str:
    """A random password for a new mailbox, printed once and never stored."""
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def get_mailbox(address: str) -> Mailbox:
    try:
        canonical = normalize_address(address)
    except AddressError as exc:
        raise ValidationError({"address": str(exc)}) from None
    try:
        return Mailbox.objects.select_related("domain").get(address=canonical)
    except Mailbox.DoesNotExist:
        raise ValidationError({"address": f"No mailbox {canonical}."}) from None


def _set_password_checked(mailbox: Mailbox, password: str) -> None:
    try:
        mailbox.set_password(password)
    except ValueError as exc:
        raise ValidationError({"password": str(exc)}) from None


@transaction.atomic
def mailbox_create(
    *,
    acting_user,
    domain: Domain,
    local_part: str,
    password: str,
    quota_mb: int | None = None,
    origin: str = "cli",
    **fields,
) -> Mailbox:
    """Create a mailbox within the domain's and every covering grant's limits."""
    require(
        acting_user is None or permissions.can_create_mailbox(acting_user, domain),
        "You may not create mailboxes in that domain.",
    )
    unknown = set(fields) - set(PROFILE_FIELDS) - set(FLAG_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown mailbox field(s): {', '.join(sorted(unknown))}.")
    domain, grants = lock_limits(domain)
    fields.setdefault("may_relay", domain.default_may_relay)
    mailbox = Mailbox(
        domain=domain,
        local_part=local_part,
        quota_mb=domain.default_quota_mb if quota_mb is None else quota_mb,
        **fields,
    )
    mailbox.full_clean(exclude=["password"])
    _check_address_free(mailbox.address, kind="mailbox")
    check_mailbox_limits(domain, grants, new_mailboxes=1, old_quota_mb=None, new_quota_mb=mailbox.quota_mb)
    _set_password_checked(mailbox, password)
    mailbox.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="mailbox.create",
        obj=mailbox,
        domain=domain.name,
        after=snapshot(mailbox),
    )
    return mailbox


def _check_address_free(address: str, *, kind: str) -> None:
    """A mailbox and an alias never share an address (either would shadow the other)."""
    if Mailbox.objects.filter(address=address).exists():
        raise ValidationError({"local_part": f"{address} already exists as a mailbox."})
    if Alias.objects.filter(address=address).exists():
        raise ValidationError({"local_part": f"{address} already exists as an alias."})


@transaction.atomic
def mailbox_update(*, acting_user, mailbox: Mailbox, origin: str = "cli", **fields) -> Mailbox:
    """Change profile fields, flags or the quota (checked against domain and grant limits)."""
    allowed = set(PROFILE_FIELDS) | set(FLAG_FIELDS) | {"quota_mb"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"Unknown mailbox field(s): {', '.join(sorted(unknown))}.")
    require(
        acting_user is None or permissions.can_manage_mailbox(acting_user, mailbox), "You may not change that mailbox."
    )
    if mailbox.domain_id:
        domain, grants = lock_limits(mailbox.domain)
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    before = snapshot(mailbox)
    if "quota_mb" in fields and fields["quota_mb"] != mailbox.quota_mb and mailbox.domain_id:
        check_mailbox_limits(
            domain, grants, new_mailboxes=0, old_quota_mb=mailbox.quota_mb, new_quota_mb=fields["quota_mb"]
        )
    for key, value in fields.items():
        setattr(mailbox, key, value)
    mailbox.full_clean(exclude=["password"])
    mailbox.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="mailbox.update",
        obj=mailbox,
        domain=mailbox.domain.name if mailbox.domain_id else "",
        before=before,
        after=snapshot(mailbox),
    )
    return mailbox


@transaction.atomic
def mailbox_set_password(*, acting_user, mailbox: Mailbox, password: str, origin: str = "cli") -> Mailbox:
    """Reset a password (admins, superusers) or change one's own (end users check the old one first)."""
    own = acting_user is not None and acting_user.pk == mailbox.pk
    require(
        acting_user is None or own or permissions.can_manage_mailbox(acting_user, mailbox),
        "You may not change that mailbox's password.",
    )
    _set_password_checked(mailbox, password)
    Mailbox.objects.filter(pk=mailbox.pk).update(password=mailbox.password)
    record(
        acting_user=acting_user,
        origin=origin,
        action="mailbox.password",
        obj=mailbox,
        domain=mailbox.domain.name if mailbox.domain_id else "",
    )
    return mailbox


@transaction.atomic
def mailbox_set_password_hash(*, acting_user, mailbox: Mailbox, password_hash: str, origin: str = "cli") -> Mailbox:
    """Store an imported hash as it is (after checking Dovecot knows its scheme)."""
    require(acting_user is None or permissions.is_superuser(acting_user), "Only superusers import hashes.")
    try:
        mailbox.password = passwords.normalize_hash(password_hash)
    except passwords.UnknownScheme as exc:
        raise ValidationError({"password": str(exc)}) from None
    Mailbox.objects.filter(pk=mailbox.pk).update(password=mailbox.password)
    record(
        acting_user=acting_user,
        origin=origin,
        action="mailbox.password_hash",
        obj=mailbox,
        domain=mailbox.domain.name if mailbox.domain_id else "",
    )
    return mailbox


@transaction.atomic
def mailbox_delete(*, acting_user, mailbox: Mailbox, origin: str = "cli") -> None:
    require(
        acting_user is None or permissions.can_delete_mailbox(acting_user, mailbox), "You may not delete that mailbox."
    )
    require(acting_user is None or acting_user.pk != mailbox.pk, "You cannot delete your own mailbox.")
    before = snapshot(mailbox)
    domain = mailbox.domain.name if mailbox.domain_id else ""
    mailbox.delete()
    record(acting_user=acting_user, origin=origin, action="mailbox.delete", obj=mailbox, domain=domain, before=before)


@transaction.atomic
def superuser_create(*, address: str, password: str | None, acting_user=None, origin: str = "cli") -> Mailbox:
    """Make ``address`` a superuser: its mailbox if it exists, else a panel-only account.

    The command line is the only way to grant superuser status.
    """
    try:
        canonical = normalize_address(address)
    except AddressError as exc:
        raise ValidationError({"address": str(exc)}) from None
    user = Mailbox.objects.select_for_update().filter(address=canonical).first()
    if user is None:
        user = Mailbox(address=canonical, local_part=canonical.split("@")[0])
        user.full_clean(exclude=["password"])
        if Alias.objects.filter(address=canonical).exists():
            raise ValidationError({"address": f"{canonical} is an alias, not a mailbox."})
        if password is None:
            raise ValidationError({"password": "A new panel-only superuser needs a password."})
        _set_password_checked(user, password)
    elif password is not None:
        _set_password_checked(user, password)
    before = snapshot(user) if user.pk else None
    user.is_superuser = True
    user.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="superuser.grant",
        obj=user,
        domain=user.domain.name if user.domain_id else "",
        before=before,
        after=snapshot(user),
    )
    return user


@transaction.atomic
def superuser_revoke(*, address: str, acting_user=None, origin: str = "cli") -> Mailbox:
    user = get_mailbox(address)
    if not user.is_superuser:
        raise ValidationError({"address": f"{user.address} is not a superuser."})
    if not Mailbox.objects.filter(is_superuser=True).exclude(pk=user.pk).exists():
        raise ValidationError("This is the last superuser; make another one first.")
    before = snapshot(user)
    user.is_superuser = False
    user.save(update_fields=["is_superuser"])
    record(
        acting_user=acting_user, origin=origin, action="superuser.revoke", obj=user, before=before, after=snapshot(user)
    )
    return user
