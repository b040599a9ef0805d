"""manage.py import_postfixadmin SOURCE — from a PostfixAdmin database (URL) or its SQL dump (file)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports.command import ImportCommand
from imports.postfixadmin import QUOTA_MULTIPLIER, PostfixAdminImporter
from imports.sqlsource import open_source
from mailadmin.cli import whole_number


class Command(ImportCommand):
    help = gettext_lazy(
        "Import domains, mailboxes, aliases, forwarding, alias domains, vacations and admins from PostfixAdmin."
    )

    def add_source_arguments(self, parser):
        parser.add_argument("source", help=_("mysql://... or postgres://... URL, or the path of a SQL dump"))
        parser.add_argument(
            "--quota-multiplier",
            type=whole_number(minimum=1, maximum=2**30),
            default=QUOTA_MULTIPLIER,
            metavar="BYTES",
            help=_(
                "PostfixAdmin's $CONF['quota_multiplier']: the bytes of its MB in domain limits (default %(default)s)"
            )
            % {"default": QUOTA_MULTIPLIER},
        )
        parser.add_argument(
            "--superadmins", action="store_true", help=_("make PostfixAdmin's superadmins superusers here")
        )

    def importer(self, options):
        self._source = open_source(options["source"], options["encoding"])
        return PostfixAdminImporter(
            self._source, quota_multiplier=options["quota_multiplier"], superadmins=options["superadmins"]
        )
