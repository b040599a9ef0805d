"""Helpers the panel's views share: fetch-and-check, the client address, service calls.

The ``get_*_for`` helpers load through the scoped querysets (``visible_to``), so
what the acting user may not see answers 404; ``write=True`` then asks the
permission predicate and answers 403 when the object is visible but not theirs
to change (a mailbox that outranks the actor).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.shortcuts import get_object_or_404

from mailadmin import permissions
from mailadmin.lib.addresses import AddressError, normalize_address
from mailadmin.lib.clients import client_address
from mailadmin.permissions import require  # noqa: F401 - the views take it from here


def client_ip(request) -> str | None:
    """The client's own address, or None when it is not known (``mailadmin.lib.clients``).

    django-axes counts login failures per client only when this is known.
    """
    return client_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        trusted=settings.TRUSTED_PROXIES,
        direct=settings.CLIENTS_CONNECT_DIRECTLY,
    )


def origin(request) -> str:
    """What the audit log records as where a panel change came from: the client, else the connection."""
    return client_ip(request) or request.META.get("REMOTE_ADDR") or "unknown"


def login_username(request, credentials) -> str:
    """The canonical address for django-axes, so Foo@Example.ORG and foo@example.org share a counter."""
    raw = (credentials or {}).get("username") if credentials else None
    if raw is None and request is not None:
        raw = request.POST.get("username", "")
    raw = (raw or "")[:254]
    try:
        return normalize_address(raw)
    except AddressError:
        return raw.strip().lower()


def get_domain_for(request, pk, *, write: bool = False):
    """A domain the user may see (else 404); ``write``: its settings and limits (else 403)."""
    from domains.models import Domain

    domain = get_object_or_404(Domain.objects.visible_to(request.user), pk=pk)
    if write:
        require(permissions.is_superuser(request.user))
    return domain


def get_mailbox_for(request, pk, *, write: bool = False):
    """A mailbox the user may see (else 404); ``write``: may change it (else 403)."""
    from accounts.models import Mailbox

    mailbox = get_object_or_404(Mailbox.objects.visible_to(request.user).select_related("domain"), pk=pk)
    require(permissions.can_view_mailbox(request.user, mailbox))
    if write:
        require(permissions.can_manage_mailbox(request.user, mailbox))
    return mailbox


def get_alias_for(request, pk):
    from aliases.models import Alias

    return get_object_or_404(Alias.objects.visible_to(request.user).select_related("domain"), pk=pk)


def get_domain_alias_for(request, pk):
    from domains.models import Domain, DomainAlias

    visible = Domain.objects.visible_to(request.user)
    return get_object_or_404(DomainAlias.objects.select_related("target").filter(target__in=visible), pk=pk)


def get_archive_for(request, pk, *, write: bool = False):
    """A deleted mailbox of a domain the user may see (else 404), with that domain as ``.domain``;
    ``write``: may restore it (else 403)."""
    from accounts.models import MailboxArchive
    from domains.models import Domain

    visible = Domain.objects.visible_to(request.user)
    archives = MailboxArchive.objects.filter(domain__in=visible.values("pk")).select_related("domain")
    archive = get_object_or_404(archives, pk=pk)
    if write:
        require(permissions.can_restore_mailbox(request.user, archive.domain, archive))
    return archive


def get_earlier_archive_for(request, domain, pk):
    """A deleted mailbox of an earlier, deleted domain of ``domain``'s name (else 404), to restore
    into ``domain``: superusers only (else 403)."""
    from accounts.models import MailboxArchive

    require(permissions.can_restore_into_domain(request.user))
    return get_object_or_404(MailboxArchive.objects.of_deleted_domain(domain.name), pk=pk)


def get_grant_for(request, pk, *, write: bool = False):
    """A grant the user may see (else 404); ``write``: may change or revoke it (else 403)."""
    from domains.models import AdminGrant

    require(permissions.can_manage_grants(request.user))
    grants = AdminGrant.objects.filter(permissions.visible_grant_filter(request.user)).distinct()
    grant = get_object_or_404(grants.select_related("admin"), pk=pk)
    if write:
        require(permissions.can_manage_grant(request.user, grant))
    return grant


def add_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has one, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            name = field if field in form.fields else None
            for error in errors:
                for message in error.messages:
                    label = "" if name or field == NON_FIELD_ERRORS else f"{field.replace('_', ' ')}: "
                    form.add_error(name, f"{label}{message}")
    else:
        for message in exc.messages:
            form.add_error(None, message)


def call_service(form, service, /, **kwargs):
    """Call ``service``; a ValidationError goes onto ``form`` and the result is None."""
    try:
        return service(**kwargs)
    except ValidationError as exc:
        add_errors(form, exc)
        return None
