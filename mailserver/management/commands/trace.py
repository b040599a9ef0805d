"""manage.py trace ADDRESS: where mail to an address goes, read from the lookup views."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mailadmin.cli import ProjectCommand
from mailserver.trace import trace


class Command(ProjectCommand):
    help = gettext_lazy(
        "Explain where mail to ADDRESS goes (domain alias, alias chain, mailboxes, catch-all, vacation, "
        "filtering, quota), or why it is refused - as Exim decides it from the lookup views."
    )

    def add_arguments(self, parser):
        parser.add_argument("address", nargs="+")
        parser.add_argument("--json", action="store_true", help=_("print machine-readable JSON"))

    def handle(self, *args, **options):
        results = [trace(address) for address in options["address"]]
        if options["json"]:
            self.stdout.write(json.dumps([r.as_dict() for r in results], indent=2, default=str))
            return
        for result in results:
            self.stdout.write(f"{result.address}")
            self.stdout.write("  " + _("at RCPT: %(answer)s") % {"answer": result.rcpt})
            for step in result.steps:
                self.stdout.write(f"  {step}")
            if result.mailboxes:
                self.stdout.write("  => " + _("mailboxes: %(addresses)s") % {"addresses": ", ".join(result.mailboxes)})
            if result.external:
                self.stdout.write("  => " + _("sent out to: %(addresses)s") % {"addresses": ", ".join(result.external)})
