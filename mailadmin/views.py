"""The panel's front page and the audit log (the login is the accounts app's: ``accounts.views``)."""

from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from mailadmin import permissions
from mailadmin.forms import SearchForm
from mailadmin.models import AuditEntry
from mailadmin.shortcuts import require


@require_GET
def home(request):
    """Administrators start at their domains, everyone else at their own account."""
    if permissions.can_use_admin_pages(request.user):
        return redirect("domains:list")
    return redirect("accounts:me")


@require_GET
def audit_list(request):
    require(permissions.can_use_admin_pages(request.user))
    search = SearchForm(request.GET)
    entries = AuditEntry.objects.visible_to(request.user)
    if term := search.term():
        entries = entries.filter(
            Q(actor_label__icontains=term)
            | Q(object_repr__icontains=term)
            | Q(action__icontains=term)
            | Q(domain_name__icontains=term)
        )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    for entry in page:  # a client address only of one's own actions (superusers: all)
        entry.shown_origin = entry.origin if permissions.can_see_audit_origin(request.user, entry) else ""
    return render(request, "mailadmin/audit_list.html", {"page": page, "search": search})
