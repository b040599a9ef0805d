"""manage.py blocklist list|add|set|remove: the server's DNS blocklists (issue 15.2)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mailadmin.cli import VerbCommand, flag
from policy import services
from policy.models import DnsBlocklist

ANSWERS_HELP = gettext_lazy(
    "the answers that mean listed, separated by newlines or ';': an address or a range and what it means, "
    "such as '127.0.0.2 spam source; 127.0.0.4-127.0.0.7 exploited host'"
)


def get_blocklist(zone: str) -> DnsBlocklist:
    found = services.blocklist_named(zone)
    if found is None:
        raise ValidationError(_("%(zone)s is not a blocklist (manage.py blocklist list shows them).") % {"zone": zone})
    return found


class Command(VerbCommand):
    help = gettext_lazy(
        "Manage the DNS blocklists asked about each client that sends to a domain checking them "
        "(manage.py domain set --no-check-blocklists opts a domain out)."
    )
    verbs = {
        "list": gettext_lazy("show the blocklists"),
        "add": gettext_lazy("add a blocklist"),
        "set": gettext_lazy("change a blocklist's name, answers, or whether it is checked"),
        "remove": gettext_lazy("stop using a blocklist"),
        "check": gettext_lazy("ask every enabled blocklist about a client address now, as Exim would"),
    }

    def args_check(self, parser):
        parser.add_argument("address", help=_("a client's IPv4 or IPv6 address"))

    def verb_check(self, options):
        return services.client_listings(options["address"])

    def args_add(self, parser):
        parser.add_argument("zone", help=_("the list's DNS zone, such as zen.spamhaus.org"))
        parser.add_argument("--name", required=True, help=_("named in the refusal, such as 'Spamhaus ZEN'"))
        parser.add_argument("--answers", required=True, help=ANSWERS_HELP)
        flag(parser, "enabled", _("checked from now on (the default), or added switched off"))

    def args_set(self, parser):
        parser.add_argument("zone")
        parser.add_argument("--name")
        parser.add_argument("--answers", help=ANSWERS_HELP)
        flag(parser, "enabled", _("checked, or not"))

    def args_remove(self, parser):
        parser.add_argument("zone")

    def verb_list(self, options):
        return [services.blocklist_data(b) for b in DnsBlocklist.objects.all()]

    def verb_add(self, options):
        enabled = options["enabled"] is not False
        blocklist = services.blocklist_add(
            origin="cli",
            acting_user=None,
            zone=options["zone"],
            name=options["name"],
            answers=options["answers"],
            enabled=enabled,
        )
        return services.blocklist_data(blocklist)

    def verb_set(self, options):
        fields = {key: options[key] for key in services.BLOCKLIST_FIELDS if options[key] is not None}
        if not fields:
            raise ValidationError(_("Say what to change: --name, --answers, --enabled or --no-enabled."))
        blocklist = services.blocklist_update(
            origin="cli", acting_user=None, blocklist=get_blocklist(options["zone"]), **fields
        )
        return services.blocklist_data(blocklist)

    def verb_remove(self, options):
        blocklist = get_blocklist(options["zone"])
        services.blocklist_delete(origin="cli", acting_user=None, blocklist=blocklist)
        return {"removed": blocklist.zone}
