"""manage.py dns DOMAIN: the DNS records the domain needs, as zone-file lines (or --json)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from domains import dns
from domains.services import get_domain
from mailadmin.cli import format_error


class Command(BaseCommand):
    help = "The DNS records a domain needs (MX, SPF, DKIM, DMARC, TLS-RPT, RFC 6186 SRV), as zone-file lines."

    def add_arguments(self, parser):
        parser.add_argument("domain")
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON")

    def handle(self, *args, **options):
        import json

        try:
            domain = get_domain(options["domain"])
        except ValidationError as exc:
            raise CommandError(format_error(exc)) from None
        found = dns.records(domain)
        if options["json"]:
            self.stdout.write(json.dumps({"records": [r.as_dict() for r in found], "advice": dns.advice()}, indent=2))
            return
        self.stdout.write(f"; DNS records of {domain.display_name} (manage.py dns)")
        for record in found:
            self.stdout.write(f"; {record.purpose}")
            self.stdout.write(record.zone_line())
        for line in dns.advice():
            self.stdout.write(f"; {line}")
