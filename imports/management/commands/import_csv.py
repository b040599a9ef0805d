"""manage.py import_csv FILE [--column FIELD=COLUMN ...] — mailboxes from a CSV file."""

from django.core.management.base import CommandError

from imports.command import ImportCommand
from imports.csvfile import FIELDS, CsvImporter, parse_mapping


class Command(ImportCommand):
    help = "Import mailboxes from a CSV file (clear-text passwords are hashed, never kept)."

    def add_source_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help=f"read FIELD from COLUMN (default: the column named like the field); fields: {', '.join(FIELDS)}",
        )
        parser.add_argument("--delimiter", default=",")
        parser.add_argument("--create-domains", action="store_true", help="create the rows' domains if missing")

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
