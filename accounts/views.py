"""Mailbox pages: one's own account, one mailbox, and the bulk work of a domain page."""

import csv
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import load_backend, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import apppasswords, archives, bulk, jobs, services, twofactor
from accounts.forms import (
    CSV_COLUMNS,
    AppPasswordForm,
    BulkMailboxForm,
    BulkMailboxUpdateForm,
    CsvImportForm,
    ForwardingForm,
    MailboxChoiceForm,
    MailboxCreateForm,
    MailboxForm,
    OwnPasswordForm,
    PasswordResetForm,
    neutralise,
)
from accounts.models import FLAG_LABELS, AppPassword, Job, Mailbox, MailboxArchive
from accounts.shortcuts import get_archive_for, get_earlier_archive_for, get_job_for, get_mailbox_for
from domains import clientconfig
from domains.shortcuts import get_domain_for
from mailadmin import permissions
from mailadmin.forms import LoginForm, SecondFactorForm, SecurityKeyForm, SecurityKeyLoginForm
from mailadmin.shortcuts import add_errors, call_service, origin, render_secret, require

FLAGS = FLAG_LABELS
PAGE_SIZE = 50
JOB_REFRESH_SECONDS = 2  # a job's page reloads itself this often while the job runs


def _passwords_once(request, created, domain, title):
    """The page that shows new passwords, once: never cached anywhere."""
    return render_secret(
        request, "accounts/passwords_once.html", {"created": created, "domain": domain, "title": title}
    )


def _vacation_of(mailbox):
    """The mailbox's vacation reply, None when it never had one (through the relation)."""
    try:
        return mailbox.vacation
    except ObjectDoesNotExist:
        return None


@require_GET
def me(request):
    """One's own account: usage, vacation and password."""
    user = request.user
    context = {
        "mailbox": user,
        "vacation": _vacation_of(user) if user.has_mailbox else None,
        "can_set_forwarding": permissions.can_set_forwarding(user, user),
        "can_download_profile": permissions.can_download_mail_profile(user),
        "two_factor": twofactor.status(user),
    }
    return render(request, "accounts/me.html", context)


def _forwarding(request, mailbox, *done):
    require(permissions.can_set_forwarding(request.user, mailbox))
    form = ForwardingForm(request.POST or None, initial=ForwardingForm.initial_for(mailbox))
    if request.method == "POST" and form.is_valid():
        call_service(
            form,
            services.mailbox_set_forwarding,
            acting_user=request.user,
            mailbox=mailbox,
            origin=origin(request),
            **form.cleaned_data,
        )
        if not form.errors:
            messages.success(request, _("Forwarding of %(mailbox)s saved.") % {"mailbox": mailbox})
            return redirect(*done)
    context = {"form": form, "mailbox": mailbox, "own": mailbox.pk == request.user.pk}
    return render(request, "accounts/forwarding_form.html", context)


@require_GET
def own_mail_profile(request):
    """An Apple configuration profile of one's own mailbox (IMAP and SMTP, no password in it)."""
    require(permissions.can_download_mail_profile(request.user), _("A panel-only account has no mailbox to set up."))
    response = HttpResponse(clientconfig.apple_profile(request.user), content_type="application/x-apple-aspen-config")
    response["Content-Disposition"] = f'attachment; filename="{request.user.address}.mobileconfig"'
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def own_forwarding(request):
    return _forwarding(request, request.user, "accounts:me")


@require_http_methods(["GET", "POST"])
def mailbox_forwarding(request, pk):
    mailbox = get_mailbox_for(request, pk)
    return _forwarding(request, mailbox, "accounts:detail", mailbox.pk)


@require_http_methods(["GET", "POST"])
def password_change(request):
    require(permissions.can_change_own_password(request.user))
    form = OwnPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mailbox_set_password(
                acting_user=request.user,
                mailbox=request.user,
                password=form.cleaned_data["new_password"],
                origin=origin(request),
            )
        except ValidationError as exc:
            form.add_error("new_password", exc.message_dict.get("password", exc.messages))
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password is changed; use it for mail too."))
            return redirect("accounts:me")
    return render(request, "accounts/password_change.html", {"form": form})


@require_http_methods(["GET", "POST"])
def mailbox_detail(request, pk):
    """A mailbox's page; managers may change its names, quota and flags here."""
    mailbox = get_mailbox_for(request, pk)
    can_manage = permissions.can_manage_mailbox(request.user, mailbox)
    initial = {key: getattr(mailbox, key) for key in MailboxForm.base_fields}
    form = MailboxForm(request.POST or None, initial=initial)
    if request.method == "POST":
        require(can_manage)
        if form.is_valid():
            call_service(
                form,
                services.mailbox_update,
                acting_user=request.user,
                mailbox=mailbox,
                origin=origin(request),
                **form.cleaned_data,
            )
            if not form.errors:
                messages.success(request, _("%(mailbox)s saved.") % {"mailbox": mailbox})
                return redirect("accounts:detail", mailbox.pk)
    context = {
        "mailbox": mailbox,
        "form": form,
        "can_manage": can_manage,
        "can_delete": permissions.can_delete_mailbox(request.user, mailbox) and mailbox.pk != request.user.pk,
        "can_edit_vacation": permissions.can_edit_vacation(request.user, mailbox),
        "can_edit_senders": permissions.can_edit_sender_list(request.user, mailbox),
        "can_set_forwarding": permissions.can_set_forwarding(request.user, mailbox),
        "password_form": PasswordResetForm(),
        "vacation": _vacation_of(mailbox),
        "two_factor": twofactor.status(mailbox),
        "can_reset_two_factor": permissions.can_reset_two_factor(request.user, mailbox),
        "app_passwords": apppasswords.of(mailbox)
        if permissions.can_view_app_passwords(request.user, mailbox)
        else None,
    }
    return render(request, "accounts/mailbox_detail.html", context)


@require_POST
def mailbox_password(request, pk):
    """Set or generate another mailbox's password; a generated one is shown once, on this answer."""
    mailbox = get_mailbox_for(request, pk, write=True)
    form = PasswordResetForm(mailbox, request.POST)
    if form.is_valid():
        password = form.cleaned_data["password"] or services.generate_password(mailbox=mailbox)
        call_service(
            form,
            services.mailbox_set_password,
            acting_user=request.user,
            mailbox=mailbox,
            password=password,
            origin=origin(request),
        )
        if not form.errors:
            generated = [(mailbox, password)] if not form.cleaned_data["password"] else []
            if not generated:
                messages.success(request, _("Password of %(mailbox)s changed.") % {"mailbox": mailbox})
                return redirect("accounts:detail", mailbox.pk)
            return _passwords_once(
                request, generated, mailbox.domain, _("New password of %(mailbox)s") % {"mailbox": mailbox}
            )
    for error in form.errors.get("password", []) + form.non_field_errors():
        messages.error(request, error)
    return redirect("accounts:detail", mailbox.pk)


@require_POST
def mailbox_toggle(request, pk, flag):
    if flag not in FLAGS:
        raise Http404
    mailbox = get_mailbox_for(request, pk, write=True)
    value = not getattr(mailbox, flag)
    try:
        services.mailbox_update(acting_user=request.user, mailbox=mailbox, origin=origin(request), **{flag: value})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        text = _("%(flag)s on for %(mailbox)s.") if value else _("%(flag)s off for %(mailbox)s.")
        messages.success(request, text % {"flag": FLAGS[flag], "mailbox": mailbox})
    return redirect(_back(request, mailbox))


def _back(request, mailbox):
    """Back to the domain page (keeping its page and search) or to the mailbox."""
    if request.POST.get("back") == "domain" and mailbox.domain_id:
        query = {
            k: request.POST[k] for k in ("q", "page") if request.POST.get(k, "").isprintable() and request.POST.get(k)
        }
        url = reverse("domains:detail", args=[mailbox.domain_id])
        return f"{url}?{urlencode(query)}" if query else url
    return reverse("accounts:detail", args=[mailbox.pk])


@require_POST
def mailbox_delete(request, pk):
    mailbox = get_mailbox_for(request, pk, write=True)
    services.mailbox_delete(acting_user=request.user, mailbox=mailbox, origin=origin(request))
    messages.success(request, _("Mailbox %(mailbox)s deleted.") % {"mailbox": mailbox})
    return redirect("domains:detail", mailbox.domain_id) if mailbox.domain_id else redirect("home")


# --- creating, in one or in bulk ----------------------------------------------------


@require_http_methods(["GET", "POST"])
def mailbox_create(request, pk):
    domain = get_domain_for(request, pk)
    require(permissions.can_create_mailbox(request.user, domain))
    form = MailboxCreateForm(request.POST or None, initial={"quota_bytes": domain.default_quota_bytes})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
        password = data.pop("password", "") or services.generate_password_for(
            domain=domain,
            local_part=data.get("local_part", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
        )
        mailbox = call_service(
            form,
            services.mailbox_create,
            acting_user=request.user,
            domain=domain,
            password=password,
            origin=origin(request),
            **data,
        )
        if not form.errors:
            if form.cleaned_data["password"]:
                messages.success(request, _("Mailbox %(mailbox)s created.") % {"mailbox": mailbox})
                return redirect("accounts:detail", mailbox.pk)
            return _passwords_once(request, [(mailbox, password)], domain, _("Mailbox created"))
    return render(request, "accounts/mailbox_create.html", {"form": form, "domain": domain})


@require_http_methods(["GET", "POST"])
def mailbox_bulk_create(request, pk):
    """Lines are checked here (a bad one is a form error and nothing is queued); a job creates them."""
    domain = get_domain_for(request, pk)
    require(permissions.can_create_mailbox(request.user, domain))
    form = BulkMailboxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rows = form.cleaned_data["lines"]
        call_service(form, bulk.mailbox_bulk_check, acting_user=request.user, domain=domain, rows=rows)
        if not form.errors:
            return _submit(request, domain, Job.Kind.CREATE, {"rows": rows}, len(rows))
    return render(
        request,
        "accounts/bulk_form.html",
        {"form": form, "domain": domain, "title": _("Create mailboxes"), "kind": "mailboxes"},
    )


def _submit(request, domain, kind, params, total):
    """Queue the checked work as a job and answer with its page (progress, then the result)."""
    job = jobs.job_submit(
        acting_user=request.user, domain=domain, kind=kind, params=params, total=total, origin=origin(request)
    )
    return redirect(job)


@require_POST
def mailbox_bulk_update(request, pk):
    domain = get_domain_for(request, pk)
    form = BulkMailboxUpdateForm(domain, request.POST)
    if form.is_valid():
        mailboxes = form.cleaned_data["mailboxes"]
        require(all(permissions.can_manage_mailbox(request.user, m) for m in mailboxes), _("You may not change those."))
        params = {"mailboxes": [m.pk for m in mailboxes], "changes": form.changes()}
        return _submit(request, domain, Job.Kind.UPDATE, params, len(mailboxes))
    _errors_to_messages(request, form)
    return redirect("domains:detail", domain.pk)


@require_POST
def mailbox_bulk_delete(request, pk):
    domain = get_domain_for(request, pk)
    form = MailboxChoiceForm(domain, request.POST)
    if form.is_valid():
        mailboxes = form.cleaned_data["mailboxes"]
        require(all(permissions.can_delete_mailbox(request.user, m) for m in mailboxes), _("You may not delete those."))
        return _submit(request, domain, Job.Kind.DELETE, {"mailboxes": [m.pk for m in mailboxes]}, len(mailboxes))
    _errors_to_messages(request, form)
    return redirect("domains:detail", domain.pk)


@require_GET
def job_detail(request, pk):
    """A bulk job's page: its progress while it runs (the page reloads itself), then its result.

    The passwords a creation generated are shown here once, to its submitter, and wiped as they are
    shown; a finished change or deletion goes back to the domain page with its message."""
    Job.objects.wipe_stale_passwords(older_than=jobs.PASSWORDS_KEPT)
    job = get_job_for(request, pk)
    if job.finished_ok and job.kind in (Job.Kind.UPDATE, Job.Kind.DELETE):
        n = len(job.written)
        if job.kind == Job.Kind.UPDATE:
            text = ngettext("%(n)s mailbox changed.", "%(n)s mailboxes changed.", n)
        else:
            text = ngettext("%(n)s mailbox deleted.", "%(n)s mailboxes deleted.", n)
        messages.success(request, text % {"n": n})
        return redirect("domains:detail", job.domain_id)
    own = permissions.can_see_job_passwords(request.user, job)
    created = jobs.job_take_passwords(job=job) if job.finished_ok and own else []
    context = {"job": job, "domain": job.domain, "created": created, "own": own, "refresh": JOB_REFRESH_SECONDS}
    return render_secret(request, "accounts/job_detail.html", context)


def _errors_to_messages(request, form):
    for field, errors in form.errors.items():
        for error in errors:
            if field != "__all__":
                error = _("%(field)s: %(message)s") % {"field": form.fields[field].label or field, "message": error}
            messages.error(request, error)


# --- CSV ------------------------------------------------------------------------------------


@require_GET
def mailbox_export(request, pk):
    """The domain's mailboxes as CSV; cells that a spreadsheet would run as formulas are neutralised."""
    domain = get_domain_for(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mailboxes-{domain.name}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    fields = ("local_part", *CSV_COLUMNS[1:])
    for row in Mailbox.objects.filter(domain=domain).order_by("local_part").values_list(*fields).iterator(2000):
        writer.writerow([neutralise(_csv_value(v)) for v in row])
    return response


def _csv_value(value):
    return ("yes" if value else "no") if isinstance(value, bool) else value


@require_http_methods(["GET", "POST"])
def mailbox_import(request, pk):
    """Rows are checked here, as bulk lines are; a job creates them."""
    domain = get_domain_for(request, pk)
    require(permissions.can_create_mailbox(request.user, domain))
    form = CsvImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            rows = form.rows()
            bulk.mailbox_bulk_check(acting_user=request.user, domain=domain, rows=rows)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            return _submit(request, domain, Job.Kind.IMPORT, {"rows": rows}, len(rows))
    return render(request, "accounts/import_form.html", {"form": form, "domain": domain})


# --- deleted mailboxes: their archives, and restoring one -------------------------------------


@require_GET
def archive_list(request, pk):
    """A domain's deleted mailboxes, with a Restore button where the actor may restore one."""
    domain = get_domain_for(request, pk)
    show_all = request.GET.get("all") == "1"
    archives = MailboxArchive.objects.filter(domain=domain)
    archives = archives if show_all else archives.kept()
    page = Paginator(archives, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for archive in page:
        archive.purge_at = archive.purge_due(settings.MAIL_ARCHIVE_GRACE_DAYS)
        archive.role = archive.settings.get("role", "")
        archive.can_restore = archive.restorable(now) and permissions.can_restore_mailbox(request.user, domain, archive)
    context = {
        "domain": domain,
        "page": page,
        "show_all": show_all,
        "grace_days": settings.MAIL_ARCHIVE_GRACE_DAYS,
        "earlier": _earlier_domain_archives(request.user, domain, now),
    }
    return render(request, "accounts/archive_list.html", context)


def _earlier_domain_archives(user, domain, now) -> list:
    """For superusers: restorable deleted mailboxes of an earlier, deleted domain of the same name."""
    if not permissions.can_restore_into_domain(user):
        return []
    return [a for a in MailboxArchive.objects.of_deleted_domain(domain.name)[:PAGE_SIZE] if a.restorable(now)]


@require_POST
def archive_restore(request, pk):
    archive = get_archive_for(request, pk, write=True)
    _restore(request, archive)
    return redirect("accounts:archives", archive.domain.pk)


def _restore(request, archive, into=None) -> None:
    """Call the restore and say how it went."""
    try:
        restored = archives.mailbox_restore(
            acting_user=request.user, archive=archive, into=into, origin=origin(request)
        )
    except ValidationError as exc:
        text = _("%(address)s was not restored: %(reason)s")
        messages.error(request, text % {"address": archive.address, "reason": " ".join(exc.messages)})
    else:
        if restored.state == MailboxArchive.State.RESTORED:
            text = _("Mailbox %(address)s restored with its old password and mail.")
            messages.success(request, text % {"address": archive.address})
        else:
            text = _("%(address)s will be back with its mail within a minute (when the mail store job runs).")
            messages.success(request, text % {"address": archive.address})


@require_POST
def archive_restore_into(request, pk, archive_pk):
    """A superuser restores a deleted mailbox of an earlier, deleted domain of this name into this domain."""
    domain = get_domain_for(request, pk)
    archive = get_earlier_archive_for(request, domain, archive_pk)
    _restore(request, archive, into=domain)
    return redirect("accounts:archives", domain.pk)


# --- Two-factor login (accounts/twofactor.py) ----------------------------------------------


def _codes_once(request, codes, title):
    """Recovery codes, shown on this answer only (never stored in the clear, never cached)."""
    return render_secret(request, "accounts/recovery_codes.html", {"codes": codes, "title": title})


@require_GET
def two_factor(request):
    """One's own two-factor login: set up or not, last used, recovery codes left; remove it, new codes."""
    return _two_factor_page(request, SecondFactorForm())


def _two_factor_page(request, form, key_form=None):
    """One's own two-factor page, with ``form`` (its errors, after a refused code) and the form that
    adds a security key (its errors, after a refused key)."""
    user = request.user
    context = {
        "status": twofactor.status(user),
        "required": permissions.must_use_two_factor(user),
        "form": form,
        "keys": twofactor.security_keys(user),
        "key_form": key_form or SecurityKeyForm(),
    }
    return render(request, "accounts/two_factor.html", context)


def _webauthn_site(request) -> tuple[str, str]:
    """The relying party a security key answers for (WEBAUTHN_RP_ID, else the host the browser
    asked for) and the origin its answer must name (the panel's own, as the browser sees it)."""
    host = request.get_host()
    rp_id = settings.WEBAUTHN_RP_ID or urlsplit(f"//{host}").hostname or host
    return rp_id, f"{request.scheme}://{host}"


def _json_refusal(exc: ValidationError | PermissionDenied) -> HttpResponse:
    message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return JsonResponse({"error": message}, status=400 if isinstance(exc, ValidationError) else 403)


@require_POST
def two_factor_key_options(request):
    """What the browser needs to make a new security key answer for this account (JSON)."""
    rp_id, _origin = _webauthn_site(request)
    try:
        options = twofactor.key_registration_options(
            mailbox=request.user, session=request.session, rp_id=rp_id, rp_name=settings.OTP_TOTP_ISSUER
        )
    except (ValidationError, PermissionDenied) as exc:
        return _json_refusal(exc)
    return HttpResponse(options, content_type="application/json")


@require_POST
def two_factor_key_add(request):
    user = request.user
    form = SecurityKeyForm(request.POST)
    if form.is_valid():
        rp_id, expected_origin = _webauthn_site(request)
        key = call_service(
            form,
            twofactor.add_security_key,
            acting_user=user,
            mailbox=user,
            session=request.session,
            name=form.cleaned_data["name"],
            credential=form.cleaned_data["credential"],
            rp_id=rp_id,
            expected_origin=expected_origin,
            origin=origin(request),
        )
        if key:
            messages.success(request, _("The security key %(name)s logs you in from now on.") % {"name": key.name})
            return redirect("accounts:two_factor")
    return _two_factor_page(request, SecondFactorForm(), form)


@require_POST
def two_factor_key_remove(request, pk):
    key = twofactor.security_keys(request.user).filter(pk=pk).first()
    if key is None:
        raise Http404("No such security key.")
    twofactor.remove_security_key(acting_user=request.user, key=key, origin=origin(request))
    messages.success(request, _("The security key %(name)s no longer logs you in.") % {"name": key.name})
    return redirect("accounts:two_factor")


@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Set up the authenticator app: scan the picture (or type the secret), then give its first code."""
    user = request.user
    if twofactor.is_enrolled(user):
        messages.info(request, _("Two-factor login is set up already."))
        return redirect("accounts:two_factor")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = call_service(
            form,
            twofactor.enrol,
            acting_user=user,
            mailbox=user,
            code=form.cleaned_data["code"],
            origin=origin(request),
        )
        if codes:
            request.session.pop(twofactor.SESSION_ENROL, None)
            request.session.cycle_key()  # a session from before the second factor is not carried over
            return _codes_once(request, codes, _("Two-factor login is on"))
    device = twofactor.start_enrolment(mailbox=user)
    context = {
        "form": form,
        "qr": twofactor.qr_code_data_uri(device),
        "secret": twofactor.secret_text(device),
        "required": request.session.get(twofactor.SESSION_ENROL, False),
    }
    return render_secret(request, "accounts/two_factor_setup.html", context)


@require_POST
def two_factor_remove(request):
    user = request.user
    form = SecondFactorForm(request.POST)
    if form.is_valid():
        call_service(
            form,
            twofactor.remove_own,
            acting_user=user,
            mailbox=user,
            code=form.cleaned_data["code"],
            origin=origin(request),
        )
        if not form.errors:
            messages.success(request, _("Two-factor login is off."))
            if permissions.must_use_two_factor(user):
                request.session[twofactor.SESSION_ENROL] = True
                return redirect("accounts:two_factor_setup")
            return redirect("accounts:two_factor")
    return _two_factor_page(request, form)


@require_POST
def two_factor_codes(request):
    user = request.user
    form = SecondFactorForm(request.POST)
    if form.is_valid():
        codes = call_service(
            form,
            twofactor.new_recovery_codes,
            acting_user=user,
            mailbox=user,
            code=form.cleaned_data["code"],
            origin=origin(request),
        )
        if codes:
            return _codes_once(request, codes, _("New recovery codes"))
    return _two_factor_page(request, form)


@require_POST
def mailbox_two_factor_reset(request, pk):
    """An administrator removes another account's second factor (it lost its phone)."""
    mailbox = get_mailbox_for(request, pk)
    require(permissions.can_reset_two_factor(request.user, mailbox))
    try:
        twofactor.reset(acting_user=request.user, mailbox=mailbox, origin=origin(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        text = _("Two-factor login of %(mailbox)s removed: it logs in with its password alone now.")
        messages.success(request, text % {"mailbox": mailbox})
    return redirect("accounts:detail", mailbox.pk)


# --- The login, with its second step -------------------------------------------------------

PENDING_KEY, ENROL_KEY = twofactor.SESSION_PENDING, twofactor.SESSION_ENROL


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        """The password is right. With two-factor login set up, the second step comes first; an
        account that must use it and has none is logged in to set it up, and to nothing else."""
        user = form.get_user()
        if twofactor.is_enrolled(user):
            self.request.session[PENDING_KEY] = {
                "user": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "next": self.get_success_url(),
            }
            return redirect("login_verify")
        response = super().form_valid(form)
        if permissions.must_use_two_factor(user):
            self.request.session[ENROL_KEY] = True
        return response


def _pending_user(request):
    """The account of the pending login, or None when there is none, it is too old, or the account
    may no longer log in."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > settings.TWO_FACTOR_PENDING_SECONDS:
        return None, None
    if pending.get("backend") not in settings.AUTHENTICATION_BACKENDS:
        return None, None
    user = load_backend(pending["backend"]).get_user(pending.get("user"))
    if user is None or not permissions.can_log_in(user):
        return None, None
    return user, pending


@login_not_required
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_verify(request):
    """The second step of a login: a code from the authenticator app, a recovery code, or the
    answer of a security key (posted as ``credential`` by the page's script)."""
    user, pending = _pending_user(request)
    if user is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, _("Log in again: the login was not finished in time."))
        return redirect("login")
    with_key = request.method == "POST" and "credential" in request.POST
    form = (SecurityKeyLoginForm if with_key else SecondFactorForm)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rp_id, expected_origin = _webauthn_site(request)
        if with_key:
            method = call_service(
                form,
                twofactor.verify_key_login,
                mailbox=user,
                session=request.session,
                credential=form.cleaned_data["credential"],
                rp_id=rp_id,
                expected_origin=expected_origin,
                origin=origin(request),
            )
        else:
            method = call_service(
                form, twofactor.verify_login, mailbox=user, code=form.cleaned_data["code"], origin=origin(request)
            )
        if method:
            del request.session[PENDING_KEY]
            auth_login(request, user, backend=pending["backend"])
            if method == "recovery code":
                left = twofactor.status(user).get("codes_left", 0)
                text = ngettext(
                    "You logged in with a recovery code; %(left)s left. Draw new ones on your account page.",
                    "You logged in with a recovery code; %(left)s left. Draw new ones on your account page.",
                    left,
                )
                messages.warning(request, text % {"left": left})
            return redirect(pending["next"])
    context = {
        "form": form if not with_key else SecondFactorForm(),
        "key_error": " ".join(e for errors in form.errors.values() for e in errors) if with_key else "",
        "address": user.address,
        "has_keys": twofactor.security_keys(user).exists(),
    }
    return render(request, "registration/login_verify.html", context)


@login_not_required
@never_cache
@csrf_protect
@require_POST
def login_key_options(request):
    """What the browser needs to ask the pending login's security keys (JSON)."""
    user, _pending = _pending_user(request)
    if user is None:
        return JsonResponse({"error": _("Log in again: the login was not finished in time.")}, status=403)
    rp_id, _origin = _webauthn_site(request)
    try:
        options = twofactor.key_login_options(mailbox=user, session=request.session, rp_id=rp_id)
    except ValidationError as exc:
        return _json_refusal(exc)
    return HttpResponse(options, content_type="application/json")


# --- App passwords ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def app_passwords(request):
    """One's own app passwords: the list (names, protocols, last use) and a form for a new one,
    whose password is shown on the answer to the form only."""
    user = request.user
    require(permissions.can_create_app_password(user, user), _("Only an account with a mailbox has app passwords."))
    form = AppPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = call_service(
            form,
            apppasswords.create,
            acting_user=user,
            mailbox=user,
            name=form.cleaned_data["name"],
            protocols=form.cleaned_data["protocols"],
            origin=origin(request),
        )
        if created:
            app_password, shown = created
            context = {"app_password": app_password, "password": shown}
            return render_secret(request, "accounts/app_password_created.html", context)
    context = {
        "form": form,
        "app_passwords": apppasswords.of(user),
        "required": user.domain.require_app_passwords,
        "limit": apppasswords.MAX_PER_MAILBOX,
    }
    return render(request, "accounts/app_passwords.html", context)


@require_POST
def app_password_revoke(request, pk):
    """Revoke an app password: one's own (back to the list) or, for an administrator, one of a
    mailbox it manages (back to that mailbox). Another's that one may not see is not found."""
    app_password = AppPassword.objects.select_related("mailbox__domain").filter(pk=pk).first()
    if app_password is None or not permissions.can_view_app_passwords(request.user, app_password.mailbox):
        raise Http404("No such app password.")
    mailbox = app_password.mailbox
    try:
        apppasswords.revoke(acting_user=request.user, app_password=app_password, origin=origin(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("App password “%(name)s” revoked: mail programs using it are refused.") % {"name": app_password.name},
        )
    if permissions.is_own_account(request.user, mailbox):
        return redirect("accounts:app_passwords")
    return redirect("accounts:detail", mailbox.pk)
