"""The panel's front page, login and the audit log."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET

from mailadmin import permissions
from mailadmin.forms import LoginForm, SearchForm
from mailadmin.models import AuditEntry
from mailadmin.shortcuts import require


@require_GET
def home(request):
    """Administrators start at their domains, everyone else at their own account."""
    if permissions.can_use_admin_pages(request.user):
        return redirect("domains:list")
    return redirect("accounts:me")


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


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
