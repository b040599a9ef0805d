"""Bulk work as jobs (accounts.jobs): submitted by the request, run by the worker, watched and
read on the job's page by its submitter only; generated passwords shown once."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts import jobs
from accounts.models import Job, Mailbox
from domains import services as domains
from mailadmin.lib import passwords
from mailadmin.models import AuditEntry
from tests import factories

SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


def submit(client, domain, lines: str):
    response = client.post(reverse("accounts:bulk_create", args=[domain.pk]), {"lines": lines})
    assert response.status_code == 302, response.content
    job = Job.objects.get(pk=int(response["Location"].strip("/").split("/")[-1]))
    assert response["Location"] == reverse("accounts:job", args=[job.pk])
    return job


def run_worker(db_worker) -> str:
    """The real worker runs every queued task, then exits (``--batch``)."""
    process = db_worker("--batch", "--interval", "0.1")
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    return output


# --- the real queue and worker, on every database ----------------------------------------------


def test_the_worker_runs_a_submitted_creation_and_the_page_shows_it_once(client, personas, db_worker):
    from django_tasks_db.models import DBTaskResult

    client.force_login(personas.admin_org)
    job = submit(client, personas.org, "\n".join(f"staff{n},10M,Staff,Number {n}" for n in range(30)))
    assert (job.state, job.total, job.kind, job.owner_id) == ("queued", 30, "create", personas.admin_org.pk)
    assert not Mailbox.objects.filter(local_part__startswith="staff").exists()
    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs == {"args": [job.pk], "kwargs": {}}  # the queue holds the id, not the lines

    page = client.get(reverse("accounts:job", args=[job.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and '<meta http-equiv="refresh" content="2">' in text
    assert '<progress max="30" value="0"' in text and "Waiting for the worker: 0 of 30" in text

    output = run_worker(db_worker)
    job.refresh_from_db()
    assert (job.state, job.done, len(job.written), job.errors) == ("done", 30, 30, []), output
    assert Mailbox.objects.filter(domain=personas.org, local_part__startswith="staff").count() == 30
    audit = AuditEntry.objects.get(action="mailbox.bulk_load")
    assert (audit.actor_id, audit.after["rows"]) == (personas.admin_org.pk, 30)
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL" and queued.return_value == {"job": job.pk, "state": "done", "written": 30}

    # other people: another domain's admin and a plain user see no such job; a superuser sees it
    # without the passwords, and looking does not spend them
    for other in (personas.admin_net, personas.user):
        client.force_login(other)
        assert client.get(reverse("accounts:job", args=[job.pk])).status_code == 404
    client.force_login(personas.superuser)
    seen = client.get(reverse("accounts:job", args=[job.pk])).content.decode()
    assert "30 mailboxes created" in seen and not SECRET.findall(seen) and "only to the administrator" in seen

    client.force_login(personas.admin_org)
    first = client.get(reverse("accounts:job", args=[job.pk]))
    assert first["Cache-Control"].startswith("max-age=0") and "no-store" in first["Cache-Control"]
    shown = SECRET.findall(first.content.decode())
    assert len(shown) == 30 and "refresh" not in first.content.decode()
    staff7 = Mailbox.objects.get(address="staff7@example.org")
    assert staff7.check_password(first.context["created"][7][1]) and staff7.last_name == "Number 7"
    job.refresh_from_db()
    assert job.passwords == [] and job.shown is not None  # wiped as it was shown
    again = client.get(reverse("accounts:job", args=[job.pk])).content.decode()
    assert not SECRET.findall(again) and "shown once" in again and "staff29@example.org" in again
    queued.refresh_from_db()
    assert not any(password in str(queued.return_value) for password in shown)


def test_a_grant_revoked_before_the_job_runs_fails_it_and_writes_nothing(client, personas, db_worker):
    client.force_login(personas.admin_org)
    job = submit(client, personas.org, "late1\nlate2")
    domains.grant_revoke(acting_user=None, admin=personas.admin_org, origin="test")
    run_worker(db_worker)
    job.refresh_from_db()
    assert job.state == "failed" and job.errors == ["You no longer manage example.org.", "Nothing was changed."]
    assert not Mailbox.objects.filter(local_part__startswith="late").exists() and job.passwords == []
    page = client.get(reverse("accounts:job", args=[job.pk])).content.decode()
    assert "failed" in page and "You no longer manage example.org." in page and "refresh" not in page


def test_lines_checked_again_when_the_job_runs(client, personas, db_worker):
    """A mailbox made between the submission and the run: the job refuses every line, as a
    submission would have, and writes nothing."""
    client.force_login(personas.admin_org)
    job = submit(client, personas.org, "anna\nbert")
    factories.mailbox("bert@example.org")
    run_worker(db_worker)
    job.refresh_from_db()
    assert job.state == "failed" and "Line 2 (bert)" in job.errors[0] and job.errors[-1] == "Nothing was changed."
    assert not Mailbox.objects.filter(address="anna@example.org").exists()


# --- the pages, with the job run at once (django-tasks' immediate backend) ------------------------


def test_bad_lines_are_form_errors_and_nothing_is_queued(client, personas):
    client.force_login(personas.admin_org)
    response = client.post(reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": "fine\nuser"})
    assert response.status_code == 200 and "Line 2 (user)" in " ".join(response.context["form"].non_field_errors())
    assert not Job.objects.exists()


def test_csv_import_runs_as_a_job(client, personas):
    client.force_login(personas.admin_org)
    upload = SimpleUploadedFile("m.csv", b"name,quota_bytes,first_name\ncsv1,10485760,Ada\ncsv2,,Bob\n")
    response = client.post(reverse("accounts:import", args=[personas.org.pk]), {"file": upload}, follow=True)
    job = Job.objects.get()
    assert (job.kind, job.state, job.total) == ("import", "done", 2)
    assert "2 mailboxes imported" in response.content.decode() and len(response.context["created"]) == 2
    assert Mailbox.objects.get(address="csv1@example.org").first_name == "Ada"
    bad = SimpleUploadedFile("m.csv", b"name\ncsv3\nuser\n")
    response = client.post(reverse("accounts:import", args=[personas.org.pk]), {"file": bad})
    assert "Line 3 (user)" in " ".join(response.context["form"].non_field_errors()) and Job.objects.count() == 1


def test_bulk_changes_and_deletions_run_as_jobs_and_return_to_the_domain(client, personas):
    anna = factories.mailbox("anna@example.org")
    client.force_login(personas.admin_org)
    url = reverse("accounts:bulk_update", args=[personas.org.pk])
    response = client.post(url, {"mailboxes": [anna.pk, personas.user.pk], "filtering": "off"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("domains:detail", args=[personas.org.pk])
    assert "2 mailboxes changed" in response.content.decode()
    assert Job.objects.get(kind="update").written == ["anna@example.org", "user@example.org"]
    response = client.post(
        reverse("accounts:bulk_delete", args=[personas.org.pk]), {"mailboxes": [anna.pk]}, follow=True
    )
    assert "1 mailbox deleted" in response.content.decode()
    assert not Mailbox.objects.filter(pk=anna.pk).exists()


def test_a_job_the_service_refuses_shows_why(client, personas):
    """Rules that need the rows locked (here: the last active superuser) are the service's, when the
    job runs: the job's page says why and nothing changed."""
    client.force_login(personas.superuser)
    url = reverse("accounts:bulk_update", args=[personas.org.pk])
    response = client.post(url, {"mailboxes": [personas.superuser.pk, personas.user.pk], "active": "off"}, follow=True)
    job = Job.objects.get()
    assert job.state == "failed" and response.redirect_chain[-1][0] == reverse("accounts:job", args=[job.pk])
    text = response.content.decode()
    assert "root@example.org is the last active superuser" in text and "Nothing was changed." in text
    assert Mailbox.objects.filter(pk__in=[personas.superuser.pk, personas.user.pk], active=True).count() == 2


def test_an_unexpected_error_fails_the_job(client, personas, monkeypatch):
    def broken(job, actor):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(jobs.RUNNERS, Job.Kind.CREATE, broken)
    client.force_login(personas.admin_org)
    submit(client, personas.org, "solo")
    job = Job.objects.get()
    assert job.state == "failed" and job.errors == [jobs.FAILED_UNEXPECTEDLY]


def test_job_page_methods_and_strangers(client, personas):
    client.force_login(personas.admin_org)
    job = submit(client, personas.org, "one")
    url = reverse("accounts:job", args=[job.pk])
    assert client.post(url).status_code == 405
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(personas.admin_net)
    assert client.get(url).status_code == 404
    assert client.get(reverse("accounts:job", args=[job.pk + 1000])).status_code == 404


def test_passwords_left_unseen_are_wiped_after_a_while(personas):
    old = Job.objects.create(
        owner=personas.admin_org, domain=personas.org, kind="create", total=1, state="done", passwords=[["a", "b"]]
    )
    fresh = Job.objects.create(
        owner=personas.admin_org, domain=personas.org, kind="create", total=1, state="done", passwords=[["c", "d"]]
    )
    Job.objects.filter(pk=old.pk).update(finished=timezone.now() - jobs.PASSWORDS_KEPT - timedelta(minutes=1))
    Job.objects.filter(pk=fresh.pk).update(finished=timezone.now())
    assert Job.objects.wipe_stale_passwords(older_than=jobs.PASSWORDS_KEPT) == 1
    assert Job.objects.get(pk=old.pk).passwords == [] and Job.objects.get(pk=fresh.pk).passwords == [["c", "d"]]


def test_opening_a_job_late_shows_no_passwords(client, personas):
    job = Job.objects.create(
        owner=personas.admin_org, domain=personas.org, kind="create", total=1, state="done", passwords=[["a", "b"]]
    )
    Job.objects.filter(pk=job.pk).update(finished=timezone.now() - jobs.PASSWORDS_KEPT - timedelta(minutes=1))
    client.force_login(personas.admin_org)
    page = client.get(reverse("accounts:job", args=[job.pk])).content.decode()
    assert not SECRET.findall(page) and "not shown within an hour" in page
    assert Job.objects.get(pk=job.pk).passwords == []


def test_hashing_reports_its_progress():
    heard = []
    hashes = passwords.hash_many([f"password {n}" for n in range(25)], progress=heard.append, every=10)
    assert len(hashes) == 25 and heard == [10, 20, 25]


@pytest.mark.parametrize("count", [1000])
def test_a_thousand_lines_are_one_submission(client, personas, count):
    domains.grant_set(origin="test", acting_user=None, admin=personas.admin_org, domains=[personas.org])
    client.force_login(personas.admin_org)
    job = submit(client, personas.org, "\n".join(f"m{n:04}" for n in range(count)))
    job.refresh_from_db()
    assert (job.state, job.done, len(job.written)) == ("done", count, count)
    assert Mailbox.objects.filter(domain=personas.org, local_part__startswith="m0").count() == count
