"""manage.py senders list|add|remove: the sender allow/deny lists of a mailbox or a domain."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.services import get_mailbox
from domains.services import get_domain
from mailadmin.cli import VerbCommand
from policy import services
from policy.models import SenderRule, parse_pattern

LIST_HELP = gettext_lazy("a mailbox's address, or a domain (example.org or @example.org) for its domain-wide list")


def rule_data(rule: SenderRule) -> dict:
    return {"list": rule.owner, "pattern": rule.pattern, "action": rule.action, "created": rule.created}


def owner_of(text: str) -> dict:
    """``{"mailbox": ...}`` or ``{"domain": ...}`` for the list named ``text``."""
    value = text.strip()
    if "@" in value.lstrip("@"):
        return {"mailbox": get_mailbox(value)}
    return {"domain": get_domain(value.lstrip("@"))}


class Command(VerbCommand):
    help = gettext_lazy("Manage the sender allow/deny lists of mailboxes and domains (allow beats deny).")
    verbs = {
        "list": gettext_lazy("show a list"),
        "add": gettext_lazy("allow or refuse a sender address, @domain or (refuse only) a client network"),
        "remove": gettext_lazy("take an entry off a list"),
    }

    def args_list(self, parser):
        parser.add_argument("list", help=LIST_HELP)

    def args_add(self, parser):
        parser.add_argument("list", help=LIST_HELP)
        parser.add_argument("action", choices=["allow", "deny"])
        parser.add_argument("pattern", help=_("user@example.com, @example.com, or a network such as 192.0.2.0/24"))

    def args_remove(self, parser):
        parser.add_argument("list", help=LIST_HELP)
        parser.add_argument("pattern")

    def verb_list(self, options):
        return [rule_data(rule) for rule in services.rules_of(**owner_of(options["list"]))]

    def verb_add(self, options):
        rule = services.sender_rule_add(
            origin="cli",
            acting_user=None,
            action=options["action"],
            pattern=options["pattern"],
            **owner_of(options["list"]),
        )
        return rule_data(rule)

    def verb_remove(self, options):
        pattern = parse_pattern(options["pattern"])[0]  # (not "pattern, _ =": _ is gettext here)
        rule = services.rules_of(**owner_of(options["list"])).filter(pattern=pattern).first()
        if rule is None:
            raise ValidationError(
                _("%(pattern)s is not on the list of %(list)s.") % {"pattern": pattern, "list": options["list"]}
            )
        services.sender_rule_delete(origin="cli", acting_user=None, rule=rule)
        return {"removed": pattern, "list": rule.owner}
