"""manage.py sending collect|list: who sends how much after SMTP AUTH, and who is held at the limit."""

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mailadmin.cli import VerbCommand
from mailserver import sending
from mailserver.models import SendingState


def state_data(state: SendingState) -> dict:
    return {
        "address": state.mailbox.address,
        "host": state.host,
        "messages_per_hour": state.messages_per_hour,
        "recipients_per_hour": state.recipients_per_hour,
        "limited": state.limited,
        "measured_at": state.measured_at,
    }


class Command(VerbCommand):
    help = gettext_lazy("What authenticated mailboxes send an hour, from Exim's ratelimit hints database.")
    verbs = {
        "collect": gettext_lazy(
            "read Exim's ratelimit database on this mail host into the directory (mailadmin-sending.timer)"
        ),
        "list": gettext_lazy("show what was last collected (--limited: only mailboxes held at their limit)"),
    }

    def args_collect(self, parser):
        parser.add_argument(
            "--spool", default=None, help=_("Exim's spool directory (default: MAIL_EXIM_SPOOL_DIRECTORY)")
        )
        parser.add_argument(
            "--host",
            default=None,
            help=_("the name this mail host's counts are kept under (default: its own name)"),
        )

    def args_list(self, parser):
        parser.add_argument("--limited", action="store_true", help=_("only the mailboxes held at their limit"))

    def verb_collect(self, options):
        try:
            states = sending.collect(options["spool"] or settings.MAIL_EXIM_SPOOL_DIRECTORY, host=options["host"])
        except (OSError, RuntimeError) as exc:
            raise CommandError(str(exc)) from None
        limited = SendingState.objects.filter(limited=True).values_list("mailbox__address", flat=True)
        return {"mailboxes": len(states), "limited": sorted(set(limited))}

    def verb_list(self, options):
        states = SendingState.objects.select_related("mailbox").order_by("-messages_per_hour", "host")
        if options["limited"]:
            states = states.filter(limited=True)
        return [state_data(s) for s in states]
