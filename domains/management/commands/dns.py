"""manage.py dns DOMAIN [--check] | --check-all: the DNS records a domain needs, and whether it has them."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domains import dns, dnscheck
from domains.services import get_domain
from mailadmin.cli import ProjectCommand, format_error


class Command(ProjectCommand):
    help = gettext_lazy(
        "The DNS records a domain needs (MX, SPF, DKIM, DMARC, TLS-RPT, RFC 6186 SRV), as zone-file lines; "
        "--check compares them with what the DNS publishes; --check-all checks every active domain (a daily job)."
    )

    def add_arguments(self, parser):
        parser.add_argument("domain", nargs="?")
        parser.add_argument("--check", action="store_true", help=_("ask the DNS and give a verdict per record"))
        parser.add_argument("--check-all", action="store_true", help=_("check every active domain (for the list)"))
        parser.add_argument("--json", action="store_true", help=_("print machine-readable JSON"))

    def handle(self, *args, **options):
        if options["check_all"]:
            counts = dnscheck.check_all()
            lines = [_("%(domain)s: %(count)s problem(s)") % {"domain": name, "count": n} for name, n in counts.items()]
            lines = lines or [_("(no domains)")]
            self.stdout.write(json.dumps(counts, indent=2) if options["json"] else "\n".join(lines))
            return
        if not options["domain"]:
            raise CommandError(_("Name a domain, or give --check-all."))
        try:
            domain = get_domain(options["domain"])
        except ValidationError as exc:
            raise CommandError(format_error(exc)) from None
        if options["check"]:
            verdicts = dnscheck.check(domain)
            if options["json"]:
                self.stdout.write(json.dumps([v.as_dict() for v in verdicts], indent=2))
            else:
                for verdict in verdicts:
                    self.stdout.write(f"{verdict.state.upper():8} {verdict.record.type:4} {verdict.record.name}"
                                      + (f"  ({verdict.detail})" if verdict.detail else ""))  # fmt: skip
                    if verdict.fix:
                        self.stdout.write(f"         {verdict.fix}")
            if dnscheck.problems_of(verdicts):
                raise CommandError(
                    _("%(domain)s: some records are missing or wrong.") % {"domain": domain.display_name}
                )
            return
        found = dns.records(domain)
        if options["json"]:
            self.stdout.write(json.dumps({"records": [r.as_dict() for r in found], "advice": dns.advice()}, indent=2))
            return
        self.stdout.write("; " + _("DNS records of %(domain)s (manage.py dns)") % {"domain": domain.display_name})
        for record in found:
            self.stdout.write(f"; {record.purpose}")
            self.stdout.write(record.zone_line())
        for line in dns.advice():
            self.stdout.write(f"; {line}")
