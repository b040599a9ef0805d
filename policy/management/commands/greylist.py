"""manage.py greylist list|allow|disallow|triplets|expire: greylisting's allow list and its triplets (issue 15.1)."""

import time

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domains.services import get_domain
from mailadmin.cli import VerbCommand, whole_number
from policy import services
from policy.models import GreylistAllow, GreylistTriplet


class Command(VerbCommand):
    help = gettext_lazy(
        "Greylisting's allow list (client networks and sender domains that are never greylisted) and the "
        "senders it holds (manage.py domain set --greylist switches it on for a domain)."
    )
    verbs = {
        "list": gettext_lazy("show the allow list"),
        "allow": gettext_lazy("add a client network or a sender domain to the allow list"),
        "disallow": gettext_lazy("remove an entry from the allow list"),
        "triplets": gettext_lazy("show the senders greylisting holds, newest first"),
        "expire": gettext_lazy("delete the senders greylisting no longer needs (the daily job runs this)"),
    }

    def args_allow(self, parser):
        parser.add_argument(
            "pattern", help=_("a client network (192.0.2.0/24, 2001:db8::/32), example.com or *.example.com")
        )
        parser.add_argument("--note", default="", help=_("why it is on the list"))

    def args_disallow(self, parser):
        parser.add_argument("pattern")

    def args_triplets(self, parser):
        parser.add_argument("--domain", help=_("only this domain's"))
        parser.add_argument("--limit", type=whole_number(minimum=1, maximum=10000), default=50)

    def verb_list(self, options):
        return [services.greylist_allow_data(entry) for entry in GreylistAllow.objects.all()]

    def verb_allow(self, options):
        entry = services.greylist_allow_add(
            acting_user=None, pattern=options["pattern"], note=options["note"], origin="cli"
        )
        return services.greylist_allow_data(entry)

    def verb_disallow(self, options):
        entry = services.greylist_allow_named(options["pattern"])
        if entry is None:
            raise ValidationError(
                _("%(pattern)s is not on the allow list (manage.py greylist list shows it).")
                % {"pattern": options["pattern"]}
            )
        services.greylist_allow_delete(acting_user=None, entry=entry, origin="cli")
        return {"disallowed": entry.pattern}

    def verb_triplets(self, options):
        rows = GreylistTriplet.objects.all()
        if options["domain"]:
            rows = rows.filter(domain=get_domain(options["domain"]).name)
        now = int(time.time())
        return [
            {
                "domain": t.domain,
                "client": t.client,
                "sender": t.sender,
                "recipient": t.recipient,
                "passed": bool(t.passed),
                "first_seen_seconds_ago": now - t.first_seen,
                "last_seen_seconds_ago": now - t.last_seen,
            }
            for t in rows[: options["limit"]]
        ]

    def verb_expire(self, options):
        return {"expired": services.greylist_expire()}
