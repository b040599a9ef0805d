"""manage.py grant set|show|list|revoke: delegate domains to an administrator."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domains import services
from domains.models import AdminGrant
from domains.services import GRANT_FIELDS
from mailadmin.cli import VerbCommand, flag, given, size_option, whole_number
from mailadmin.forms import MAX_COUNT


def grant_data(grant: AdminGrant) -> dict:
    usage = grant.usage()
    return {
        "admin": grant.admin.address,
        "domains": [d.name for d in grant.domains.all()],
        "quota_bytes": grant.quota_bytes,
        "max_mailboxes": grant.max_mailboxes,
        "can_create_mailboxes": grant.can_create_mailboxes,
        "can_delete_mailboxes": grant.can_delete_mailboxes,
        "can_appoint_admins": grant.can_appoint_admins,
        "used_quota_bytes": usage["quota_bytes"],
        "used_mailboxes": usage["mailboxes"],
    }


class Command(VerbCommand):
    help = gettext_lazy("Manage admin grants: which mailbox administers which domains, within what limits.")
    verbs = {
        "set": gettext_lazy("create or replace the grant of ADMIN"),
        "show": gettext_lazy("show one grant"),
        "list": gettext_lazy("list grants"),
        "revoke": gettext_lazy("take a grant away"),
    }

    def args_set(self, parser):
        parser.add_argument("admin", help=_("the administrator's address"))
        parser.add_argument(
            "--domain",
            action="append",
            dest="domains",
            metavar="DOMAIN",
            help=_("a granted domain (repeat for several); replaces the list when given"),
        )
        count = whole_number(maximum=MAX_COUNT)
        size_option(parser, "quota", "quota_bytes", _("quota shared by all its domains, 0 = unlimited"))
        parser.add_argument("--max-mailboxes", type=count, help=_("mailboxes across all its domains, 0 = unlimited"))
        flag(parser, "can-create-mailboxes", _("may create mailboxes"))
        flag(parser, "can-delete-mailboxes", _("may delete mailboxes"))
        flag(parser, "can-appoint-admins", _("may appoint other admins for its domains"))

    def args_show(self, parser):
        parser.add_argument("admin")

    args_revoke = args_show

    def verb_set(self, options):
        admin = get_user_model().objects.get_by_address(options["admin"])
        fields = given(options, *GRANT_FIELDS)
        existing = AdminGrant.objects.filter(admin=admin).first()
        if options["domains"] is not None:
            domains = [services.get_domain(name) for name in options["domains"]]
        elif existing:
            domains = list(existing.domains.all())
        else:
            raise ValidationError({"domains": _("Give at least one --domain for a new grant.")})
        return grant_data(services.grant_set(origin="cli", acting_user=None, admin=admin, domains=domains, **fields))

    def verb_show(self, options):
        admin = get_user_model().objects.get_by_address(options["admin"])
        grant = AdminGrant.objects.filter(admin=admin).first()
        if grant is None:
            raise ValidationError(_("%(admin)s has no admin grant.") % {"admin": admin.address})
        return grant_data(grant)

    def verb_list(self, options):
        return [grant_data(g) for g in AdminGrant.objects.select_related("admin").order_by("admin__address")]

    def verb_revoke(self, options):
        admin = get_user_model().objects.get_by_address(options["admin"])
        services.grant_revoke(origin="cli", acting_user=None, admin=admin)
        return {"revoked": admin.address}
