"""The tasks the worker runs (Django's tasks interface: ``django.tasks`` from Django 6.0, the
``django-tasks`` backport before it). Each takes ids, never a password or a line (the task
queue's table keeps its arguments); the work and its result live in ``accounts.jobs``."""

try:
    from django.tasks import task
except ImportError:  # Django 5.2
    from django_tasks import task

from accounts.jobs import job_run


@task()
def run_job(job_id: int) -> dict:
    """Run one bulk job of the panel (``accounts.jobs.job_run``)."""
    return job_run(job_id)
