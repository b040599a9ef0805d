"""manage.py import_postfix_maps [--virtual FILE] [--aliases FILE --domain DOMAIN]"""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports.command import ImportCommand
from imports.postfixmaps import PostfixMapsImporter


class Command(ImportCommand):
    help = gettext_lazy("Import aliases and catch-alls from Postfix virtual maps and /etc/aliases-style files.")

    def add_source_arguments(self, parser):
        parser.add_argument("--virtual", action="append", default=[], metavar="FILE", help=_("a virtual(5) map"))
        parser.add_argument("--aliases", action="append", default=[], metavar="FILE", help=_("an aliases(5) file"))
        parser.add_argument("--domain", default="", help=_("the domain of the names in --aliases files"))
        parser.add_argument("--create-domains", action="store_true", help=_("create the aliases' domains if missing"))

    def importer(self, options):
        if not options["virtual"] and not options["aliases"]:
            raise CommandError(_("Give at least one --virtual or --aliases file."))
        if options["aliases"] and not options["domain"]:
            raise CommandError(_("--aliases needs --domain (the domain its names belong to)."))
        return PostfixMapsImporter(
            virtual=options["virtual"],
            aliases=options["aliases"],
            domain=options["domain"],
            create_domains=options["create_domains"],
            encoding=options["encoding"],
        )
