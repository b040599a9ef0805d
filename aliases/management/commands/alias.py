"""manage.py alias add|list|show|set|delete: forwarders and catch-alls (@domain)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aliases import services
from aliases.models import Alias
from domains.services import get_domain
from mailadmin.cli import VerbCommand, flag
from mailadmin.lib.addresses import AddressError, normalize_local_part


def alias_data(alias: Alias) -> dict:
    return {
        "address": alias.address,
        "domain": alias.domain.name,
        "catchall": alias.is_catchall,
        "destinations": alias.destination_list,
        "active": alias.active,
    }


def split_alias_address(text: str) -> tuple[str, str]:
    """``local@domain`` or ``@domain`` (the catch-all) into (local part, domain)."""
    local, sep, domain = text.strip().rpartition("@")
    if not sep:
        raise ValidationError(
            {
                "address": _("'%(text)s' is not an alias address (local@domain, or @domain for the catch-all).")
                % {"text": text}
            }
        )
    try:
        local = normalize_local_part(local, allow_empty=True)
    except AddressError as exc:
        raise ValidationError({"address": str(exc)}) from None
    return local, domain


class Command(VerbCommand):
    help = gettext_lazy(
        "Manage aliases. '@example.org' is the domain's catch-all; a bare destination name means the same domain."
    )
    verbs = {
        "add": gettext_lazy("create an alias"),
        "list": gettext_lazy("list aliases"),
        "show": gettext_lazy("show one alias"),
        "set": gettext_lazy("replace destinations or switch on/off"),
        "delete": gettext_lazy("delete an alias"),
        "roles": gettext_lazy(
            "make postmaster@ and abuse@ of a domain (RFC 2142) forward to an address, unless they exist"
        ),
    }

    def args_add(self, parser):
        parser.add_argument("address")
        parser.add_argument("destinations", nargs="+")
        flag(parser, "active", _("the alias receives mail (default yes)"))

    def args_list(self, parser):
        parser.add_argument("--domain")

    def args_show(self, parser):
        parser.add_argument("address")

    def args_set(self, parser):
        parser.add_argument("address")
        parser.add_argument("destinations", nargs="*")
        flag(parser, "active", _("the alias receives mail"))

    args_delete = args_show

    def args_roles(self, parser):
        parser.add_argument("domain")
        parser.add_argument("--to", required=True, metavar="ADDRESS", help=_("where their mail goes"))

    def verb_add(self, options):
        local, domain_name = split_alias_address(options["address"])
        domain = get_domain(domain_name)
        alias = services.alias_create(
            origin="cli",
            acting_user=None,
            domain=domain,
            local_part=local,
            destinations=options["destinations"],
            active=options["active"] is not False,
        )
        return alias_data(alias)

    def verb_roles(self, options):
        domain = get_domain(options["domain"])
        created = services.role_aliases_create(origin="cli", acting_user=None, domain=domain, target=options["to"])
        return [alias_data(alias) for alias in created]

    def verb_list(self, options):
        aliases = Alias.objects.select_related("domain")
        if options["domain"]:
            aliases = aliases.filter(domain=get_domain(options["domain"]))
        return [alias_data(a) for a in aliases]

    def verb_show(self, options):
        return alias_data(services.get_alias(options["address"]))

    def verb_set(self, options):
        alias = services.get_alias(options["address"])
        if not options["destinations"] and options["active"] is None:
            raise ValidationError(_("Nothing to change: give destinations, --active or --no-active."))
        from django.db import transaction

        with transaction.atomic():
            if options["destinations"]:
                alias = services.alias_set_destinations(
                    origin="cli", acting_user=None, alias=alias, destinations=options["destinations"]
                )
            if options["active"] is not None:
                alias = services.alias_set_active(origin="cli", acting_user=None, alias=alias, active=options["active"])
        return alias_data(alias)

    def verb_delete(self, options):
        alias = services.get_alias(options["address"])
        services.alias_delete(origin="cli", acting_user=None, alias=alias)
        return {"deleted": alias.address}
