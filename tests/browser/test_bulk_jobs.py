"""Bulk work as a job in a real Chromium: a 1,000-line creation is queued, its page shows a progress
bar and reloads itself while the real worker (``manage.py db_worker``, a separate process) runs it,
then shows the passwords once."""

import time

from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from accounts.models import Job, Mailbox
from tests.browser.conftest import log_in

LINES = 1000


def test_a_thousand_line_bulk_creation_shows_progress_and_finishes(page, personas, db_worker, shot):
    log_in(page, personas.admin_org.address, personas.password)
    page.goto(reverse("accounts:bulk_create", args=[personas.org.pk]))
    page.get_by_label("Lines").fill("\n".join(f"staff{n:04},10M,Staff,Member {n}" for n in range(LINES)))
    page.get_by_role("button", name="Check and create").click()

    bar = page.locator("progress")
    expect(bar).to_have_attribute("max", str(LINES))
    expect(page.locator("#job-state")).to_have_text(f"Waiting for the worker: 0 of {LINES}.")
    expect(bar).to_have_attribute("aria-labelledby", "job-state")
    shot(page, "jobs-01-waiting-for-the-worker")

    db_worker("--interval", "0.2")
    started = time.monotonic()
    states = []
    done = page.get_by_role("heading", name=f"{LINES} mailboxes created")
    while not done.count() and time.monotonic() - started < 120:
        try:  # the page reloads itself (meta refresh) until the job has ended
            if page.locator("#job-state").count():
                states.append(page.locator("#job-state").inner_text(timeout=1000))
        except PlaywrightError:
            pass
        page.wait_for_timeout(200)
    expect(done).to_be_visible()
    waited = time.monotonic() - started
    shot(page, "jobs-02-passwords-once")

    job = Job.objects.get()
    print(
        f"\n{LINES}-line job: {(job.finished - job.created).total_seconds():.1f} s from submission to its end, "
        f"{waited:.1f} s from the worker's start to the page's result; the page said {sorted(set(states))}"
    )
    assert (job.state, job.done, len(job.written)) == ("done", LINES, LINES)
    secrets = page.locator("code.secret")
    expect(secrets).to_have_count(LINES)
    password = page.locator("tr", has_text="staff0999@example.org").locator("code.secret").inner_text()
    assert Mailbox.objects.get(address="staff0999@example.org").check_password(password)

    page.reload()  # shown once
    expect(page.locator("code.secret")).to_have_count(0)
    expect(page.get_by_text("The passwords were shown once")).to_be_visible()
