"""The shared shape of ``manage.py import_*``: --dry-run, --json, a progress bar, one report.

The report (text, or JSON with ``--json``) gives the counts, the notes on what the old system did
that this one does differently, every refusal with its reason, and then every row of the source
with what it became or why not. A source that cannot be read whole imports nothing: exit 1. Some
rows refused, the others imported: exit 3 (``PARTIAL``)."""

from __future__ import annotations

import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from imports.base import SourceError
from mailadmin.cli import ProjectCommand

PARTIAL = 3  # the exit status when some rows were refused and the others imported


class ImportCommand(ProjectCommand):
    """Subclasses add their source arguments and build the importer in ``importer(options)``."""

    def add_arguments(self, parser):
        self.add_source_arguments(parser)
        parser.add_argument("--dry-run", action="store_true", help=_("report what would change, change nothing"))
        parser.add_argument("--json", action="store_true", help=_("print the report as JSON"))
        parser.add_argument("--no-progress", action="store_true", help=_("no progress bar (default on a terminal)"))
        parser.add_argument(
            "--encoding",
            default=None,
            help=_(
                "the source's character encoding when it is not UTF-8 (latin-1, cp1252 ...); "
                "a source that is not valid in it is refused whole"
            ),
        )
        parser.add_argument(
            "--postmaster-to",
            metavar="ADDRESS",
            default="",
            help=_("make postmaster@ and abuse@ (RFC 2142) of each domain the import creates forward to ADDRESS"),
        )

    def add_source_arguments(self, parser):
        raise NotImplementedError

    def importer(self, options):
        raise NotImplementedError

    def handle(self, *args, **options):
        try:
            importer = self.importer(options)
            report = importer.run(
                dry_run=options["dry_run"],
                progress=False if options["no_progress"] else None,
                postmaster_to=options["postmaster_to"],
            )
        except (SourceError, OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            close = getattr(getattr(self, "_source", None), "close", None)
            if close:
                close()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, default=str))
        else:
            for line in report.lines():
                self.stdout.write(line)
            if report.rows:
                self.stdout.write(_("every row of the source:"))
                for line in report.row_lines():
                    self.stdout.write(line)
        if report.failures:
            # Exit 3: the report is printed whole and the other rows are imported, but a script
            # running the import must not take it for a clean one (1 is "nothing imported").
            message = (
                _("%(count)s item(s) failed; the others were checked (dry run).")
                if options["dry_run"]
                else _("%(count)s item(s) failed; the others were imported.")
            )
            raise CommandError(message % {"count": len(report.failures)}, returncode=PARTIAL)
