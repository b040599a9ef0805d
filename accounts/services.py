"""Writes to mailboxes: create, update, passwords, delete, superuser status."""

from __future__ import annotations

import logging
import secrets
import smtplib

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext

from accounts.models import FLAG_FIELDS, MAILBOX_SETTINGS, PROTOCOL_FIELDS, Mailbox, MailboxArchive
from aliases.models import addresses_in_use
from domains.limits import check_forwarding, check_mailbox_limits, lock_limits
from domains.models import Domain
from mailadmin import permissions
from mailadmin.audit import record, snapshot
from mailadmin.lib import passwords
from mailadmin.lib.addresses import AddressError, normalize_address
from mailadmin.lib.fields import UNSET, given
from mailadmin.permissions import require

logger = logging.getLogger(__name__)

# What a mailbox's managers may set: defined once, used by the services, forms, CLI and CSV.


def check_password_policy(password: str, mailbox: Mailbox | None) -> None:
    """The password policy (AUTH_PASSWORD_VALIDATORS) for ``mailbox``: the one home of the rule.

    The services run it on every new password; forms may call it for early feedback.
    Raises ValidationError on ``password``.
    """
    try:
        password_validation.validate_password(password, mailbox)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from None


def generate_password(length: int = 16, *, mailbox: Mailbox | None = None) -> str:
    """A random password, printed once and never stored, that passes the policy for ``mailbox``.

    A random password can look like a long name made of the same letters, so the
    policy is checked and another one drawn until it passes (rarely more than once).
    """
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    for _ in range(100):
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        try:
            check_password_policy(password, mailbox)
        except ValidationError:
            continue
        return password
    raise RuntimeError("No generated password passes AUTH_PASSWORD_VALIDATORS; check the policy.")


def generate_password_for(*, domain: Domain, local_part: str, first_name: str = "", last_name: str = "") -> str:
    """A generated password for a mailbox about to be created (``mailbox_create``) with these names."""
    draft = Mailbox(
        domain=domain,
        local_part=local_part,
        address=f"{local_part}@{domain.name}",
        first_name=first_name,
        last_name=last_name,
    )
    return generate_password(mailbox=draft)


def protocol_defaults(domain: Domain, **given) -> dict:
    """The ``allow_*`` protocols of a new mailbox: those given (not None), else the domain's defaults."""
    return {
        field: getattr(domain, f"default_{field}") if given.get(field) is None else given[field]
        for field in PROTOCOL_FIELDS
    }


def get_mailbox(address: str) -> Mailbox:
    """A mailbox by address, or a ValidationError (``Mailbox.objects.get_by_address``)."""
    return Mailbox.objects.get_by_address(address)


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
    origin: str,
    quota_bytes: int | None = None,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    other_email: str = "",
    notes: str = "",
    active: bool = True,
    may_relay: bool | None = None,
    filtering: bool = True,
    allow_imap: bool | None = None,
    allow_pop3: bool | None = None,
    allow_smtp: bool | None = None,
    allow_sieve: bool | None = None,
    max_sent_per_hour: int | None = None,
    max_recipients_per_hour: int | None = None,
    welcome: bool = True,
    validate_password: bool = True,
) -> Mailbox:
    """Create a mailbox within the domain's and every covering grant's limits.

    ``quota_bytes``, ``may_relay`` and the ``allow_*`` protocols default to the domain's defaults.
    The password must pass the policy (``check_password_policy``) unless ``validate_password`` is False: restores of
    passwords already in use.
    With ``welcome`` (and MAIL_WELCOME_SUBJECT set) a welcome message is sent
    after the commit, so Dovecot creates the maildir at once.
    """
    require(
        acting_user is None or permissions.can_create_mailbox(acting_user, domain),
        gettext("You may not create mailboxes in that domain."),
    )
    domain, grants = lock_limits(domain)
    limits = {"max_sent_per_hour": max_sent_per_hour, "max_recipients_per_hour": max_recipients_per_hour}
    _check_send_limits(acting_user, domain, limits)
    mailbox = Mailbox(
        **limits,
        domain=domain,
        local_part=local_part,
        quota_bytes=domain.default_quota_bytes if quota_bytes is None else quota_bytes,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        other_email=other_email,
        notes=notes,
        active=active,
        may_relay=domain.default_may_relay if may_relay is None else may_relay,
        filtering=filtering,
        **protocol_defaults(
            domain, allow_imap=allow_imap, allow_pop3=allow_pop3, allow_smtp=allow_smtp, allow_sieve=allow_sieve
        ),
    )
    mailbox.full_clean(exclude=["password"])
    if reason := addresses_taken([mailbox.address]).get(mailbox.address):
        raise ValidationError({"local_part": reason})
    check_mailbox_limits(
        domain,
        grants,
        new_mailboxes=1,
        old_quota_bytes=None,
        new_quota_bytes=mailbox.quota_bytes,
        acting_user=acting_user,
    )
    if validate_password:
        check_password_policy(password, mailbox)
    _set_password_checked(mailbox, password)
    mailbox.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="mailbox.create",
        obj=mailbox,
        domain=domain,
        after=snapshot(mailbox),
    )
    if welcome and settings.MAIL_WELCOME_SUBJECT:
        address = mailbox.address
        transaction.on_commit(lambda: send_welcome(address))
    return mailbox


def _check_send_limits(acting_user, domain, fields: dict) -> None:
    """A domain administrator may lower what a mailbox may send an hour, never lift it past the
    domain's default that a superuser set (0 there: no limit to keep to); superusers set any."""
    if permissions.can_lift_send_limits(acting_user):
        return
    for field, default in (
        ("max_sent_per_hour", domain.default_max_sent_per_hour),
        ("max_recipients_per_hour", domain.default_max_recipients_per_hour),
    ):
        value = fields.get(field, UNSET)
        if value is UNSET or value is None or not default:
            continue
        if value == 0 or value > default:
            text = gettext("At most the domain's limit, %(limit)s an hour (a superuser sets it).")
            raise ValidationError({field: text % {"limit": default}})


def send_welcome(address: str) -> bool:
    """Send the welcome message to a new mailbox; a failure is logged, never raised."""
    try:
        send_mail(settings.MAIL_WELCOME_SUBJECT, settings.MAIL_WELCOME_BODY, settings.MAIL_WELCOME_FROM, [address])
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("Welcome message to %s not sent: %s", address, exc)
        return False
    return True


def addresses_taken(addresses) -> dict[str, str]:
    """Address -> why a new mailbox cannot have it: a mailbox or alias has it, or the mail of a
    deleted mailbox of that address is still moving. For one address or a batch."""
    addresses = list(addresses)
    return addresses_in_use(addresses) | MailboxArchive.objects.moving(addresses)


@transaction.atomic
def mailbox_update(
    *,
    acting_user,
    mailbox: Mailbox,
    origin: str,
    first_name: str = UNSET,
    last_name: str = UNSET,
    phone: str = UNSET,
    other_email: str = UNSET,
    notes: str = UNSET,
    active: bool = UNSET,
    may_relay: bool = UNSET,
    filtering: bool = UNSET,
    allow_imap: bool = UNSET,
    allow_pop3: bool = UNSET,
    allow_smtp: bool = UNSET,
    allow_sieve: bool = UNSET,
    quota_bytes: int = UNSET,
    max_sent_per_hour: int | None = UNSET,
    max_recipients_per_hour: int | None = UNSET,
) -> Mailbox:
    """Change the fields given (profile, flags, quota: checked against domain and grant limits)."""
    fields = given(locals(), MAILBOX_SETTINGS)
    require(
        acting_user is None or permissions.can_manage_mailbox(acting_user, mailbox),
        gettext("You may not change that mailbox."),
    )
    if mailbox.domain_id:
        domain, grants = lock_limits(mailbox.domain)
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    before = snapshot(mailbox)
    if mailbox.active and fields.get("active") is False:
        _check_not_last_active_superuser(mailbox)
    if "quota_bytes" in fields and fields["quota_bytes"] != mailbox.quota_bytes and mailbox.domain_id:
        check_mailbox_limits(
            domain,
            grants,
            new_mailboxes=0,
            old_quota_bytes=mailbox.quota_bytes,
            new_quota_bytes=fields["quota_bytes"],
            acting_user=acting_user,
        )
    if mailbox.domain_id:
        _check_send_limits(acting_user, mailbox.domain, fields)
    for key, value in fields.items():
        setattr(mailbox, key, value)
    mailbox.full_clean(exclude=["password"])
    mailbox.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="mailbox.update",
        obj=mailbox,
        domain=mailbox.domain,
        before=before,
        after=snapshot(mailbox),
    )
    return mailbox


def _check_not_last_active_superuser(mailbox: Mailbox) -> None:
    """Switching ``mailbox`` off must leave an active superuser, or nobody could log in to fix it.

    The active superusers are locked first (in id order), so two superusers switching
    each other off at once cannot both pass.
    """
    if not mailbox.is_superuser:
        return
    active = Mailbox.objects.select_for_update().filter(is_superuser=True, active=True).order_by("pk")
    if not [pk for pk in active.values_list("pk", flat=True) if pk != mailbox.pk]:
        text = gettext(
            "%(address)s is the last active superuser; switching it off would lock every superuser out. "
            "Make another superuser active first."
        )
        raise ValidationError({"active": text % {"address": mailbox.address}})


@transaction.atomic
def mailbox_set_password(
    *, acting_user, mailbox: Mailbox, password: str, origin: str, validate_password: bool = True
) -> Mailbox:
    """Reset a password (admins, superusers) or change one's own (end users check the old one first).

    The password must pass the policy unless ``validate_password`` is False.
    """
    own = acting_user is not None and acting_user.pk == mailbox.pk
    require(
        acting_user is None or own or permissions.can_manage_mailbox(acting_user, mailbox),
        gettext("You may not change that mailbox's password."),
    )
    if validate_password:
        check_password_policy(password, mailbox)
    _set_password_checked(mailbox, password)
    Mailbox.objects.filter(pk=mailbox.pk).update(password=mailbox.password)
    record(
        acting_user=acting_user,
        origin=origin,
        action="mailbox.password",
        obj=mailbox,
        domain=mailbox.domain,
    )
    return mailbox


@transaction.atomic
def mailbox_set_password_hash(*, acting_user, mailbox: Mailbox, password_hash: str, origin: str) -> Mailbox:
    """Store an imported hash as it is (after checking Dovecot knows its scheme)."""
    require(acting_user is None or permissions.is_superuser(acting_user), gettext("Only superusers import hashes."))
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
        domain=mailbox.domain,
    )
    return mailbox


@transaction.atomic
def mailbox_set_forwarding(
    *, acting_user, mailbox: Mailbox, destinations, keep_copy: bool = True, origin: str
) -> Mailbox:
    """Forward a mailbox's mail to ``destinations`` (a list or text; empty switches forwarding off),
    keeping a copy in the mailbox or not. Exim forwards after the vacation reply (one reply, and
    the copy forwarded); a forwarding loop ends in the mailbox where it comes round again."""
    require(
        acting_user is None or permissions.can_set_forwarding(acting_user, mailbox),
        gettext("You may not change the forwarding of that mailbox."),
    )
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)  # (no join: PostgreSQL locks no outer join)
    if not mailbox.has_mailbox:
        raise ValidationError(gettext("%(account)s is a panel-only account without a mailbox.") % {"account": mailbox})
    before = snapshot(mailbox)
    mailbox.set_forwarding(destinations, keep_copy=keep_copy)
    check_forwarding(mailbox.domain, mailbox.forward_list)
    mailbox.save(update_fields=["forward_to", "forward_keep_copy", "updated"])
    record(
        acting_user=acting_user,
        origin=origin,
        action="mailbox.forwarding",
        obj=mailbox,
        domain=mailbox.domain,
        before=before,
        after=snapshot(mailbox),
    )
    return mailbox


@transaction.atomic
def mailbox_delete(*, acting_user, mailbox: Mailbox, origin: str) -> None:
    require(
        acting_user is None or permissions.can_delete_mailbox(acting_user, mailbox),
        gettext("You may not delete that mailbox."),
    )
    require(acting_user is None or acting_user.pk != mailbox.pk, gettext("You cannot delete your own mailbox."))
    before = snapshot(mailbox)
    domain = mailbox.domain
    mailbox.archive_request(acting_user=acting_user)
    mailbox.delete()
    record(acting_user=acting_user, origin=origin, action="mailbox.delete", obj=mailbox, domain=domain, before=before)


@transaction.atomic
def superuser_create(
    *,
    address: str,
    password: str | None,
    acting_user=None,
    origin: str,
    validate_password: bool = True,
    password_hash: str = "",
) -> Mailbox:
    """Make ``address`` a superuser: its mailbox if it exists, else a panel-only account.

    The command line is the only way to grant superuser status. A new ``password`` must
    pass the policy unless ``validate_password`` is False. An importer gives a new panel-only
    account the old system's ``password_hash`` instead (an existing mailbox keeps its own).
    """
    require(acting_user is None, gettext("Superuser status is granted only from the command line."))
    try:
        canonical = normalize_address(address)
    except AddressError as exc:
        raise ValidationError({"address": str(exc)}) from None
    user = Mailbox.objects.select_for_update().filter(address=canonical).first()
    if user is None:
        user = Mailbox(address=canonical, local_part=canonical.split("@")[0])
        user.full_clean(exclude=["password"])
        if canonical in addresses_in_use([canonical]):  # (no mailbox has it: found above otherwise)
            raise ValidationError(
                {"address": gettext("%(address)s is an alias, not a mailbox.") % {"address": canonical}}
            )
        if password_hash and password is None:
            try:
                user.password = passwords.normalize_hash(password_hash)
            except passwords.UnknownScheme as exc:
                raise ValidationError({"password": str(exc)}) from None
        elif password is None:
            raise ValidationError({"password": gettext("A new panel-only superuser needs a password.")})
    if password is not None:
        if validate_password:
            check_password_policy(password, user)
        _set_password_checked(user, password)
    before = snapshot(user) if user.pk else None
    user.is_superuser = True
    user.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="superuser.grant",
        obj=user,
        domain=user.domain,
        before=before,
        after=snapshot(user),
    )
    return user


@transaction.atomic
def superuser_revoke(*, address: str, acting_user=None, origin: str) -> Mailbox:
    require(acting_user is None, gettext("Superuser status is revoked only from the command line."))
    user = get_mailbox(address)
    if not user.is_superuser:
        raise ValidationError({"address": gettext("%(address)s is not a superuser.") % {"address": user.address}})
    if not Mailbox.objects.filter(is_superuser=True).exclude(pk=user.pk).exists():
        raise ValidationError(gettext("This is the last superuser; make another one first."))
    before = snapshot(user)
    user.is_superuser = False
    user.save(update_fields=["is_superuser"])
    record(
        acting_user=acting_user, origin=origin, action="superuser.revoke", obj=user, before=before, after=snapshot(user)
    )
    return user


# --- bulk work (the domain page of the panel) -------------------------------------


@transaction.atomic
def mailbox_bulk_update(
    *,
    acting_user,
    mailboxes,
    origin: str,
    active: bool = UNSET,
    may_relay: bool = UNSET,
    filtering: bool = UNSET,
    quota_bytes: int = UNSET,
) -> int:
    """Apply the same flags or quota to many mailboxes, all or none."""
    fields = given(locals(), (*FLAG_FIELDS, "quota_bytes"))
    count = 0
    for mailbox in mailboxes:
        mailbox_update(acting_user=acting_user, mailbox=mailbox, origin=origin, **fields)
        count += 1
    return count


@transaction.atomic
def mailbox_bulk_delete(*, acting_user, mailboxes, origin: str) -> int:
    """Delete many mailboxes, all or none."""
    count = 0
    for mailbox in mailboxes:
        mailbox_delete(acting_user=acting_user, mailbox=mailbox, origin=origin)
        count += 1
    return count
