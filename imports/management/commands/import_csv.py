"""manage.py import_csv FILE [--column FIELD=COLUMN ...] — mailboxes from a CSV file."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports.command import ImportCommand
from imports.csvfile import FIELDS, CsvImporter, parse_mapping


class Command(ImportCommand):
    help = gettext_lazy("Import mailboxes from a CSV file (clear-text passwords are hashed, never kept).")

    def add_source_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help=_("read FIELD from COLUMN (default: the column named like the field); fields: %(fields)s")
            % {"fields": ", ".join(FIELDS)},
        )
        parser.add_argument("--delimiter", default=",")
        parser.add_argument("--create-domains", action="store_true", help=_("create the rows' domains if missing"))

    def importer(self, options):
        try:
            mapping = parse_mapping(options["column"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return CsvImporter(
            options["file"],
            mapping=mapping,
            delimiter=options["delimiter"],
            create_domains=options["create_domains"],
            encoding=options["encoding"],
        )
