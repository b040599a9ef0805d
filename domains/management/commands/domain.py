"""manage.py domain add|list|show|set|delete"""

import json
from io import StringIO

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domains import services
from domains.models import Domain
from domains.services import DOMAIN_SETTINGS
from mailadmin.cli import VerbCommand, flag, given, size_option, whole_number
from mailadmin.forms import MAX_COUNT

SETTING_ARGS = DOMAIN_SETTINGS


def domain_data(domain: Domain) -> dict:
    return {"name": domain.name, "display_name": domain.display_name} | {
        name: getattr(domain, name) for name in DOMAIN_SETTINGS
    }


def add_setting_args(parser) -> None:
    parser.add_argument("--description")
    flag(parser, "active", _("visible to the MTA (mail is accepted)"))
    flag(parser, "logins-enabled", _("IMAP, POP3 and SMTP AUTH for its mailboxes"))
    flag(parser, "default-may-relay", _("new mailboxes may relay"))
    flag(parser, "default-allow-imap", _("new mailboxes may use IMAP"))
    flag(parser, "default-allow-pop3", _("new mailboxes may use POP3"))
    flag(parser, "default-allow-smtp", _("new mailboxes may send with SMTP AUTH"))
    flag(parser, "default-allow-sieve", _("new mailboxes may use ManageSieve"))
    flag(parser, "users-may-forward", _("users set their own mailbox's forwarding"))
    flag(parser, "forward-outside", _("mailboxes may forward to addresses outside this server"))
    flag(parser, "require-two-factor", _("its administrators log in to the panel with a second factor"))
    flag(parser, "require-app-passwords", _("mail programs log in with app passwords only, not the main password"))
    flag(parser, "check-blocklists", _("refuse mail to it from clients on the DNS blocklists (manage.py blocklist)"))
    flag(parser, "greylist", _("tell a new sender's first attempt from an unknown client to try again later"))
    parser.add_argument(
        "--greylist-delay",
        type=whole_number(minimum=1, maximum=86400),
        metavar="SECONDS",
        help=_("before a retry is accepted"),
    )
    parser.add_argument(
        "--greylist-window-hours",
        type=whole_number(minimum=1, maximum=720),
        metavar="HOURS",
        help=_("within which the retry comes"),
    )
    parser.add_argument(
        "--greylist-expiry-days",
        type=whole_number(minimum=1, maximum=3650),
        metavar="DAYS",
        help=_("a sender that passed is remembered this long after its last message"),
    )
    parser.add_argument(
        "--relay-host",
        metavar="HOST",
        help=_("a relay (backup MX) domain: pass its mail to HOST, which holds its mailboxes ('' to host it here)"),
    )
    parser.add_argument(
        "--relay-port", type=whole_number(maximum=65535), metavar="PORT", help=_("the relay host's port")
    )
    parser.add_argument(
        "--relay-verify",
        choices=["list", "callout"],
        help=_(
            "take mail for the addresses on its relay list (manage.py relay), or for those the relay host "
            "accepts when asked (callout)"
        ),
    )
    for name in ("max-mailboxes", "max-aliases"):
        parser.add_argument(f"--{name}", type=whole_number(maximum=MAX_COUNT), metavar="N", help=_("0 = unlimited"))
    size_option(parser, "max-quota", "max_quota_bytes", _("largest mailbox quota, 0 = unlimited"))
    size_option(parser, "default-quota", "default_quota_bytes", _("quota of new mailboxes, 0 = unlimited"))
    parser.add_argument(
        "--default-max-sent-per-hour",
        type=whole_number(maximum=MAX_COUNT),
        metavar="N",
        help=_("messages a mailbox may send an hour with SMTP AUTH, unless it says otherwise; 0 = no limit"),
    )
    parser.add_argument(
        "--default-max-recipients-per-hour",
        type=whole_number(maximum=MAX_COUNT),
        metavar="N",
        help=_("recipients a mailbox may send to an hour, unless it says otherwise; 0 = no limit"),
    )
    size_option(
        parser,
        "max-message-size",
        "max_message_bytes",
        _("largest message its addresses accept, 0 = the server's limit"),
    )


class Command(VerbCommand):
    help = gettext_lazy("Manage domains.")
    verbs = {
        "add": gettext_lazy("create a domain"),
        "list": gettext_lazy("list domains"),
        "show": gettext_lazy("show one domain"),
        "set": gettext_lazy("change a domain's settings and limits"),
        "delete": gettext_lazy("delete a domain"),
    }

    def args_add(self, parser):
        parser.add_argument("name")
        add_setting_args(parser)
        parser.add_argument(
            "--postmaster-to",
            metavar="ADDRESS",
            help=_("make postmaster@ and abuse@ of the new domain (RFC 2142) forward to ADDRESS"),
        )

    def args_show(self, parser):
        parser.add_argument("name")

    def args_set(self, parser):
        parser.add_argument("name")
        add_setting_args(parser)

    def args_delete(self, parser):
        parser.add_argument("name")
        parser.add_argument("--force", action="store_true", help=_("also delete its mailboxes"))

    @transaction.atomic
    def verb_add(self, options):
        fields = given(options, *SETTING_ARGS)
        domain = services.domain_create(origin="cli", acting_user=None, name=options["name"], **fields)
        data = domain_data(domain)
        if options["postmaster_to"]:
            # ``alias roles`` (the aliases app's command: domains import nothing of aliases)
            out = StringIO()
            call_command("alias", "roles", domain.name, "--to", options["postmaster_to"], "--json", stdout=out)
            data["role_aliases"] = [alias["address"] for alias in json.loads(out.getvalue())]
        return data

    def verb_list(self, options):
        return [domain_data(d) for d in Domain.objects.all()]

    def verb_show(self, options):
        domain = services.get_domain(options["name"])
        data = domain_data(domain)
        data.update(
            mailboxes=domain.mailboxes.count(),
            aliases=domain.aliases.count(),
            allocated_quota_bytes=domain.allocated_quota_bytes(),
            domain_aliases=[a.name for a in domain.domain_aliases.all()],
        )
        return data

    def verb_set(self, options):
        domain = services.get_domain(options["name"])
        fields = given(options, *SETTING_ARGS)
        if not fields:
            raise ValidationError(_("Nothing to change: give at least one setting."))
        return domain_data(services.domain_update(origin="cli", acting_user=None, domain=domain, **fields))

    def verb_delete(self, options):
        domain = services.get_domain(options["name"])
        services.domain_delete(origin="cli", acting_user=None, domain=domain, force=options["force"])
        return {"deleted": domain.name}
