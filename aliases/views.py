"""Alias pages: create one or many, change destinations, switch on/off, delete."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from aliases import bulk, services
from aliases.forms import AliasForm, BulkAliasForm, DestinationsForm
from aliases.shortcuts import get_alias_for
from domains.shortcuts import get_domain_for
from mailadmin.shortcuts import call_service, origin


@require_http_methods(["GET", "POST"])
def alias_create(request, pk):
    domain = get_domain_for(request, pk)
    form = AliasForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        alias = call_service(
            form,
            services.alias_create,
            acting_user=request.user,
            domain=domain,
            origin=origin(request),
            **form.cleaned_data,
        )
        if not form.errors:
            messages.success(request, f"Alias {alias} created.")
            return redirect("domains:detail", domain.pk)
    return render(request, "aliases/alias_form.html", {"form": form, "domain": domain, "title": "New alias"})


@require_http_methods(["GET", "POST"])
def alias_bulk_create(request, pk):
    domain = get_domain_for(request, pk)
    form = BulkAliasForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = call_service(
            form,
            bulk.alias_bulk_create,
            acting_user=request.user,
            domain=domain,
            rows=form.cleaned_data["lines"],
            origin=origin(request),
        )
        if not form.errors:
            messages.success(request, f"{len(created)} alias(es) created.")
            return redirect("domains:detail", domain.pk)
    return render(
        request,
        "accounts/bulk_form.html",
        {"form": form, "domain": domain, "title": "Create aliases", "kind": "aliases"},
    )


@require_http_methods(["GET", "POST"])
def alias_detail(request, pk):
    alias = get_alias_for(request, pk)
    form = DestinationsForm(request.POST or None, initial={"destinations": "\n".join(alias.destination_list)})
    if request.method == "POST" and form.is_valid():
        call_service(
            form,
            services.alias_set_destinations,
            acting_user=request.user,
            alias=alias,
            origin=origin(request),
            **form.cleaned_data,
        )
        if not form.errors:
            messages.success(request, f"Destinations of {alias} saved.")
            return redirect("domains:detail", alias.domain_id)
    return render(request, "aliases/alias_detail.html", {"form": form, "alias": alias, "domain": alias.domain})


@require_POST
def alias_toggle(request, pk):
    alias = get_alias_for(request, pk)
    services.alias_set_active(acting_user=request.user, alias=alias, active=not alias.active, origin=origin(request))
    messages.success(request, f"Alias {alias} {'enabled' if alias.active else 'disabled'}.")
    return redirect("domains:detail", alias.domain_id)


@require_POST
def alias_delete(request, pk):
    alias = get_alias_for(request, pk)
    services.alias_delete(acting_user=request.user, alias=alias, origin=origin(request))
    messages.success(request, f"Alias {alias} deleted.")
    return redirect("domains:detail", alias.domain_id)
