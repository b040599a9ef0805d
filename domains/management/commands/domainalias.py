"""manage.py domainalias add|list|set|delete"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domains import services
from domains.models import DomainAlias
from mailadmin.cli import VerbCommand, flag


def alias_data(alias: DomainAlias) -> dict:
    return {"name": alias.name, "target": alias.target.name, "active": alias.active}


def get_domain_alias(name: str) -> DomainAlias:
    ascii_name = services.domain_name_from(name)
    try:
        return DomainAlias.objects.select_related("target").get(name=ascii_name)
    except DomainAlias.DoesNotExist:
        raise ValidationError({"name": _("No domain alias %(name)s.") % {"name": ascii_name}}) from None


class Command(VerbCommand):
    help = gettext_lazy("Manage domain aliases (another name for a domain).")
    verbs = {
        "add": gettext_lazy("make NAME another name of TARGET"),
        "list": gettext_lazy("list domain aliases"),
        "set": gettext_lazy("switch a domain alias on or off"),
        "delete": gettext_lazy("delete a domain alias"),
    }

    def args_add(self, parser):
        parser.add_argument("name")
        parser.add_argument("target")
        flag(parser, "active", _("mail to the alias is accepted (default yes)"))

    def args_list(self, parser):
        parser.add_argument("--target", help=_("only the aliases of this domain"))

    def args_set(self, parser):
        parser.add_argument("name")
        flag(parser, "active", _("mail to the alias is accepted"))

    def args_delete(self, parser):
        parser.add_argument("name")

    def verb_add(self, options):
        target = services.get_domain(options["target"])
        active = options["active"] is not False
        return alias_data(
            services.domain_alias_create(
                origin="cli", acting_user=None, name=options["name"], target=target, active=active
            )
        )

    def verb_list(self, options):
        aliases = DomainAlias.objects.select_related("target")
        if options["target"]:
            aliases = aliases.filter(target=services.get_domain(options["target"]))
        return [alias_data(a) for a in aliases]

    def verb_set(self, options):
        if options["active"] is None:
            raise ValidationError(_("Nothing to change: give --active or --no-active."))
        alias = get_domain_alias(options["name"])
        return alias_data(
            services.domain_alias_update(origin="cli", acting_user=None, alias=alias, active=options["active"])
        )

    def verb_delete(self, options):
        alias = get_domain_alias(options["name"])
        services.domain_alias_delete(origin="cli", acting_user=None, alias=alias)
        return {"deleted": alias.name}
