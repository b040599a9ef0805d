"""Bulk work of the panel outside the request: a ``Job`` row to watch, a task for the worker.

A 100-line bulk creation hashes 100 passwords (about 0.25 s each with the production Argon2 cost):
in the request it outlived gunicorn's worker timeout. So the request checks what is quick to check
— the form, and every line against every rule (``bulk.mailbox_bulk_check``): a bad line is a form
error at once and nothing is queued — then submits a job and answers with its page. The task worker
(``manage.py db_worker``, django-tasks with its database backend) runs the same service the request
used to run — ``bulk.mailbox_bulk_create``, ``services.mailbox_bulk_update`` or ``_delete`` — as
the submitter, with their rights as they are when it runs: a grant revoked meanwhile fails the job
with a message and writes nothing. Every service is all or none, so a failed job wrote nothing.

Progress: a creation tells the job how many passwords are hashed (the long part, before any row
is locked) every ``PROGRESS_EVERY``; the writing is one transaction, seen when it commits. Changes
and deletions are one transaction too: their progress is seen at the end.

Generated passwords: made and hashed in the task, kept in clear in ``Job.passwords`` only until
the submitter's result page shows them (read and wiped in one transaction: a second look shows
none), and never longer than ``PASSWORDS_KEPT`` after the job ended unseen (wiped when anyone
submits or opens a job). The task queue's own row (django-tasks) holds the job's id and a count,
never a password or a line.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, ngettext

from accounts import bulk, services
from accounts.models import Job, Mailbox
from mailadmin import permissions
from mailadmin.permissions import require

PROGRESS_EVERY = 10
PASSWORDS_KEPT = timedelta(hours=1)
FAILED_UNEXPECTEDLY = gettext_noop("The job failed unexpectedly and changed nothing; the worker's log has the details.")


def job_submit(*, acting_user, domain, kind: str, params: dict, total: int, origin: str) -> Job:
    """Record a job that the request has checked and queue it for the worker (outside a transaction:
    the worker must find the row). The job's errors are written in the submitter's language (the
    request's, kept in ``params``)."""
    Job.objects.wipe_stale_passwords(older_than=PASSWORDS_KEPT)
    params = {**params, "language": translation.get_language()}
    job = Job.objects.create(owner=acting_user, domain=domain, kind=kind, params=params, total=total, origin=origin)
    from accounts.tasks import run_job

    queued = run_job.enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(queued.id))
    return job


def job_run(job_id: int) -> dict:
    """Run a queued job once (the task's body); what it wrote or why not goes on the job, in the
    submitter's language."""
    job = Job.objects.select_related("domain").get(pk=job_id)
    if not Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(state=Job.State.RUNNING):
        return {"job": job.pk, "state": job.state}  # run already (a task delivered twice)
    with translation.override(job.params.get("language") or None):
        return _run(job)


def _run(job: Job) -> dict:
    try:
        actor = Mailbox.objects.select_related("domain").get(pk=job.owner_id)
        text = gettext("You no longer manage %(domain)s.")
        require(permissions.can_manage_domain(actor, job.domain), text % {"domain": job.domain})
        written, generated = RUNNERS[job.kind](job, actor)
    except (ValidationError, PermissionDenied) as exc:
        reasons = exc.messages if isinstance(exc, ValidationError) else [str(exc) or gettext("Not allowed.")]
        _finish(job, Job.State.FAILED, errors=[*reasons, gettext("Nothing was changed.")])
    except BaseException:
        _finish(job, Job.State.FAILED, errors=[gettext(FAILED_UNEXPECTEDLY)])
        raise
    else:
        _finish(job, Job.State.DONE, done=job.total, written=written, passwords=generated)
    return {"job": job.pk, "state": job.state, "written": len(job.written)}


def _finish(job: Job, state: str, **fields) -> None:
    for key, value in {"state": state, "finished": timezone.now(), **fields}.items():
        setattr(job, key, value)
    job.save(update_fields=["state", "finished", *fields])


def _progress(job: Job):
    return lambda done: Job.objects.filter(pk=job.pk).update(done=done)


def _create(job: Job, actor) -> tuple[list, list]:
    created = bulk.mailbox_bulk_create(
        acting_user=actor, domain=job.domain, rows=job.params["rows"], origin=job.origin, progress=_progress(job)
    )
    return [m.address for m, _ in created], [[m.address, password] for m, password in created]


def _chosen(job: Job) -> list[Mailbox]:
    """The mailboxes the request checked, all of them still there."""
    ids = job.params["mailboxes"]
    found = list(Mailbox.objects.filter(domain=job.domain, pk__in=ids).select_related("domain").order_by("address"))
    if len(found) != len(ids):
        gone = len(ids) - len(found)
        text = ngettext(
            "%(n)s of the chosen mailboxes was deleted meanwhile.",
            "%(n)s of the chosen mailboxes were deleted meanwhile.",
            gone,
        )
        raise ValidationError(text % {"n": gone})
    return found


def _update(job: Job, actor) -> tuple[list, list]:
    mailboxes = _chosen(job)
    services.mailbox_bulk_update(acting_user=actor, mailboxes=mailboxes, origin=job.origin, **job.params["changes"])
    return [m.address for m in mailboxes], []


def _delete(job: Job, actor) -> tuple[list, list]:
    mailboxes = _chosen(job)
    services.mailbox_bulk_delete(acting_user=actor, mailboxes=mailboxes, origin=job.origin)
    return [m.address for m in mailboxes], []


RUNNERS = {Job.Kind.CREATE: _create, Job.Kind.IMPORT: _create, Job.Kind.UPDATE: _update, Job.Kind.DELETE: _delete}


@transaction.atomic
def job_take_passwords(*, job: Job) -> list[list[str]]:
    """The job's generated passwords ``[[address, password], ...]``, wiped as they are read: the
    result page shows them once (the caller checks ``permissions.can_see_job_passwords``)."""
    locked = Job.objects.select_for_update().get(pk=job.pk)
    taken = locked.passwords
    if taken:
        locked.passwords, locked.shown = [], timezone.now()
        locked.save(update_fields=["passwords", "shown"])
        job.shown = locked.shown
    return taken
