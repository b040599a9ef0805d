"""The life of a deleted mailbox's mail: archived on delete, restored, purged after the grace period.

``archive_request`` runs in the deleting transaction; ``mailstore_run`` (the mail-store job,
``manage.py mailstore run``, as the store's owner) moves the mail; ``mailbox_restore`` brings a
mailbox back while its mail is kept.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import mailstore, services
from accounts.models import (
    FLAG_FIELDS,
    PROFILE_FIELDS,
    PROTOCOL_FIELDS,
    SEND_LIMIT_FIELDS,
    Mailbox,
    MailboxArchive,
    maildir_of,
)
from aliases.models import addresses_in_use
from domains.limits import check_mailbox_limits, lock_limits
from domains.models import Domain
from mailadmin import permissions
from mailadmin.audit import record, snapshot
from mailadmin.cli import format_error
from mailadmin.lib.addresses import AddressError, normalize_address
from mailadmin.permissions import require


def get_archive(address: str) -> MailboxArchive:
    """The latest archive of ``address`` that can still be restored."""
    try:
        canonical = normalize_address(address)
    except AddressError as exc:
        raise ValidationError({"address": str(exc)}) from None
    archive = (
        MailboxArchive.objects.filter(address=canonical, state__in=MailboxArchive.RESTORABLE_STATES)
        .order_by("-deleted_at", "-id")
        .first()
    )
    if archive is None:
        text = gettext("No deleted mailbox %(address)s that can be restored.")
        raise ValidationError({"address": text % {"address": canonical}})
    return archive


@transaction.atomic
def mailbox_restore(*, acting_user, archive: MailboxArchive, into: Domain | None = None, origin: str) -> MailboxArchive:
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
        gettext("You may not restore that mailbox."),
    )
    if archive.state not in MailboxArchive.RESTORABLE_STATES:
        raise ValidationError(_not_restorable(archive))
    if timezone.now() >= archive.purge_due(settings.MAIL_ARCHIVE_GRACE_DAYS):
        text = gettext("The grace period of %(address)s is over; its mail is being deleted.")
        raise ValidationError(text % {"address": archive.address})
    if domain.pk != archive.domain_id:
        _retarget(archive, domain)
    domain, grants = lock_limits(domain)
    if archive.address in addresses_in_use([archive.address]):
        text = gettext("%(address)s is in use again; it cannot be restored.")
        raise ValidationError({"address": text % {"address": archive.address}})
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
        archive.note = _recreate(archive, domain)
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


def _not_restorable(archive: MailboxArchive) -> str:
    """Why an archive in a state past restoring cannot be restored."""
    if archive.state == MailboxArchive.State.RESTORING:
        text = gettext("%(address)s cannot be restored (it is waiting to be restored).")
    elif archive.state == MailboxArchive.State.RESTORED:
        text = gettext("%(address)s cannot be restored (it is restored).")
    else:
        text = gettext("%(address)s cannot be restored (it is purged).")
    return text % {"address": archive.address}


def _restore_target(acting_user, archive: MailboxArchive, into: Domain | None) -> Domain:
    """The domain record a restore goes into: the archive's own, or (superusers) ``into`` if it was deleted."""
    if into is None:
        if archive.domain_id is None:
            text = gettext(
                "The domain %(domain)s that %(address)s was deleted from no longer exists; a superuser can restore "
                "it into a domain named explicitly (manage.py mailstore restore ADDRESS --into-domain NAME)."
            )
            raise ValidationError({"domain": text % {"domain": archive.domain_name, "address": archive.address}})
        return archive.domain
    require(
        acting_user is None or permissions.can_restore_into_domain(acting_user),
        gettext("Only superusers restore a mailbox of a deleted domain."),
    )
    if archive.domain_id not in (None, into.pk):
        text = gettext("%(address)s was deleted from %(domain)s, which exists; restore it there.")
        raise ValidationError({"domain": text % {"address": archive.address, "domain": archive.domain_name}})
    return into


def _retarget(archive: MailboxArchive, domain: Domain) -> None:
    """Point an archive of a deleted domain at the domain it is restored into (its address and maildir follow)."""
    address = normalize_address(f"{archive.local_part}@{domain.name}")
    if address != archive.address and archive.state == MailboxArchive.State.PENDING:
        text = gettext(
            "The mail of %(address)s is still being archived; restore it into %(domain)s once the mail store job "
            "has run (within a minute)."
        )
        raise ValidationError(text % {"address": archive.address, "domain": domain.name})
    archive.domain, archive.domain_name, archive.address = domain, domain.name, address
    archive.maildir = maildir_of(domain.name, archive.local_part)


def _archived_quota(archive: MailboxArchive, domain: Domain) -> int:
    quota_bytes = archive.settings.get("quota_bytes")
    return domain.default_quota_bytes if quota_bytes is None else quota_bytes


def _recreate(archive: MailboxArchive, domain: Domain) -> str:
    """The mailbox again, as it was (limits checked like any new mailbox), its forwarding too where
    the domain still allows it; returns a note on what did not come back ("" when all did)."""
    saved = dict(archive.settings)
    mailbox = services.mailbox_create(
        acting_user=None,
        domain=domain,
        local_part=archive.local_part,
        password=services.generate_password(),
        quota_bytes=_archived_quota(archive, domain),
        origin="restore",
        welcome=False,
        validate_password=False,  # replaced by the archived hash, if any; nobody knows it otherwise
        **{
            k: v for k, v in saved.items() if k in (*PROFILE_FIELDS, *FLAG_FIELDS, *PROTOCOL_FIELDS, *SEND_LIMIT_FIELDS)
        },
    )
    if archive.password:
        mailbox.password = archive.password
        Mailbox.objects.filter(pk=mailbox.pk).update(password=archive.password)
    if saved.get("forward_to"):
        try:
            with transaction.atomic():
                services.mailbox_set_forwarding(
                    acting_user=None,
                    mailbox=mailbox,
                    destinations=saved["forward_to"].split(", "),
                    keep_copy=saved.get("forward_keep_copy", True),
                    origin="restore",
                )
        except ValidationError as exc:
            return f"Its forwarding to {saved['forward_to']} was not restored: {format_error(exc, '; ')}"[:500]
    return ""


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
    except ValidationError as exc:
        _note(result, archive, format_error(exc, "; "))
    except (OSError, ValueError) as exc:
        _note(result, archive, str(exc))


def _note(result: dict, archive: MailboxArchive, message: str) -> None:
    """Why the job could not do its step, on the archive row (shown in the panel) and in the result."""
    MailboxArchive.objects.filter(pk=archive.pk).update(note=message[:500])
    result["errors"].append(f"{archive.address}: {message}")


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
            note = _recreate(archive, domain)
    except ValidationError:
        if moved:
            mailstore.move(store, archive.maildir, archive.archive_path)
        MailboxArchive.objects.filter(pk=archive.pk).update(state=MailboxArchive.State.ARCHIVED)
        raise
    archive.state, archive.finished_at, archive.password, archive.note = MailboxArchive.State.RESTORED, now, "", note
    archive.save()


def _purge_one(store: Path, archive: MailboxArchive, now) -> None:
    if archive.archive_path:
        mailstore.purge(store, archive.archive_path)
    archive.state, archive.finished_at, archive.password = MailboxArchive.State.PURGED, now, ""
    archive.save(update_fields=["state", "finished_at", "password"])
