"""manage.py render_mailconfig DIR: write Exim's and Dovecot's configuration for this directory.

Renders deploy/exim/, deploy/dovecot/ and deploy/systemd/ from the project's settings (MAIL_* and
the database) into DIR/exim4/exim4.conf, DIR/dovecot/ and DIR/systemd/. Any setting can be overridden
with --set NAME=VALUE; the lookup users' passwords can come from the JSON that
`manage.py lookup_users create --json` printed (--credentials FILE, or - for stdin).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mailadmin.cli import ProjectCommand
from mailserver import config as mailconfig


class Command(ProjectCommand):
    help = gettext_lazy(
        "Render the Exim and Dovecot configuration and the panel's systemd units (deploy/) from the project's "
        "settings into a directory."
    )

    def add_arguments(self, parser):
        parser.add_argument("output", help=_("directory to write exim4/, dovecot/ and systemd/ into"))
        self.add_setting_arguments(parser)

    def add_setting_arguments(self, parser):
        """--set and --credentials (install_mailconfig takes them too)."""
        parser.add_argument(
            "--set", action="append", default=[], metavar="NAME=VALUE", help=_("override a setting (repeatable)")
        )
        parser.add_argument(
            "--credentials", metavar="FILE", help=_("JSON from `lookup_users create --json` (- reads stdin)")
        )

    def handle(self, *args, **options):
        overrides = self.overrides(options)
        try:
            written = mailconfig.render(Path(options["output"]), overrides)
        except mailconfig.ConfigError as exc:
            raise CommandError(str(exc)) from None
        for path in written:
            self.stdout.write(str(path))

    def overrides(self, options) -> dict:
        """The settings given with --set and --credentials (install_mailconfig takes the same)."""
        overrides = {}
        for item in options["set"]:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(_("--set %(item)s: expected NAME=VALUE") % {"item": item})
            overrides[name.strip().upper()] = value
        if options["credentials"]:
            overrides.update(self._credentials(options["credentials"]))
        return overrides

    def _credentials(self, source: str) -> dict:
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text()
            data = json.loads(text)
            return {
                "LOOKUP_EXIM_USER": data["exim"]["user"],
                "LOOKUP_EXIM_PASSWORD": data["exim"]["password"],
                "LOOKUP_DOVECOT_USER": data["dovecot"]["user"],
                "LOOKUP_DOVECOT_PASSWORD": data["dovecot"]["password"],
                **(
                    {
                        "LOOKUP_GREYLIST_USER": data["greylist"]["user"],
                        "LOOKUP_GREYLIST_PASSWORD": data["greylist"]["password"],
                    }
                    if "greylist" in data
                    else {}
                ),
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(
                _("--credentials %(source)s: not the JSON of `lookup_users create --json` (%(error)s)")
                % {"source": source, "error": exc}
            )
