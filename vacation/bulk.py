"""Vacation replies in bulk: ``mailadmin.bulk``'s engine with the rules of ``vacation.services``."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from domains.bulk import require_superuser
from mailadmin import bulk
from mailadmin.lib.addresses import AddressError, normalize_address
from vacation.models import Vacation

VACATION_ROW_FIELDS = {"address", "mode", "subject", "body", "first_day", "last_day", "interval_days"}


def vacation_bulk_load(*, acting_user, rows: Iterable[dict], origin: str, **options) -> bulk.Loaded:
    """Create vacation replies from rows of ``address`` (a mailbox) and the fields of ``vacation_set``.

    The modes follow ``Vacation.set_mode`` (default clears the text); a mailbox that already has
    a vacation row is refused (this loader only creates).
    """

    def prepare(rows):
        addresses = set()
        for row in rows:
            try:
                addresses.add(normalize_address(str(row.get("address", ""))))
            except AddressError:
                pass  # reported by the row itself
        boxes = get_user_model().objects.filter(address__in=addresses).only("pk", "address", "domain_id")
        return {"mailboxes": {m.address: m for m in boxes}}

    def build(row, context):
        bulk.unknown_fields(row, VACATION_ROW_FIELDS)
        try:
            address = normalize_address(str(row.get("address", "")))
        except AddressError as exc:
            raise ValidationError({"address": str(exc)}) from None
        mailbox = context["mailboxes"].get(address)
        if mailbox is None or not mailbox.domain_id:
            raise ValidationError({"address": gettext("No mailbox %(address)s.") % {"address": address}})
        vacation = Vacation(
            mailbox=mailbox,
            first_day=row.get("first_day"),
            last_day=row.get("last_day"),
            interval_days=row.get("interval_days", settings.VACATION_DEFAULT_INTERVAL_DAYS),
        )
        mode, text = row.get("mode", Vacation.Mode.OFF), {"subject": row.get("subject"), "body": row.get("body")}
        if mode == Vacation.Mode.OFF and any(text.values()):
            vacation.set_mode(Vacation.Mode.CUSTOM, **text)  # a text kept for later, as custom then off would
        vacation.set_mode(mode, **text)
        vacation.clean_fields(exclude=["mailbox"])
        vacation.clean()
        return vacation

    def check(batch):
        ids = [v.mailbox_id for v in batch.objects()]
        have = Vacation.objects.filter(mailbox_id__in=ids).values_list("mailbox_id", flat=True)
        text = gettext("The mailbox (id %(id)s) already has a vacation.")
        bulk.refuse_taken(batch, lambda v: v.mailbox_id, {pk: text % {"id": pk} for pk in have})

    return bulk.load(
        rows,
        acting_user=acting_user,
        origin=origin,
        model=Vacation,
        action="vacation.bulk_load",
        prepare=prepare,
        authorize=require_superuser,
        build=build,
        check=check,
        exclude=("mailbox",),
        **options,
    )
