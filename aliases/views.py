"""Alias pages: create one or many, change destinations, switch on/off, delete."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
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
            messages.success(request, _("Alias %(alias)s created.") % {"alias": alias})
            return redirect("domains:detail", domain.pk)
    return render(request, "aliases/alias_form.html", {"form": form, "domain": domain, "title": _("New alias")})


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
            messages.success(
                request, ngettext("%(n)s alias created.", "%(n)s aliases created.", len(created)) % {"n": len(created)}
            )
            return redirect("domains:detail", domain.pk)
    return render(
        request,
        "accounts/bulk_form.html",
        {"form": form, "domain": domain, "title": _("Create aliases"), "kind": "aliases"},
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
            messages.success(request, _("Destinations of %(alias)s saved.") % {"alias": alias})
            return redirect("domains:detail", alias.domain_id)
    return render(request, "aliases/alias_detail.html", {"form": form, "alias": alias, "domain": alias.domain})


@require_POST
def alias_toggle(request, pk):
    alias = get_alias_for(request, pk)
    services.alias_set_active(acting_user=request.user, alias=alias, active=not alias.active, origin=origin(request))
    text = _("Alias %(alias)s enabled.") if alias.active else _("Alias %(alias)s disabled.")
    messages.success(request, text % {"alias": alias})
    return redirect("domains:detail", alias.domain_id)


@require_POST
def alias_delete(request, pk):
    alias = get_alias_for(request, pk)
    services.alias_delete(acting_user=request.user, alias=alias, origin=origin(request))
    messages.success(request, _("Alias %(alias)s deleted.") % {"alias": alias})
    return redirect("domains:detail", alias.domain_id)
