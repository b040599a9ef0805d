"""The panel's front page and the audit log (the login is the accounts app's: ``accounts.views``)."""

import sys

from django.core.paginator import Paginator
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.models import Q
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views import defaults
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


# In English for the API's answer; the page shows it in the page's language.
DATABASE_UNREACHABLE = gettext_noop(
    "The mail directory's database cannot be reached, so the panel can neither show nor change "
    "anything now; nothing was changed. Mail delivery and mailbox logins go on from the mail "
    "hosts' database replicas, where there are any. Please try again in a few minutes."
)


def server_error(request):
    """handler500: a database that cannot be reached (the primary down, a failover under way) is a
    503 that says so, without touching the database again; anything else is the plain 500."""
    exc = sys.exc_info()[1]
    unreachable = isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DatabaseError) and "read-only" in str(exc).lower()
    )
    if not unreachable:
        return defaults.server_error(request)
    if request.path.startswith("/api/"):
        body = {"error": {"code": "database_unavailable", "message": DATABASE_UNREACHABLE, "fields": {}}}
        response = JsonResponse(body, status=503)
    else:
        html = loader.get_template("503_database.html").render({"message": _(DATABASE_UNREACHABLE)})
        response = HttpResponseServerError(html, status=503)
    response["Retry-After"] = "60"
    return response
