"""manage.py import_postfixadmin SOURCE — from a PostfixAdmin database (URL) or its SQL dump (file)."""

from imports.command import ImportCommand
from imports.postfixadmin import PostfixAdminImporter
from imports.sqlsource import open_source


class Command(ImportCommand):
    help = "Import domains, mailboxes, aliases, alias domains, vacations and domain admins from PostfixAdmin."

    def add_source_arguments(self, parser):
        parser.add_argument("source", help="mysql://... or postgres://... URL, or the path of a SQL dump")

    def importer(self, options):
        self._source = open_source(options["source"])
        return PostfixAdminImporter(self._source)
