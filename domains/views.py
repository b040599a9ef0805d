"""Domain pages: the list, one page per domain, settings, domain aliases and admin grants."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domains import dns, dnscheck, services
from domains.forms import DomainAliasForm, DomainCreateForm, DomainDeleteForm, DomainSettingsForm, GrantForm
from domains.models import AdminGrant, Domain
from domains.shortcuts import get_domain_alias_for, get_domain_for, get_grant_for
from mailadmin import permissions
from mailadmin.forms import SearchForm
from mailadmin.shortcuts import call_service, origin, require

PAGE_SIZE = 50


def grant_usage(user) -> dict | None:
    """The acting admin's grant with what its domains use now (None for superusers)."""
    grant = permissions.grant_of(user) if not permissions.is_superuser(user) else None
    if grant is None:
        return None
    return {"grant": grant, **grant.usage()}


@require_GET
def domain_list(request):
    require(permissions.can_use_admin_pages(request.user))
    search = SearchForm(request.GET)
    domains = Domain.objects.visible_to(request.user)
    if term := search.term():
        domains = domains.filter(Q(name__icontains=term) | Q(description__icontains=term))
    page = Paginator(domains.only("pk", "name"), PAGE_SIZE).get_page(request.GET.get("page"))
    # The per-domain counts for the page's rows only (``with_usage``).
    page.object_list = list(Domain.objects.filter(pk__in=[d.pk for d in page.object_list]).with_usage())
    context = {"page": page, "search": search, "usage": grant_usage(request.user)}
    return render(request, "domains/domain_list.html", context)


@require_http_methods(["GET", "POST"])
def domain_create(request):
    require(permissions.is_superuser(request.user))
    form = DomainCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        domain = call_service(
            form, services.domain_create, acting_user=request.user, origin=origin(request), **form.cleaned_data
        )
        if not form.errors:
            messages.success(request, f"Domain {domain.display_name} created.")
            return redirect("domains:detail", domain.pk)
    return render(request, "domains/domain_form.html", {"form": form, "title": "New domain"})


@require_GET
def domain_dns(request, pk):
    """The DNS records the domain needs (``domains.dns``): for whoever may see the domain."""
    domain = get_domain_for(request, pk)
    found = dns.records(domain)
    context = {"domain": domain, "records": found, "zone": "\n".join(r.zone_line() for r in found),
               "advice": dns.advice()}  # fmt: skip
    if request.GET.get("check"):  # ask the DNS now: a verdict per record, and the count for the list
        verdicts = dnscheck.check_and_record(domain)
        context.update(verdicts=verdicts, problems=dnscheck.problems_of(verdicts))
    return render(request, "domains/domain_dns.html", context)


@require_GET
def domain_detail(request, pk):
    domain = get_domain_for(request, pk)
    search = SearchForm(request.GET)
    term = search.term()
    is_admin = AdminGrant.objects.filter(admin=OuterRef("pk"))
    mailboxes = domain.mailboxes.annotate(holds_grant=Exists(is_admin))
    aliases = domain.aliases.all()
    if term:
        mailboxes = mailboxes.filter(
            Q(address__icontains=term) | Q(first_name__icontains=term) | Q(last_name__icontains=term)
        )
        aliases = aliases.filter(Q(address__icontains=term) | Q(destinations__icontains=term))
    totals = domain.mailboxes.aggregate(
        count=Count("pk"), usage=Coalesce(Sum("usage_bytes"), 0), quota=Coalesce(Sum("quota_bytes"), 0)
    )
    is_superuser = permissions.is_superuser(request.user)
    page = Paginator(mailboxes, PAGE_SIZE).get_page(request.GET.get("page"))
    for mailbox in page:
        mailbox.manageable = permissions.can_manage_listed_mailbox(
            request.user, target_is_superuser=mailbox.is_superuser, target_holds_grant=mailbox.holds_grant
        )
    context = {
        "domain": domain,
        "search": search,
        "mailboxes": page,
        "aliases": Paginator(aliases, PAGE_SIZE).get_page(request.GET.get("apage")),
        "domain_aliases": list(domain.domain_aliases.all()),
        "can_manage_domain_aliases": permissions.can_manage_domain_aliases(request.user),
        "alias_count": domain.aliases.count(),
        "archive_count": domain.archives.kept().count(),
        "totals": totals,
        "usage": grant_usage(request.user),
        "can_change_settings": permissions.is_superuser(request.user),
        "can_create": permissions.can_create_mailbox(request.user, domain),
        "can_delete": permissions.can_delete_mailboxes_in(request.user, domain),
        "is_superuser": is_superuser,
        "alias_form": DomainAliasForm(),
    }
    return render(request, "domains/domain_detail.html", context)


@require_http_methods(["GET", "POST"])
def domain_settings(request, pk):
    domain = get_domain_for(request, pk, write=True)
    initial = {key: getattr(domain, key) for key in services.DOMAIN_SETTINGS}
    form = DomainSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        call_service(
            form,
            services.domain_update,
            acting_user=request.user,
            domain=domain,
            origin=origin(request),
            **form.cleaned_data,
        )
        if not form.errors:
            messages.success(request, f"Settings of {domain.display_name} saved.")
            return redirect("domains:detail", domain.pk)
    context = {
        "form": form,
        "domain": domain,
        "title": f"Settings of {domain.display_name}",
        "delete_form": DomainDeleteForm(),
    }
    return render(request, "domains/domain_form.html", context)


@require_POST
def domain_delete(request, pk):
    domain = get_domain_for(request, pk, write=True)
    form = DomainDeleteForm(request.POST)
    form.is_valid()
    call_service(
        form,
        services.domain_delete,
        acting_user=request.user,
        domain=domain,
        origin=origin(request),
        force=form.cleaned_data.get("force", False),
    )
    if form.errors:
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect("domains:settings", domain.pk)
    messages.success(request, f"Domain {domain.display_name} deleted.")
    return redirect("domains:list")


@require_POST
def domain_alias_create(request, pk):
    domain = get_domain_for(request, pk)
    require(permissions.can_manage_domain_aliases(request.user), "Only superusers add domain aliases.")
    form = DomainAliasForm(request.POST)
    if form.is_valid():
        call_service(
            form,
            services.domain_alias_create,
            acting_user=request.user,
            target=domain,
            origin=origin(request),
            **form.cleaned_data,
        )
    if form.errors:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Domain alias: {error}")
    else:
        messages.success(request, "Domain alias added.")
    return redirect("domains:detail", domain.pk)


@require_POST
def domain_alias_toggle(request, pk):
    alias = get_domain_alias_for(request, pk)
    services.domain_alias_update(acting_user=request.user, alias=alias, active=not alias.active, origin=origin(request))
    messages.success(request, f"Domain alias {alias.name} {'enabled' if alias.active else 'disabled'}.")
    return redirect("domains:detail", alias.target_id)


@require_POST
def domain_alias_delete(request, pk):
    alias = get_domain_alias_for(request, pk)
    services.domain_alias_delete(acting_user=request.user, alias=alias, origin=origin(request))
    messages.success(request, f"Domain alias {alias.name} deleted.")
    return redirect("domains:detail", alias.target_id)


# --- admin grants -------------------------------------------------------------------


def _grantable_domains(user):
    if permissions.is_superuser(user):
        return Domain.objects.all()
    return permissions.grant_of(user).domains.all()


@require_GET
def grant_list(request):
    require(permissions.can_manage_grants(request.user))
    grants = (
        AdminGrant.objects.filter(permissions.visible_grant_filter(request.user))
        .distinct()
        .select_related("admin")
        # only the domains the actor may see: another admin's grant may hold others
        .prefetch_related(Prefetch("domains", queryset=Domain.objects.visible_to(request.user)))
        .order_by("admin__address")
    )
    page = Paginator(grants, PAGE_SIZE).get_page(request.GET.get("page"))
    for grant in page:
        grant.manageable = permissions.can_manage_grant(request.user, grant)
    return render(request, "domains/grant_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
def grant_create(request):
    require(permissions.can_manage_grants(request.user))
    form = GrantForm(
        request.POST or None,
        domains=_grantable_domains(request.user),
        mailboxes=get_user_model().objects.visible_to(request.user),
    )
    if request.method == "POST" and form.is_valid():
        grant = call_service(
            form,
            services.grant_set,
            acting_user=request.user,
            admin=form.cleaned_data["admin"],
            domains=list(form.cleaned_data["domains"]),
            origin=origin(request),
            **form.grant_fields(),
        )
        if not form.errors:
            messages.success(request, f"{grant.admin} now administers {len(form.cleaned_data['domains'])} domain(s).")
            return redirect("domains:grants")
    return render(request, "domains/grant_form.html", {"form": form, "title": "New admin grant"})


@require_http_methods(["GET", "POST"])
def grant_edit(request, pk):
    grant = get_grant_for(request, pk, write=True)
    initial = {key: getattr(grant, key) for key in services.GRANT_FIELDS} | {"domains": list(grant.domains.all())}
    form = GrantForm(
        request.POST or None, initial=initial, domains=_grantable_domains(request.user), fixed_admin=grant.admin
    )
    if request.method == "POST" and form.is_valid():
        call_service(
            form,
            services.grant_set,
            acting_user=request.user,
            admin=grant.admin,
            domains=list(form.cleaned_data["domains"]),
            origin=origin(request),
            **form.grant_fields(),
        )
        if not form.errors:
            messages.success(request, f"Grant of {grant.admin} saved.")
            return redirect("domains:grants")
    return render(
        request, "domains/grant_form.html", {"form": form, "grant": grant, "title": f"Grant of {grant.admin}"}
    )


@require_POST
def grant_delete(request, pk):
    grant = get_grant_for(request, pk, write=True)
    services.grant_revoke(acting_user=request.user, admin=grant.admin, origin=origin(request))
    messages.success(request, f"{grant.admin} is no longer an administrator.")
    return redirect("domains:grants")
