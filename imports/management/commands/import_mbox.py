"""manage.py import_mbox ADDRESS FILE [--folder NAME] — an mbox file into a mailbox (as the store's owner)."""

import json
import mailbox as mailboxes
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.services import get_mailbox
from imports.mbox import import_mbox
from mailadmin.cli import ProjectCommand, format_error


class Command(ProjectCommand):
    help = gettext_lazy("Copy the messages of an mbox file into a mailbox's maildir, keeping flags and dates.")

    def add_arguments(self, parser):
        parser.add_argument("address")
        parser.add_argument("file")
        parser.add_argument("--folder", default="", help=_("a folder (e.g. Archive) instead of the INBOX"))
        parser.add_argument("--store", help=_("the mail store (default MAIL_STORE)"))
        parser.add_argument("--dry-run", action="store_true", help=_("count the messages, write nothing"))
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        try:
            mailbox = get_mailbox(options["address"])
        except ValidationError as exc:
            raise CommandError(format_error(exc)) from None
        if not mailbox.has_mailbox:
            raise CommandError(
                _("%(address)s is a panel-only account without a mailbox.") % {"address": mailbox.address}
            )
        if options["folder"] and not options["folder"].replace("-", "").replace("_", "").isalnum():
            raise CommandError(_("A folder name uses letters, digits, - and _ only."))
        source = Path(options["file"])
        if not source.is_file():
            raise CommandError(_("%(file)s: no such file (an mbox file is one file of messages).") % {"file": source})
        store = Path(options["store"] or settings.MAIL_STORE)
        if not store.is_dir():
            raise CommandError(_("The mail store %(store)s does not exist.") % {"store": store})
        try:
            result = import_mbox(
                mbox_path=source,
                store=store,
                maildir=mailbox.maildir,
                folder=options["folder"],
                dry_run=options["dry_run"],
                progress=False if options["no_progress"] else None,
            )
        except (OSError, mailboxes.Error) as exc:
            raise CommandError(f"{source}: {exc}") from None
        result["address"] = mailbox.address
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write("  ".join(f"{k}={v}" for k, v in result.items()))
