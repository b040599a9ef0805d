"""Fetch-and-check helpers of the mailbox pages.

They load through the scoped querysets (``visible_to``), so what the acting user may not see
answers 404; ``write=True`` then asks the permission predicate and answers 403 when the object is
visible but not theirs to change.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from accounts.models import Job, Mailbox, MailboxArchive
from domains.models import Domain
from mailadmin import permissions
from mailadmin.permissions import require


def get_mailbox_for(request, pk, *, write: bool = False):
    """A mailbox the user may see (else 404); ``write``: may change it (else 403)."""
    mailbox = get_object_or_404(Mailbox.objects.visible_to(request.user).select_related("domain"), pk=pk)
    require(permissions.can_view_mailbox(request.user, mailbox))
    if write:
        require(permissions.can_manage_mailbox(request.user, mailbox))
    return mailbox


def get_archive_for(request, pk, *, write: bool = False):
    """A deleted mailbox of a domain the user may see (else 404), with that domain as ``.domain``;
    ``write``: may restore it (else 403)."""
    visible = Domain.objects.visible_to(request.user)
    archives = MailboxArchive.objects.filter(domain__in=visible.values("pk")).select_related("domain")
    archive = get_object_or_404(archives, pk=pk)
    if write:
        require(permissions.can_restore_mailbox(request.user, archive.domain, archive))
    return archive


def get_earlier_archive_for(request, domain, pk):
    """A deleted mailbox of an earlier, deleted domain of ``domain``'s name (else 404), to restore
    into ``domain``: superusers only (else 403)."""
    require(permissions.can_restore_into_domain(request.user))
    return get_object_or_404(MailboxArchive.objects.of_deleted_domain(domain.name), pk=pk)


def get_job_for(request, pk):
    """A bulk job of the user's own, or any for a superuser (else 404: another's job is not there)."""
    return get_object_or_404(Job.objects.visible_to(request.user).select_related("domain"), pk=pk)
