"""manage.py relay list|add|remove: the addresses a relay (backup MX) domain takes mail for."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domains import services
from domains.models import RelayRecipient
from mailadmin.cli import VerbCommand


def recipient_data(recipient: RelayRecipient) -> dict:
    return {"domain": recipient.domain.name, "address": recipient.address, "created": recipient.created}


class Command(VerbCommand):
    help = gettext_lazy(
        "Manage the relay list of a relay (backup MX) domain: the addresses it takes mail for and passes "
        "to its relay host (manage.py domain set DOMAIN --relay-host HOST makes a domain one)."
    )
    verbs = {
        "list": gettext_lazy("show a relay domain's list"),
        "add": gettext_lazy("add addresses (local parts, addresses of the domain, or @ for every address)"),
        "remove": gettext_lazy("take addresses off the list"),
    }

    def args_list(self, parser):
        parser.add_argument("domain")

    def args_add(self, parser):
        parser.add_argument("domain")
        parser.add_argument("addresses", nargs="+", metavar="ADDRESS")

    def args_remove(self, parser):
        parser.add_argument("domain")
        parser.add_argument("addresses", nargs="+", metavar="ADDRESS")

    def verb_list(self, options):
        domain = services.get_domain(options["domain"])
        return [recipient_data(r) for r in domain.relay_recipients.select_related("domain").order_by("address")]

    def verb_add(self, options):
        domain = services.get_domain(options["domain"])
        added = services.relay_recipients_add(
            acting_user=None, domain=domain, addresses=options["addresses"], origin="cli"
        )
        return [recipient_data(r) for r in added]

    def verb_remove(self, options):
        domain = services.get_domain(options["domain"])
        wanted = [services.relay_address(domain, text) for text in options["addresses"]]
        found = {r.address: r for r in domain.relay_recipients.filter(address__in=wanted)}
        missing = [a for a in wanted if a not in found]
        if missing:
            raise ValidationError(
                _("Not on the relay list of %(domain)s: %(addresses)s.")
                % {"domain": domain.name, "addresses": ", ".join(missing)}
            )
        for recipient in found.values():
            services.relay_recipient_delete(acting_user=None, recipient=recipient, origin="cli")
        return {"removed": sorted(found)}
