"""manage.py traffic collect|hours|top: message statistics from Exim's main log."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mailadmin.cli import VerbCommand
from mailserver import traffic


def default_log() -> str:
    return settings.MAIL_EXIM_LOG_FILE_PATH.replace("%s", "main")


class Command(VerbCommand):
    help = gettext_lazy("Message statistics per domain and hour, read incrementally from Exim's main log.")
    verbs = {
        "collect": gettext_lazy("read what is new in Exim's main log into the statistics (mailadmin-traffic.timer)"),
        "hours": gettext_lazy("a domain's counts by hour (or the whole host's: *)"),
        "top": gettext_lazy("a domain's senders and recipients with the most messages"),
    }

    def args_collect(self, parser):
        parser.add_argument(
            "--log", default=None, help=_("Exim's main log (default: MAIL_EXIM_LOG_FILE_PATH's mainlog)")
        )
        parser.add_argument(
            "--host",
            default=None,
            help=_("the name this mail host's log position is kept under (default: its own name)"),
        )

    def _domain(self, parser):
        parser.add_argument("domain", help=_("a domain of the directory, or * for the whole mail host"))

    def args_hours(self, parser):
        self._domain(parser)
        parser.add_argument("--hours", type=int, default=24, help=_("how many hours back (default 24)"))

    def args_top(self, parser):
        self._domain(parser)
        parser.add_argument("--days", type=int, default=7, help=_("how many days back (default 7)"))
        parser.add_argument("--limit", type=int, default=10, help=_("how many of each (default 10)"))

    def verb_collect(self, options):
        try:
            done = traffic.collect(options["log"] or default_log(), host=options["host"])
        except OSError as exc:
            raise CommandError(_("Cannot read the log: %(error)s") % {"error": exc}) from None
        if done.lost:
            self.stderr.write(_("Warning: %(problem)s") % {"problem": done.lost})
        return {"log": done.path, "lines": done.lines, "offset": done.offset, "rotated": done.rotated}

    def verb_hours(self, options):
        if not 1 <= options["hours"] <= 24 * 366:
            raise CommandError(_("--hours: from 1 to 8784."))
        since = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=options["hours"] - 1)
        rows = traffic.domain_hours(options["domain"].lower(), since)
        return [{"hour": hour, **counts} for hour, counts in rows.items()]

    def verb_top(self, options):
        if not 1 <= options["days"] <= 3660 or not 1 <= options["limit"] <= 1000:
            raise CommandError(_("--days: from 1 to 3660; --limit: from 1 to 1000."))
        since = timezone.localdate() - timedelta(days=options["days"] - 1)
        domain = options["domain"].lower()
        return {
            role: [{"address": a, "messages": n} for a, n in traffic.top(domain, role, since, options["limit"])]
            for role in ("sender", "recipient")
        }
