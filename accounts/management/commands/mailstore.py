"""manage.py mailstore usage|run|archives|restore — the jobs that touch the mail store.

Run ``usage`` and ``run`` from cron every minute as the mail store's owner (vmail),
e.g. ``* * * * * vmail manage.py mailstore usage --quiet && manage.py mailstore run --quiet``.
A run that finds the previous one still busy exits at once without doing anything.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import archives, usage
from accounts.models import MailboxArchive
from domains.services import get_domain
from mailadmin.cli import VerbCommand


@contextmanager
def job_lock(name: str, store: Path):
    """One job of each kind per mail store at a time (a lock file outside the store)."""
    digest = hashlib.sha256(str(store.resolve()).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"mailadmin-{name}-{digest}.lock"
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def archive_data(archive: MailboxArchive) -> dict:
    return {
        "address": archive.address,
        "domain_deleted": archive.domain_id is None,
        "state": archive.state,
        "deleted_at": archive.deleted_at,
        "deleted_by": archive.deleted_by,
        "archive_path": archive.archive_path,
        "purge_due": archive.purge_due(settings.MAIL_ARCHIVE_GRACE_DAYS),
        "note": archive.note,
    }


class Command(VerbCommand):
    help = gettext_lazy("Jobs on the mail store: usage, archive/restore/purge of deleted mailboxes.")
    verbs = {
        "usage": gettext_lazy("read every mailbox's usage from the mail store (never touches mail)"),
        "run": gettext_lazy("archive deleted mailboxes' mail, carry out restores, purge expired archives"),
        "archives": gettext_lazy("list deleted mailboxes and their archives"),
        "restore": gettext_lazy(
            "restore a deleted mailbox within the grace period (--into-domain for one of a deleted domain)"
        ),
    }

    def _common(self, parser):
        parser.add_argument(
            "--store", help=_("the mail store (default MAIL_STORE, now %(store)s)") % {"store": settings.MAIL_STORE}
        )
        parser.add_argument("--quiet", action="store_true", help=_("print nothing unless something failed"))

    args_usage = _common
    args_run = _common

    def args_archives(self, parser):
        parser.add_argument("--all", action="store_true", help=_("also restored and purged ones"))

    def args_restore(self, parser):
        parser.add_argument("address")
        parser.add_argument(
            "--into-domain",
            metavar="NAME",
            help=_("restore a mailbox whose domain was deleted into this domain (it becomes LOCAL@NAME)"),
        )
        self._common(parser)

    def store(self, options) -> Path:
        store = Path(options.get("store") or settings.MAIL_STORE)
        if not store.is_dir():
            raise CommandError(
                _("The mail store %(store)s does not exist (set MAIL_STORE or --store).") % {"store": store}
            )
        return store

    def verb_usage(self, options):
        store = self.store(options)
        with job_lock("usage", store) as locked:
            if not locked:
                return None if options["quiet"] else {"skipped": "another usage job is running"}
            result = usage.mailbox_usage_refresh(store=store)
        return None if options["quiet"] else result

    def verb_run(self, options):
        store = self.store(options)
        with job_lock("run", store) as locked:
            if not locked:
                return None if options["quiet"] else {"skipped": "another mailstore job is running"}
            result = archives.mailstore_run(store=store)
        if result["errors"]:
            for line in result["errors"]:
                self.stderr.write(line)
            raise CommandError(
                _("%(count)s step(s) failed; they are retried at the next run.") % {"count": len(result["errors"])}
            )
        return None if options["quiet"] else result

    def verb_archives(self, options):
        archives = MailboxArchive.objects.all()
        if not options["all"]:
            archives = archives.exclude(state__in=["restored", "purged"])
        return [archive_data(a) for a in archives]

    def verb_restore(self, options):
        into = get_domain(options["into_domain"]) if options.get("into_domain") else None
        archive = archives.mailbox_restore(
            origin="cli", acting_user=None, archive=archives.get_archive(options["address"]), into=into
        )
        if archive.state == MailboxArchive.State.RESTORING:
            self.verb_run({**options, "quiet": True})
            archive.refresh_from_db()
        return archive_data(archive)
