"""manage.py import_vmailsql SOURCE — from a vmail-sql database (URL) or its SQL dump (file)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports.command import ImportCommand
from imports.sqlsource import open_source
from imports.vmailsql import VmailSqlImporter


class Command(ImportCommand):
    help = gettext_lazy("Import domains, POP boxes, forwarders and domain aliases from a vmail-sql database or dump.")

    def add_source_arguments(self, parser):
        parser.add_argument("source", help=_("mysql://user@host/db (or postgres://...) or the path of a SQL dump"))

    def importer(self, options):
        self._source = open_source(options["source"], options["encoding"])
        return VmailSqlImporter(self._source)
