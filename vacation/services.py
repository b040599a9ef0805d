"""Setting a mailbox's vacation reply."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from mailadmin import permissions
from mailadmin.audit import record, snapshot
from mailadmin.permissions import require
from vacation.models import Vacation


@transaction.atomic
def vacation_set(
    *,
    acting_user,
    mailbox,
    mode: str,
    subject: str | None = None,
    body: str | None = None,
    first_day: datetime.date | None = None,
    last_day: datetime.date | None = None,
    interval_days: int | None = None,
    language: str | None = None,
    origin: str,
) -> Vacation:
    """Switch a vacation off, to the default text, or to a custom text.

    Switching off keeps a custom text for next time; choosing the default
    clears it. Dates and interval are kept as given. ``language``: the language of the
    default text (``Vacation.language``; None keeps the one it has).
    """
    require(
        acting_user is None or permissions.can_edit_vacation(acting_user, mailbox),
        gettext("You may not change that vacation reply."),
    )
    if not mailbox.has_mailbox:
        raise ValidationError(gettext("%(account)s is a panel-only account without a mailbox.") % {"account": mailbox})
    Vacation(mailbox=mailbox).set_mode(mode)  # an unknown mode is refused before anything is locked
    vacation, _ = Vacation.objects.select_for_update().get_or_create(
        mailbox=mailbox, defaults={"interval_days": settings.VACATION_DEFAULT_INTERVAL_DAYS}
    )
    before = snapshot(vacation)
    vacation.set_mode(mode, subject=subject, body=body)
    vacation.first_day, vacation.last_day = first_day, last_day
    if interval_days is not None:
        vacation.interval_days = interval_days
    if language is not None:
        vacation.language = language
    vacation.full_clean()
    vacation.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="vacation.set",
        obj=vacation,
        domain=mailbox.domain,
        before=before,
        after=snapshot(vacation),
    )
    return vacation
