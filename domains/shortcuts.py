"""Fetch-and-check helpers of the domain pages.

They load through the scoped querysets (``visible_to``), so what the acting user may not see
answers 404; ``write=True`` then asks the permission predicate and answers 403 when the object is
visible but not theirs to change.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from domains.models import AdminGrant, Domain, DomainAlias
from mailadmin import permissions
from mailadmin.permissions import require


def get_domain_for(request, pk, *, write: bool = False):
    """A domain the user may see (else 404); ``write``: its settings and limits (else 403)."""
    domain = get_object_or_404(Domain.objects.visible_to(request.user), pk=pk)
    if write:
        require(permissions.is_superuser(request.user))
    return domain


def get_domain_alias_for(request, pk):
    visible = Domain.objects.visible_to(request.user)
    return get_object_or_404(DomainAlias.objects.select_related("target").filter(target__in=visible), pk=pk)


def get_grant_for(request, pk, *, write: bool = False):
    """A grant the user may see (else 404); ``write``: may change or revoke it (else 403)."""
    require(permissions.can_manage_grants(request.user))
    grants = AdminGrant.objects.filter(permissions.visible_grant_filter(request.user)).distinct()
    grant = get_object_or_404(grants.select_related("admin"), pk=pk)
    if write:
        require(permissions.can_manage_grant(request.user, grant))
    return grant
