"""Vacation replies: one's own, or (for those who manage it) another mailbox's."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.shortcuts import get_mailbox_for
from mailadmin import permissions
from mailadmin.shortcuts import call_service, origin, require
from vacation import services
from vacation.forms import VacationForm
from vacation.models import Vacation, default_text


def _edit(request, mailbox, *done):
    require(permissions.can_edit_vacation(request.user, mailbox))
    vacation = Vacation.objects.filter(mailbox=mailbox).first()
    initial = VacationForm.initial_for(vacation, settings.VACATION_DEFAULT_INTERVAL_DAYS)
    form = VacationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        call_service(
            form,
            services.vacation_set,
            acting_user=request.user,
            mailbox=mailbox,
            origin=origin(request),
            language=get_language(),  # the default text in the language of the page it was set on
            **form.cleaned_data,
        )
        if not form.errors:
            messages.success(request, _("Vacation reply of %(mailbox)s saved.") % {"mailbox": mailbox})
            return redirect(*done)
    context = {
        "form": form,
        "mailbox": mailbox,
        "own": mailbox.pk == request.user.pk,
        **dict(zip(("default_subject", "default_body"), default_text(get_language()), strict=True)),
    }
    return render(request, "vacation/vacation_form.html", context)


@require_http_methods(["GET", "POST"])
def own_vacation(request):
    return _edit(request, request.user, "accounts:me")


@require_http_methods(["GET", "POST"])
def mailbox_vacation(request, pk):
    mailbox = get_mailbox_for(request, pk)
    return _edit(request, mailbox, "accounts:detail", mailbox.pk)
