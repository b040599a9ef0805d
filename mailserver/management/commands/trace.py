"""manage.py trace ADDRESS: where mail to an address goes, read from the lookup views."""

from __future__ import annotations

import json

from mailadmin.cli import ProjectCommand
from mailserver.trace import trace


class Command(ProjectCommand):
    help = (
        "Explain where mail to ADDRESS goes (domain alias, alias chain, mailboxes, catch-all, vacation, "
        "filtering, quota), or why it is refused - as Exim decides it from the lookup views."
    )

    def add_arguments(self, parser):
        parser.add_argument("address", nargs="+")
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON")

    def handle(self, *args, **options):
        results = [trace(address) for address in options["address"]]
        if options["json"]:
            self.stdout.write(json.dumps([r.as_dict() for r in results], indent=2, default=str))
            return
        for result in results:
            self.stdout.write(f"{result.address}")
            self.stdout.write(f"  at RCPT: {result.rcpt}")
            for step in result.steps:
                self.stdout.write(f"  {step}")
            if result.mailboxes:
                self.stdout.write(f"  => mailboxes: {', '.join(result.mailboxes)}")
            if result.external:
                self.stdout.write(f"  => sent out to: {', '.join(result.external)}")
