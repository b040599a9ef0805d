"""manage.py lookup_tables check|rebuild: the v2 lookup tables against the directory."""

from django.core.management.base import CommandError
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mailadmin.cli import ProjectCommand
from mailserver import lookup


class Command(ProjectCommand):
    help = gettext_lazy(
        "check: compare the lookup tables of contract v2 with the directory they mirror (exit 1 when out of "
        "step). rebuild: fill them from the directory and create their triggers again (after restoring a "
        "dump made without triggers)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check", "rebuild"])

    def handle(self, *args, action, **options):
        if action == "rebuild":
            lookup.rebuild(connection)
            self.stdout.write(_("Lookup tables rebuilt from the directory; triggers in place."))
            return
        found = lookup.out_of_step(connection)
        if not found:
            self.stdout.write(_("Lookup tables in step with the directory."))
            return
        for table, diff in found.items():
            self.stdout.write(
                _("%(table)s: %(missing)s rows missing, %(stale)s rows stale")
                % {"table": table, "missing": len(diff["missing"]), "stale": len(diff["extra"])}
            )
            for row in (diff["missing"] + diff["extra"])[:5]:
                self.stdout.write(f"  {row[0]}")
        raise CommandError(_("Lookup tables out of step: run `manage.py lookup_tables rebuild`."))
