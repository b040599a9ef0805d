"""manage.py import_ldif FILE — from an LDIF export of a Jamm-style LDAP mail tree."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports.command import ImportCommand
from imports.ldif import LdifImporter


class Command(ImportCommand):
    help = gettext_lazy("Import virtual domains, mail accounts, aliases and postmasters from a Jamm-style LDIF export.")

    def add_source_arguments(self, parser):
        parser.add_argument("file", help=_("the LDIF file (ldapsearch -LLL or slapcat output)"))

    def importer(self, options):
        return LdifImporter(options["file"], encoding=options["encoding"])
