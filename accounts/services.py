"""Writes to mailboxes: create, update, passwords, delete, superuser status."""

from __future__ import annotations

import logging
import secrets
import smtplib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from accounts import mailstore
from accounts.models import Mailbox, MailboxArchive
from aliases.models import Alias
from domains.models import Domain
from domains.services import check_mailbox_limits, lock_limits
from mailadmin import permissions
from mailadmin.audit import record, snapshot
from mailadmin.lib import passwords
from mailadmin.lib.addresses import AddressError, normalize_address
from mailadmin.permissions import require

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("first_name", "last_name", "phone", "other_email", "notes")
FLAG_FIELDS = ("active", "may_relay", "filtering")


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
    quota_bytes: int | None = None,
    origin: str = "cli",
    welcome: bool = True,
    validate_password: bool = True,
    **fields,
) -> Mailbox:
    """Create a mailbox within the domain's and every covering grant's limits.

    The password must pass the policy (``check_password_policy``) unless
    ``validate_password`` is False: imports and restores of passwords already in use.
    With ``welcome`` (and MAIL_WELCOME_SUBJECT set) a welcome message is sent
    after the commit, so Dovecot creates the maildir at once.
    """
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
        quota_bytes=domain.default_quota_bytes if quota_bytes is None else quota_bytes,
        **fields,
    )
    mailbox.full_clean(exclude=["password"])
    _check_address_free(mailbox.address, kind="mailbox")
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


def send_welcome(address: str) -> bool:
    """Send the welcome message to a new mailbox; a failure is logged, never raised."""
    try:
        send_mail(settings.MAIL_WELCOME_SUBJECT, settings.MAIL_WELCOME_BODY, settings.MAIL_WELCOME_FROM, [address])
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("Welcome message to %s not sent: %s", address, exc)
        return False
    return True


def _check_address_free(address: str, *, kind: str) -> None:
    """A mailbox and an alias never share an address (either would shadow the other)."""
    if Mailbox.objects.filter(address=address).exists():
        raise ValidationError({"local_part": f"{address} already exists as a mailbox."})
    if Alias.objects.filter(address=address).exists():
        raise ValidationError({"local_part": f"{address} already exists as an alias."})
    if kind != "mailbox":
        return
    moving = MailboxArchive.objects.filter(address=address, state__in=["pending", "restoring"])
    state = moving.values_list("state", flat=True).first()
    if state == MailboxArchive.State.PENDING:
        raise ValidationError(
            {
                "local_part": f"The mail of the deleted mailbox {address} is still being archived; "
                "create it again once the mail store job has run (within a minute)."
            }
        )
    if state == MailboxArchive.State.RESTORING:  # its mail is about to move back into the maildir
        raise ValidationError(
            {"local_part": f"The deleted mailbox {address} is being restored; it is back within a minute."}
        )


@transaction.atomic
def mailbox_update(*, acting_user, mailbox: Mailbox, origin: str = "cli", **fields) -> Mailbox:
    """Change profile fields, flags or the quota (checked against domain and grant limits)."""
    allowed = set(PROFILE_FIELDS) | set(FLAG_FIELDS) | {"quota_bytes"}
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
        raise ValidationError(
            {
                "active": f"{mailbox.address} is the last active superuser; switching it off would lock "
                "every superuser out. Make another superuser active first."
            }
        )


@transaction.atomic
def mailbox_set_password(
    *, acting_user, mailbox: Mailbox, password: str, origin: str = "cli", validate_password: bool = True
) -> Mailbox:
    """Reset a password (admins, superusers) or change one's own (end users check the old one first).

    The password must pass the policy unless ``validate_password`` is False.
    """
    own = acting_user is not None and acting_user.pk == mailbox.pk
    require(
        acting_user is None or own or permissions.can_manage_mailbox(acting_user, mailbox),
        "You may not change that mailbox's password.",
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
        domain=mailbox.domain,
    )
    return mailbox


@transaction.atomic
def mailbox_delete(*, acting_user, mailbox: Mailbox, origin: str = "cli") -> None:
    require(
        acting_user is None or permissions.can_delete_mailbox(acting_user, mailbox), "You may not delete that mailbox."
    )
    require(acting_user is None or acting_user.pk != mailbox.pk, "You cannot delete your own mailbox.")
    before = snapshot(mailbox)
    domain = mailbox.domain
    archive_request(mailbox=mailbox, acting_user=acting_user)
    mailbox.delete()
    record(acting_user=acting_user, origin=origin, action="mailbox.delete", obj=mailbox, domain=domain, before=before)


@transaction.atomic
def superuser_create(
    *, address: str, password: str | None, acting_user=None, origin: str = "cli", validate_password: bool = True
) -> Mailbox:
    """Make ``address`` a superuser: its mailbox if it exists, else a panel-only account.

    The command line is the only way to grant superuser status. A new ``password`` must
    pass the policy unless ``validate_password`` is False.
    """
    require(acting_user is None, "Superuser status is granted only from the command line.")
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
def superuser_revoke(*, address: str, acting_user=None, origin: str = "cli") -> Mailbox:
    require(acting_user is None, "Superuser status is revoked only from the command line.")
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


# --- bulk work (the domain page of the panel) -------------------------------------


def _line_errors(errors: list[tuple[int, str, ValidationError]]) -> ValidationError:
    messages = []
    for line, name, exc in errors:
        for message in exc.messages:
            messages.append(
                ValidationError(
                    "Line %(line)s (%(name)s): %(message)s",
                    code="line",
                    params={"line": line, "name": name or "-", "message": message},
                )
            )
    return ValidationError(messages)


@transaction.atomic
def mailbox_bulk_create(*, acting_user, domain: Domain, rows: list[dict], origin: str = "cli") -> list[tuple]:
    """Create many mailboxes with generated passwords, all or none.

    Each row holds ``local_part`` and optionally ``quota_bytes``, profile fields,
    flags and ``line`` (its number in the input). Every row is tried (each in a
    savepoint), so the errors of all lines are reported together; if any fails
    nothing is kept. Returns ``[(mailbox, password), ...]``.
    """
    require(
        acting_user is None or permissions.can_create_mailbox(acting_user, domain),
        "You may not create mailboxes in that domain.",
    )
    created, errors = [], []
    for number, row in enumerate(rows, start=1):
        fields = dict(row)
        line = fields.pop("line", number)
        password = generate_password_for(
            domain=domain,
            local_part=fields.get("local_part", ""),
            first_name=fields.get("first_name", ""),
            last_name=fields.get("last_name", ""),
        )
        try:
            mailbox = mailbox_create(acting_user=acting_user, domain=domain, password=password, origin=origin, **fields)
        except ValidationError as exc:
            errors.append((line, row.get("local_part", ""), exc))
        else:
            created.append((mailbox, password))
    if errors:
        raise _line_errors(errors)
    return created


@transaction.atomic
def mailbox_bulk_update(*, acting_user, mailboxes, origin: str = "cli", **fields) -> int:
    """Apply the same flags or quota to many mailboxes, all or none."""
    count = 0
    for mailbox in mailboxes:
        mailbox_update(acting_user=acting_user, mailbox=mailbox, origin=origin, **fields)
        count += 1
    return count


@transaction.atomic
def mailbox_bulk_delete(*, acting_user, mailboxes, origin: str = "cli") -> int:
    """Delete many mailboxes, all or none."""
    count = 0
    for mailbox in mailboxes:
        mailbox_delete(acting_user=acting_user, mailbox=mailbox, origin=origin)
        count += 1
    return count


# --- mailbox lifecycle: archive on delete, restore, purge (issue 5) ---------------------

ARCHIVED_SETTINGS = ("quota_bytes", *PROFILE_FIELDS, *FLAG_FIELDS)


def archive_request(*, mailbox: Mailbox, acting_user) -> MailboxArchive | None:
    """Record that a deleted mailbox's mail must be archived (call in the deleting transaction).

    The mail itself is moved later by ``mailstore_run`` as the mail store's owner;
    until then ``mailbox_create`` refuses the same address, so a new mailbox can
    never see the old mail. Panel-only accounts have no mail: nothing is recorded.
    """
    if not mailbox.domain_id:
        return None
    return MailboxArchive.objects.create(
        address=mailbox.address,
        domain=mailbox.domain,
        domain_name=mailbox.domain.name,
        local_part=mailbox.local_part,
        maildir=mailbox.maildir,
        deleted_at=timezone.now(),
        deleted_by=str(acting_user) if acting_user is not None else "system",
        # the role it held decides who may restore it (its password and mail come back)
        settings={key: getattr(mailbox, key) for key in ARCHIVED_SETTINGS} | {"role": permissions.role_name(mailbox)},
        password=mailbox.password,
    )


RESTORABLE_STATES = (MailboxArchive.State.PENDING, MailboxArchive.State.ARCHIVED)


def restorable(archive: MailboxArchive, now=None) -> bool:
    """Whether ``archive`` can still be restored: its mail is kept and the grace period runs."""
    now = now or timezone.now()
    return archive.state in RESTORABLE_STATES and now < archive.purge_due(settings.MAIL_ARCHIVE_GRACE_DAYS)


def kept_archives(domain: Domain):
    """The deleted mailboxes of ``domain`` (this domain record, not its name) whose mail is still kept."""
    return MailboxArchive.objects.filter(domain=domain).exclude(
        state__in=[MailboxArchive.State.RESTORED, MailboxArchive.State.PURGED]
    )


def deleted_domain_archives(name: str):
    """Restorable deleted mailboxes of earlier, deleted domains called ``name`` (for a superuser to
    restore explicitly into a domain: a new domain of an old name does not inherit them)."""
    return MailboxArchive.objects.filter(domain__isnull=True, domain_name=name, state__in=RESTORABLE_STATES)


def get_archive(address: str) -> MailboxArchive:
    """The latest archive of ``address`` that can still be restored."""
    try:
        canonical = normalize_address(address)
    except AddressError as exc:
        raise ValidationError({"address": str(exc)}) from None
    archive = (
        MailboxArchive.objects.filter(address=canonical, state__in=RESTORABLE_STATES)
        .order_by("-deleted_at", "-id")
        .first()
    )
    if archive is None:
        raise ValidationError({"address": f"No deleted mailbox {canonical} that can be restored."})
    return archive


@transaction.atomic
def mailbox_restore(
    *, acting_user, archive: MailboxArchive, into: Domain | None = None, origin: str = "cli"
) -> MailboxArchive:
    """Bring a deleted mailbox back within the grace period; refused when the address is taken.

    It comes back into the domain record it was deleted from. When that domain was
    deleted too, only a superuser can restore it, into a domain named as ``into``
    (a new domain of the same name does not inherit its predecessor's mailboxes).
    Mail not yet moved (``pending``) stays where it is and the mailbox is back at
    once; archived mail is moved back by the next ``mailstore_run``, which then
    re-creates the mailbox (so nothing can be delivered before its mail is back).
    A restore counts against the domain's and its grants' limits like a new
    mailbox: they are checked now, and again when the job re-creates it.
    """
    archive = MailboxArchive.objects.select_for_update().get(pk=archive.pk)
    before = snapshot(archive)
    domain = _restore_target(acting_user, archive, into)
    require(
        acting_user is None or permissions.can_restore_mailbox(acting_user, domain, archive),
        "You may not restore that mailbox.",
    )
    if archive.state not in RESTORABLE_STATES:
        raise ValidationError(f"{archive.address} cannot be restored (it is {archive.get_state_display().lower()}).")
    if timezone.now() >= archive.purge_due(settings.MAIL_ARCHIVE_GRACE_DAYS):
        raise ValidationError(f"The grace period of {archive.address} is over; its mail is being deleted.")
    if domain.pk != archive.domain_id:
        _retarget(archive, domain)
    if (
        Mailbox.objects.filter(address=archive.address).exists()
        or Alias.objects.filter(address=archive.address).exists()
    ):
        raise ValidationError({"address": f"{archive.address} is in use again; it cannot be restored."})
    domain, grants = lock_limits(domain)
    check_mailbox_limits(  # acting_user: an admin's message names no other admin's grant
        domain,
        grants,
        new_mailboxes=1,
        old_quota_bytes=None,
        new_quota_bytes=_archived_quota(archive, domain),
        acting_user=acting_user,
    )
    if archive.state == MailboxArchive.State.PENDING:  # the mail is still in place
        archive.state, archive.finished_at = MailboxArchive.State.RESTORED, timezone.now()
        archive.save()
        _recreate(archive, domain)
        archive.password = ""
    else:
        archive.state = MailboxArchive.State.RESTORING
    archive.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="mailbox.restore",
        obj=archive,
        domain=domain,
        before=before,
        after=snapshot(archive),
    )
    return archive


def _restore_target(acting_user, archive: MailboxArchive, into: Domain | None) -> Domain:
    """The domain record a restore goes into: the archive's own, or (superusers) ``into`` if it was deleted."""
    if into is None:
        if archive.domain_id is None:
            raise ValidationError(
                {
                    "domain": f"The domain {archive.domain_name} that {archive.address} was deleted from no longer "
                    "exists; a superuser can restore it into a domain named explicitly "
                    "(manage.py mailstore restore ADDRESS --into-domain NAME)."
                }
            )
        return archive.domain
    require(
        acting_user is None or permissions.can_restore_into_domain(acting_user),
        "Only superusers restore a mailbox of a deleted domain.",
    )
    if archive.domain_id not in (None, into.pk):
        raise ValidationError(
            {"domain": f"{archive.address} was deleted from {archive.domain_name}, which exists; restore it there."}
        )
    return into


def _retarget(archive: MailboxArchive, domain: Domain) -> None:
    """Point an archive of a deleted domain at the domain it is restored into (its address and maildir follow)."""
    address = normalize_address(f"{archive.local_part}@{domain.name}")
    if address != archive.address and archive.state == MailboxArchive.State.PENDING:
        raise ValidationError(
            f"The mail of {archive.address} is still being archived; restore it into {domain.name} once the "
            "mail store job has run (within a minute)."
        )
    archive.domain, archive.domain_name, archive.address = domain, domain.name, address
    archive.maildir = Mailbox(domain=domain, local_part=archive.local_part).maildir


def _archived_quota(archive: MailboxArchive, domain: Domain) -> int:
    quota_bytes = archive.settings.get("quota_bytes")
    return domain.default_quota_bytes if quota_bytes is None else quota_bytes


def _recreate(archive: MailboxArchive, domain: Domain) -> Mailbox:
    """The mailbox again, as it was (limits checked like any new mailbox)."""
    saved = dict(archive.settings)
    mailbox = mailbox_create(
        acting_user=None,
        domain=domain,
        local_part=archive.local_part,
        password=generate_password(),
        quota_bytes=_archived_quota(archive, domain),
        origin="restore",
        welcome=False,
        validate_password=False,  # replaced by the archived hash, if any; nobody knows it otherwise
        **{k: v for k, v in saved.items() if k in PROFILE_FIELDS or k in FLAG_FIELDS},
    )
    if archive.password:
        mailbox.password = archive.password
        Mailbox.objects.filter(pk=mailbox.pk).update(password=archive.password)
    return mailbox


def mailstore_run(*, store: Path, now=None) -> dict:
    """The mail store job (as the store's owner): archive, restore, then purge.

    Each step is idempotent and recorded on its archive row, so a job that stops
    half-way is finished by the next run. Returns counts and the errors met.
    """
    now = now or timezone.now()
    result = {"archived": 0, "restored": 0, "purged": 0, "errors": []}
    for archive in MailboxArchive.objects.filter(state=MailboxArchive.State.PENDING).order_by("pk"):
        _step(result, "archived", archive, lambda a: _archive_one(store, a, now))
    restoring = MailboxArchive.objects.filter(state=MailboxArchive.State.RESTORING).select_related("domain")
    for archive in restoring.order_by("pk"):
        _step(result, "restored", archive, lambda a: _restore_one(store, a, now))
    due = now - timedelta(days=settings.MAIL_ARCHIVE_GRACE_DAYS)
    for archive in MailboxArchive.objects.filter(state=MailboxArchive.State.ARCHIVED, deleted_at__lte=due):
        _step(result, "purged", archive, lambda a: _purge_one(store, a, now))
    return result


def _step(result: dict, counter: str, archive: MailboxArchive, action) -> None:
    try:
        action(archive)
        result[counter] += 1
    except (OSError, ValueError, ValidationError) as exc:
        message = format_problem(exc)
        MailboxArchive.objects.filter(pk=archive.pk).update(note=message[:500])
        result["errors"].append(f"{archive.address}: {message}")


def format_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


def _archive_one(store: Path, archive: MailboxArchive, now) -> None:
    if not archive.archive_path:  # decided (and saved) first, so a retry finds the mail
        archive.archive_path = mailstore.archive_path_for(store, archive.domain_name, archive.local_part, now)
        archive.save(update_fields=["archive_path"])
    mailstore.move(store, archive.maildir, archive.archive_path)
    archive.state, archive.archived_at, archive.note = MailboxArchive.State.ARCHIVED, now, ""
    archive.save(update_fields=["state", "archived_at", "note"])


def _restore_one(store: Path, archive: MailboxArchive, now) -> None:
    """Move the mail back, then re-create the mailbox; if that is refused, back to archived."""
    domain = archive.domain  # the record it is restored into, never another domain of the same name
    if domain is None:
        MailboxArchive.objects.filter(pk=archive.pk).update(state=MailboxArchive.State.ARCHIVED)
        raise ValidationError(
            f"The domain {archive.domain_name} was deleted before the mail came back; it stays archived."
        )
    moved = mailstore.move(store, archive.archive_path, archive.maildir)
    try:
        with transaction.atomic():
            # restored in the same transaction as the mailbox (and no longer "restoring" to its own check)
            MailboxArchive.objects.filter(pk=archive.pk).update(state=MailboxArchive.State.RESTORED)
            _recreate(archive, domain)
    except ValidationError:
        if moved:
            mailstore.move(store, archive.maildir, archive.archive_path)
        MailboxArchive.objects.filter(pk=archive.pk).update(state=MailboxArchive.State.ARCHIVED)
        raise
    archive.state, archive.finished_at, archive.password, archive.note = MailboxArchive.State.RESTORED, now, "", ""
    archive.save()


def _purge_one(store: Path, archive: MailboxArchive, now) -> None:
    if archive.archive_path:
        mailstore.purge(store, archive.archive_path)
    archive.state, archive.finished_at, archive.password = MailboxArchive.State.PURGED, now, ""
    archive.save(update_fields=["state", "finished_at", "password"])


# --- usage: the job that reads the mail store (issue 5) -----------------------------------

USAGE_FIELDS = ["usage_bytes", "message_count", "inbox_changed_at", "over_quota"]


def mailbox_usage_refresh(*, store: Path, now=None, batch_size: int = 1000) -> dict:
    """Read every mailbox's usage from the mail store and store what changed.

    A measurement, not an administrative change: no audit row. Only changed rows
    are written (so a run every minute costs one read per maildir and one
    UPDATE for ``usage_updated_at``); ``over_quota`` is what Exim reads at RCPT.
    """
    now = now or timezone.now()
    rows = Mailbox.objects.filter(domain__isnull=False).values_list(
        "pk", "domain__name", "local_part", "quota_bytes", *USAGE_FIELDS
    )
    changed, sources = [], {"maildirsize": 0, "scan": 0, "missing": 0}
    for pk, domain, local_part, quota_bytes, *current in rows.iterator(chunk_size=2000):
        usage = mailstore.read_usage(store / domain / local_part)
        sources[usage.source] += 1
        inbox_changed = datetime.fromtimestamp(int(usage.inbox_changed), UTC) if usage.inbox_changed else None
        measured = [usage.bytes, usage.messages, inbox_changed, bool(quota_bytes) and usage.bytes >= quota_bytes]
        if measured != current:
            changed.append((pk, *measured))
    with transaction.atomic():
        _write_usage(changed, batch_size)
        Mailbox.objects.filter(domain__isnull=False).update(usage_updated_at=now)
    return {"mailboxes": sum(sources.values()), "changed": len(changed), **sources}


def _write_usage(rows: list[tuple], batch_size: int) -> None:
    """One prepared UPDATE by primary key, executed for many rows (far cheaper than bulk_update's CASE)."""
    ops, table = connection.ops, Mailbox._meta.db_table
    columns = ", ".join(f"{ops.quote_name(name)} = %s" for name in USAGE_FIELDS)
    sql = f"UPDATE {ops.quote_name(table)} SET {columns} WHERE {ops.quote_name('id')} = %s"
    params = [(size, count, ops.adapt_datetimefield_value(when), over, pk) for pk, size, count, when, over in rows]
    with connection.cursor() as cursor:
        for start in range(0, len(params), batch_size):
            cursor.executemany(sql, params[start : start + batch_size])
