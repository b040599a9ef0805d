"""Domain pages: the list, one page per domain, settings, domain aliases and admin grants."""

from html import escape
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domains import dns, dnscheck, services
from domains.forms import (
    DomainAliasForm,
    DomainCreateForm,
    DomainDeleteForm,
    DomainSettingsForm,
    GrantForm,
    RelayRecipientsForm,
)
from domains.models import AdminGrant, Domain, RelayRecipient
from domains.shortcuts import get_domain_alias_for, get_domain_for, get_domain_page_for, get_grant_for
from mailadmin import permissions
from mailadmin.forms import SearchForm
from mailadmin.shortcuts import call_service, origin, page_of, require, url_for_each
from mailadmin.templatetags.panel import storage_bar

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
            messages.success(request, _("Domain %(domain)s created.") % {"domain": domain.display_name})
            return redirect("domains:detail", domain.pk)
    return render(request, "domains/domain_form.html", {"form": form, "title": _("New domain")})


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
    """The domain page: the same few queries for every role, page and search (bench/pages.py)."""
    domain, usage = get_domain_page_for(request, pk)
    search = SearchForm(request.GET)
    term = search.term()
    mailboxes = domain.mailboxes.order_by("local_part")
    aliases = domain.aliases.order_by("local_part")
    if term:
        mailboxes, aliases = mailboxes.search(term), aliases.search(term)
    is_admin = AdminGrant.objects.filter(admin=OuterRef("pk"))
    # (plain rows, not model instances: building 50 Mailbox objects of 40 fields was 1 ms of the page)
    mailboxes = mailboxes.annotate(holds_grant=Exists(is_admin)).values("pk", *MAILBOX_COLUMNS, "holds_grant")
    page = page_of(mailboxes, request.GET.get("page"), per_page=PAGE_SIZE, count=None if term else domain.mailbox_count)
    page.object_list = [SimpleNamespace(**row) for row in page.object_list]
    alias_count = None if term else domain.alias_count  # aliases are small rows: no ids first
    alias_page = page_of(aliases, request.GET.get("apage"), per_page=PAGE_SIZE, count=alias_count, ids_first=False)
    context = {
        "domain": domain,
        "search": search,
        "mailboxes": page,
        "mailbox_rows": mailbox_rows(request.user, page),
        "aliases": alias_page,
        "alias_rows": alias_rows(alias_page),
        # (no query for what the totals say is not there)
        "domain_aliases": list(domain.domain_aliases.all()) if domain.domain_alias_count else [],
        "can_manage_domain_aliases": permissions.can_manage_domain_aliases(request.user),
        "usage": usage,
        "can_change_settings": permissions.is_superuser(request.user),
        "can_create": permissions.can_create_mailbox(request.user, domain),
        "can_delete": permissions.can_delete_mailboxes_in(request.user, domain),
        # held at their hourly sending limit when a mail host last read Exim's counts (mailserver.sending):
        # read from the few limited states rather than through the domain's mailboxes
        "limited": [
            {"pk": pk, "address": address}
            for pk, address in _sending_states()
            .filter(limited=True, mailbox__domain=domain)
            .values_list("mailbox_id", "mailbox__address")
            .distinct()
            .order_by("mailbox__address")[:20]
        ],
    }
    return render(request, "domains/domain_detail.html", context)


def _sending_states():
    """mailserver's SendingState rows (a later app: reached through the mailbox's relation)."""
    return get_user_model()._meta.get_field("sending_states").related_model.objects


MAILBOX_FLAGS = tuple(get_user_model().FLAG_LABELS.items())  # (accounts.models: the switches' names)
MAILBOX_COLUMNS = ("address", "local_part", "first_name", "last_name", "usage_bytes", "quota_bytes", "over_quota",
                   "is_superuser", "domain", *(flag for flag, _ in MAILBOX_FLAGS))  # fmt: skip


_ADDRESS = "\x00"  # (where a row's escaped address goes in a text escaped once for the page)


def mailbox_rows(user, page) -> str:
    """The table rows of the page's mailboxes as HTML, written here in one pass rather than by
    template tags per row: a page of 50 mailboxes has 150 switches, and rendering them tag by tag
    took most of the page's time. The words are translated and escaped once for the page, a row's
    address once for its row. Each mailbox gets ``manageable`` (its tick and switches)."""
    detail = url_for_each("accounts:detail")
    words = {
        "tick": escape(_("Tick %(address)s") % {"address": _ADDRESS}),
        "superuser": f'<span class="badge">{escape(_("superuser"))}</span>',
        "admin": f'<span class="badge">{escape(_("admin"))}</span>',
        "over": f'<span class="pill warn">{escape(_("over quota"))}</span>',
    }
    flags = []
    for flag, label in MAILBOX_FLAGS:
        label = str(label)
        flags.append(
            (
                flag,
                escape(label),
                url_for_each("accounts:toggle", flag),
                escape(_("%(flag)s for %(address)s") % {"flag": label, "address": _ADDRESS}),
                {True: escape(_("Switch %(flag)s off") % {"flag": label}),
                 False: escape(_("Switch %(flag)s on") % {"flag": label})},
            )
        )  # fmt: skip
    rows = []
    manageable = permissions.can_manage_listed_mailboxes(user)
    for m in page:
        m.manageable = manageable(m.is_superuser, m.holds_grant)
        rows.append(_mailbox_row(m, detail(m.pk), flags, words))
    return mark_safe("\n".join(rows))  # noqa: S308 - every value escaped in _mailbox_row


def _mailbox_row(m, url: str, flags, words) -> str:
    address = escape(m.address)
    tick = (
        f'<input type="checkbox" name="mailboxes" value="{m.pk}" form="bulk" '
        f'aria-label="{words["tick"].replace(_ADDRESS, address)}">'
        if m.manageable
        else ""
    )
    badge = words["superuser"] if m.is_superuser else words["admin"] if m.holds_grant else ""
    over = words["over"] if m.over_quota else ""
    switches = []
    for flag, label, toggle, aria, titles in flags:
        on = getattr(m, flag)
        state = "on" if on else "off"
        if m.manageable:  # a button of the page's one "toggle" form
            switches.append(
                f'<button type="submit" form="toggle" formaction="{toggle(m.pk)}" class="toggle {state}" '
                f'aria-pressed="{"true" if on else "false"}" aria-label="{aria.replace(_ADDRESS, address)}" '
                f'title="{titles[bool(on)]}">{label}</button>'
            )
        else:
            switches.append(f'<span class="toggle {state}">{label}</span>')
    return (
        f'<tr><td>{tick}</td><th scope="row"><a href="{url}">{escape(m.local_part)}</a> {badge} {over}</th>'
        f"<td>{escape(m.first_name)} {escape(m.last_name)}</td><td>{storage_bar(m.usage_bytes, m.quota_bytes)}</td>"
        f'<td class="flags">{" ".join(switches)}</td></tr>'
    )


def alias_rows(page) -> str:
    """The table rows of the page's aliases as HTML, written in one pass like the mailboxes' rows
    (each row had five translations and three URLs to render: 0.1 ms a row as template tags)."""
    detail, toggle, delete = (url_for_each(f"aliases:{name}") for name in ("detail", "toggle", "delete"))
    words = {
        "catchall": f'@ <span class="badge">{escape(_("catch-all"))}</span>',
        "active_for": _("Active: %(address)s"),
        "active": escape(_("Active")),
        "confirm": _("Delete the alias %(address)s?"),
        "delete": escape(_("Delete")),
    }
    rows = []
    for a in page:
        address = {"address": a.address}
        name = words["catchall"] if a.is_catchall else escape(a.local_part)
        state = 'on" aria-pressed="true' if a.active else 'off" aria-pressed="false'
        rows.append(
            f'<tr><th scope="row"><a href="{detail(a.pk)}">{name}</a></th>'
            f'<td class="wrap">{escape(", ".join(a.destination_list))}</td><td>'
            f'<button type="submit" form="alias-action" formaction="{toggle(a.pk)}" class="toggle {state}" '
            f'aria-label="{escape(words["active_for"] % address)}">{words["active"]}</button> '
            f'<button type="submit" form="alias-action" formaction="{delete(a.pk)}" class="small danger" '
            f'data-confirm="{escape(words["confirm"] % address)}">{words["delete"]}</button></td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value escaped above


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
            messages.success(request, _("Settings of %(domain)s saved.") % {"domain": domain.display_name})
            return redirect("domains:detail", domain.pk)
    context = {
        "form": form,
        "domain": domain,
        "title": _("Settings of %(domain)s") % {"domain": domain.display_name},
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
    messages.success(request, _("Domain %(domain)s deleted.") % {"domain": domain.display_name})
    return redirect("domains:list")


@require_POST
def domain_alias_create(request, pk):
    domain = get_domain_for(request, pk)
    require(permissions.can_manage_domain_aliases(request.user), _("Only superusers add domain aliases."))
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
                messages.error(request, _("Domain alias: %(error)s") % {"error": error})
    else:
        messages.success(request, _("Domain alias added."))
    return redirect("domains:detail", domain.pk)


@require_POST
def domain_alias_toggle(request, pk):
    alias = get_domain_alias_for(request, pk)
    services.domain_alias_update(acting_user=request.user, alias=alias, active=not alias.active, origin=origin(request))
    text = _("Domain alias %(name)s enabled.") if alias.active else _("Domain alias %(name)s disabled.")
    messages.success(request, text % {"name": alias.name})
    return redirect("domains:detail", alias.target_id)


@require_POST
def domain_alias_delete(request, pk):
    alias = get_domain_alias_for(request, pk)
    services.domain_alias_delete(acting_user=request.user, alias=alias, origin=origin(request))
    messages.success(request, _("Domain alias %(name)s deleted.") % {"name": alias.name})
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
            n = len(form.cleaned_data["domains"])
            text = ngettext("%(admin)s now administers %(n)s domain.", "%(admin)s now administers %(n)s domains.", n)
            messages.success(request, text % {"admin": grant.admin, "n": n})
            return redirect("domains:grants")
    return render(request, "domains/grant_form.html", {"form": form, "title": _("New admin grant")})


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
            messages.success(request, _("Grant of %(admin)s saved.") % {"admin": grant.admin})
            return redirect("domains:grants")
    return render(
        request,
        "domains/grant_form.html",
        {"form": form, "grant": grant, "title": _("Grant of %(admin)s") % {"admin": grant.admin}},
    )


@require_POST
def grant_delete(request, pk):
    grant = get_grant_for(request, pk, write=True)
    services.grant_revoke(acting_user=request.user, admin=grant.admin, origin=origin(request))
    messages.success(request, _("%(admin)s is no longer an administrator.") % {"admin": grant.admin})
    return redirect("domains:grants")


@require_http_methods(["GET", "POST"])
def relay_recipients(request, pk):
    """A relay domain's list of the addresses it takes mail for: its administrators and superusers."""
    domain = get_domain_for(request, pk)
    if not domain.relay_host:
        raise Http404("This domain is hosted here: it has no relay list.")
    form = RelayRecipientsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        added = call_service(
            form,
            services.relay_recipients_add,
            acting_user=request.user,
            domain=domain,
            addresses=form.cleaned_data["addresses"],
            origin=origin(request),
        )
        if added is not None:
            text = ngettext(
                "%(n)s address added to the relay list of %(domain)s.",
                "%(n)s addresses added to the relay list of %(domain)s.",
                len(added),
            )
            messages.success(request, text % {"n": len(added), "domain": domain.display_name})
            return redirect("domains:relay_recipients", domain.pk)
    recipients = domain.relay_recipients.order_by("address")
    page = page_of(recipients, request.GET.get("page"), per_page=PAGE_SIZE, ids_first=False)
    return render(request, "domains/relay_recipients.html", {"domain": domain, "form": form, "recipients": page})


@require_POST
def relay_recipient_delete(request, pk):
    recipient = RelayRecipient.objects.select_related("domain").filter(pk=pk).first()
    if recipient is None or not permissions.can_manage_domain(request.user, recipient.domain):
        raise Http404("No such address.")
    services.relay_recipient_delete(acting_user=request.user, recipient=recipient, origin=origin(request))
    messages.success(request, _("%(address)s is no longer on the relay list.") % {"address": recipient.address})
    return redirect("domains:relay_recipients", recipient.domain_id)
