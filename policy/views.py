"""Sender lists: one's own mailbox's, a managed mailbox's, a domain's; removing an entry.
The server's DNS blocklists (superusers): the list, adding, changing and removing one.
Greylisting (superusers): its allow list, and the senders it holds."""

from datetime import UTC, datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.shortcuts import get_mailbox_for
from domains.models import Domain
from domains.shortcuts import get_domain_for
from mailadmin import permissions
from mailadmin.shortcuts import call_service, origin, require
from policy import services
from policy.forms import BlocklistForm, GreylistAllowForm, SenderRuleForm
from policy.models import DnsBlocklist, GreylistAllow, GreylistTriplet, SenderRule


def _list(request, *, back: str, domain=None, mailbox=None):
    require(services.may_edit(request.user, mailbox or domain))
    form = SenderRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rule = call_service(
            form,
            services.sender_rule_add,
            acting_user=request.user,
            domain=domain,
            mailbox=mailbox,
            origin=origin(request),
            **form.cleaned_data,
        )
        if rule:
            if rule.action == SenderRule.Action.ALLOW:
                text = _("Mail from %(pattern)s is allowed for %(owner)s.")
            else:
                text = _("Mail from %(pattern)s is refused for %(owner)s.")
            messages.success(request, text % {"pattern": rule.pattern, "owner": rule.owner})
            return redirect(request.path)
    context = {
        "form": form,
        "rules": services.rules_of(domain=domain, mailbox=mailbox),
        "mailbox": mailbox,
        "domain": domain or mailbox.domain,
        "own": mailbox is not None and mailbox.pk == request.user.pk,
        "back": back,
        "domain_wide": mailbox is None,
    }
    return render(request, "policy/sender_rules.html", context)


@require_http_methods(["GET", "POST"])
def own_senders(request):
    return _list(request, mailbox=request.user, back=reverse("accounts:me"))


@require_http_methods(["GET", "POST"])
def mailbox_senders(request, pk):
    mailbox = get_mailbox_for(request, pk)
    return _list(request, mailbox=mailbox, back=reverse("accounts:detail", args=[mailbox.pk]))


@require_http_methods(["GET", "POST"])
def domain_senders(request, pk):
    domain = get_domain_for(request, pk)
    return _list(request, domain=domain, back=reverse("domains:detail", args=[domain.pk]))


@require_POST
def sender_delete(request, pk):
    """Remove an entry from a list one may change; another's one may not is not found."""
    rule = SenderRule.objects.select_related("domain", "mailbox__domain").filter(pk=pk).first()
    if rule is None or not services.may_edit(request.user, rule):
        raise Http404("No such entry.")
    services.sender_rule_delete(acting_user=request.user, rule=rule, origin=origin(request))
    messages.success(
        request, _("%(pattern)s removed from the list of %(owner)s.") % {"pattern": rule.pattern, "owner": rule.owner}
    )
    if rule.mailbox_id == request.user.pk:
        return redirect("policy:own_senders")
    if rule.mailbox_id:
        return redirect("policy:mailbox_senders", rule.mailbox_id)
    return redirect("policy:domain_senders", rule.domain_id)


@require_http_methods(["GET", "POST"])
def blocklists(request):
    require(permissions.can_manage_blocklists(request.user))
    form = BlocklistForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        added = call_service(
            form, services.blocklist_add, acting_user=request.user, origin=origin(request), **form.cleaned_data
        )
        if added:
            text = _("%(zone)s is a blocklist.") if added.enabled else _("%(zone)s is a blocklist (not checked yet).")
            messages.success(request, text % {"zone": added.zone})
            return redirect("policy:blocklists")
    checked, check_error = None, ""
    if client := request.GET.get("client", "").strip():
        try:
            checked = services.client_listings(client)
        except ValidationError as exc:
            check_error = " ".join(exc.messages)
    context = {
        "form": form,
        "client": client,
        "checked": checked,
        "check_error": check_error,
        "blocklists": DnsBlocklist.objects.all(),
        "unchecked": Domain.objects.filter(check_blocklists=False).order_by("name")[:50],
        "unchecked_count": Domain.objects.filter(check_blocklists=False).count(),
    }
    return render(request, "policy/blocklists.html", context)


def _blocklist(request, pk) -> DnsBlocklist:
    require(permissions.can_manage_blocklists(request.user))
    blocklist = DnsBlocklist.objects.filter(pk=pk).first()
    if blocklist is None:
        raise Http404("No such blocklist.")
    return blocklist


@require_http_methods(["GET", "POST"])
def blocklist_edit(request, pk):
    blocklist = _blocklist(request, pk)
    initial = {"name": blocklist.name, "answers": blocklist.answers, "enabled": blocklist.enabled}
    form = BlocklistForm(request.POST or None, initial=initial, zone_given=False)
    if request.method == "POST" and form.is_valid():
        changed = call_service(
            form,
            services.blocklist_update,
            acting_user=request.user,
            blocklist=blocklist,
            origin=origin(request),
            **form.cleaned_data,
        )
        if changed:
            messages.success(request, _("%(zone)s changed.") % {"zone": changed.zone})
            return redirect("policy:blocklists")
    return render(request, "policy/blocklist_edit.html", {"form": form, "blocklist": blocklist})


@require_POST
def blocklist_delete(request, pk):
    blocklist = _blocklist(request, pk)
    services.blocklist_delete(acting_user=request.user, blocklist=blocklist, origin=origin(request))
    messages.success(request, _("%(zone)s is no longer a blocklist.") % {"zone": blocklist.zone})
    return redirect("policy:blocklists")


@require_http_methods(["GET", "POST"])
def greylisting(request):
    require(permissions.can_manage_greylisting(request.user))
    form = GreylistAllowForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        added = call_service(
            form, services.greylist_allow_add, acting_user=request.user, origin=origin(request), **form.cleaned_data
        )
        if added:
            messages.success(request, _("%(pattern)s is no longer greylisted.") % {"pattern": added.pattern})
            return redirect("policy:greylisting")
    triplets = GreylistTriplet.objects.all()
    domain = None
    if name := request.GET.get("domain", "").strip():
        try:
            domain = Domain.objects.get_by_name(name)
        except ValidationError:
            raise Http404("No such domain.") from None
        triplets = triplets.filter(domain=domain.name)
    when = lambda seconds: datetime.fromtimestamp(seconds, tz=UTC)  # noqa: E731
    context = {
        "form": form,
        "allowed": GreylistAllow.objects.all(),
        "domain": domain,
        "counts": services.greylist_counts(domain),
        "triplets": [(t, when(t.first_seen), when(t.last_seen)) for t in triplets[:100]],
        "greylisting": Domain.objects.filter(greylist=True).order_by("name")[:50],
        "greylisting_count": Domain.objects.filter(greylist=True).count(),
    }
    return render(request, "policy/greylisting.html", context)


@require_POST
def greylist_allow_delete(request, pk):
    require(permissions.can_manage_greylisting(request.user))
    entry = GreylistAllow.objects.filter(pk=pk).first()
    if entry is None:
        raise Http404("No such entry.")
    services.greylist_allow_delete(acting_user=request.user, entry=entry, origin=origin(request))
    messages.success(request, _("%(pattern)s is greylisted again.") % {"pattern": entry.pattern})
    return redirect("policy:greylisting")
