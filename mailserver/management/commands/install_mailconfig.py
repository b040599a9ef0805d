"""manage.py install_mailconfig: render, check, install and reload the mail servers' configuration.

The same settings and options as render_mailconfig (--set, --credentials); see mailserver/install.py
for what is checked, where each file goes and how it is replaced.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mailserver import config as mailconfig
from mailserver import install
from mailserver.management.commands import render_mailconfig


class Command(render_mailconfig.Command):
    help = gettext_lazy(
        "Render the Exim and Dovecot configuration, check it with exim -bV and doveconf -n/-x, install it in "
        "Debian's places (/etc/exim4/exim4.conf, /etc/dovecot/) with atomic renames, and reload both "
        "servers. A configuration that fails a check is refused and nothing changes."
    )

    def add_arguments(self, parser):
        self.add_setting_arguments(parser)
        parser.add_argument(
            "--root", default="/", help=_("install under this directory instead of / (a scratch root: no reload)")
        )
        parser.add_argument(
            "--units",
            action="store_true",
            help=_("also install the panel's systemd units and timers (checked with systemd-analyze verify)"),
        )
        parser.add_argument("--no-reload", action="store_true", help=_("do not reload Exim and Dovecot afterwards"))

    def handle(self, *args, **options):
        try:
            result = install.install(
                Path(options["root"]), self.overrides(options), units=options["units"], reload=not options["no_reload"]
            )
        except (install.InstallError, mailconfig.ConfigError) as exc:
            raise CommandError(str(exc)) from None
        for check in result.checks:
            self.stdout.write(_("checked: %(check)s") % {"check": check})
        for path in result.installed:
            self.stdout.write(_("installed: %(path)s") % {"path": path})
        for service in result.reloaded:
            self.stdout.write(_("reloaded: %(service)s") % {"service": service})
