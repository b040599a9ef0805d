"""manage.py vacation set|show"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.services import get_mailbox
from mailadmin.cli import VerbCommand, whole_number
from vacation import services
from vacation.models import MAX_INTERVAL_DAYS, Vacation


def vacation_data(v: Vacation) -> dict:
    return {
        "address": v.mailbox.address,
        "mode": v.mode,
        "subject": v.subject,
        "body": v.body,
        "first_day": v.first_day,
        "last_day": v.last_day,
        "interval_days": v.interval_days,
        "language": v.language,
    }


def parse_day(value: str | None, field: str):
    if value in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: _("'%(value)s' is not a date (YYYY-MM-DD).") % {"value": value}}) from None


class Command(VerbCommand):
    help = gettext_lazy("Set or show a mailbox's vacation reply.")
    verbs = {
        "set": gettext_lazy("switch the reply off, to the default text, or to a custom text"),
        "show": gettext_lazy("show it"),
    }

    def args_set(self, parser):
        parser.add_argument("address")
        parser.add_argument("--mode", choices=["off", "default", "custom"], required=True)
        parser.add_argument("--subject")
        body = parser.add_mutually_exclusive_group()
        body.add_argument("--body")
        body.add_argument("--body-file", help=_("read the text from this file (UTF-8), '-' for stdin"))
        parser.add_argument("--first-day", help=_("YYYY-MM-DD"))
        parser.add_argument("--last-day", help=_("YYYY-MM-DD"))
        parser.add_argument(
            "--interval-days",
            type=whole_number(minimum=1, maximum=MAX_INTERVAL_DAYS),
            help=_("one reply per sender per this many days"),
        )
        parser.add_argument(
            "--language",
            help=_("the language of the default text (%(languages)s; an empty value: the server's)")
            % {"languages": ", ".join(code for code, _name in settings.LANGUAGES)},
        )

    def args_show(self, parser):
        parser.add_argument("address")

    def verb_set(self, options):
        mailbox = get_mailbox(options["address"])
        body = options["body"]
        if options["body_file"]:
            body = self._read_body(options["body_file"])
        vacation = services.vacation_set(
            origin="cli",
            acting_user=None,
            mailbox=mailbox,
            mode=options["mode"],
            subject=options["subject"],
            body=body,
            first_day=parse_day(options["first_day"], "first_day"),
            last_day=parse_day(options["last_day"], "last_day"),
            interval_days=options["interval_days"],
            language=options["language"],
        )
        return vacation_data(vacation)

    def verb_show(self, options):
        mailbox = get_mailbox(options["address"])
        vacation = Vacation.objects.filter(mailbox=mailbox).first()
        if vacation is None:
            return {"address": mailbox.address, "mode": "off"}
        return vacation_data(vacation)

    @staticmethod
    def _read_body(path: str) -> str:
        import sys

        try:
            if path == "-":
                return sys.stdin.read()
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(
                {"body": _("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc}}
            ) from None
