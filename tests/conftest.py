"""Shared fixtures: the fixed personas, cheap hashes, and CI's no-skip rule."""

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The commands speak the language the environment asks for (mailadmin.cli.language_from_environment):
# the tests read their English words whatever the language of the machine that runs them.
os.environ["LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def _cheap_hashes(settings):
    """Hashing is not under test in most tests: cheap Argon2 parameters."""
    settings.MAIL_ARGON2_MEMORY_KIB = 1024
    settings.MAIL_ARGON2_TIME_COST = 1


@pytest.fixture(autouse=True)
def _jobs_run_at_once(settings):
    """Bulk jobs (accounts.jobs) run inside the request that submits them (django-tasks' immediate
    backend) in tests about the views; ``db_worker`` gives a test the real queue and worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (English): a request in German or French leaves its
    language active in the thread (LocaleMiddleware activates it, nothing deactivates it), and the
    services' messages would follow it into the next test."""
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def db_worker(transactional_db, settings):
    """The real task queue (django-tasks' database backend, as deployed) and a function that starts
    the real worker, ``manage.py db_worker``, as a separate process against the test database (with
    the cheap hashes); it is stopped at the end of the test."""
    import signal
    import subprocess
    import sys

    from tests.dbutil import ROOT, database_url

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "MAIL_ARGON2_MEMORY_KIB": "1024",
        "MAIL_ARGON2_TIME_COST": "1",
        "PYTHONUNBUFFERED": "1",
    }
    started = []

    def start(*extra: str) -> subprocess.Popen:
        command = [sys.executable, str(ROOT / "manage.py"), "db_worker", "--no-reload", "--no-startup-delay", *extra]
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def _lookup_tables_in_step(request):
    """After every test that wrote to the database (through whatever service, importer, bulk path,
    command or plain SQL it used), the v2 lookup tables hold exactly what their sources say."""
    if not {"db", "transactional_db", "django_db_reset_sequences"} & set(request.fixturenames) and not (
        request.node.get_closest_marker("django_db")
    ):
        yield
        return
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")
    else:
        request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    yield
    from django.db import connection

    from tests.mailserver.lookup_step import out_of_step

    if connection.connection is not None and not connection.is_usable():
        return  # (a test that broke its connection on purpose)
    assert out_of_step() == {}, "the v2 lookup tables are out of step with the directory"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped test is a failed test: a suite that skipped the real servers did not pass."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true forbids skips): {report.longrepr}"


def database_vendor() -> str:
    """mysql, postgresql or sqlite: the database this run of the suite is on."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    return {"django.db.backends.mysql": "mysql", "django.db.backends.postgresql": "postgresql"}.get(engine, "sqlite")


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.vendors("mysql", ...)``: the test belongs to those databases' runs only.

    The suite runs once per database (scripts/test); a test that only means
    something on some of them is deselected on the others, not skipped.
    """
    vendor = database_vendor()
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("vendors")
        (drop if marker and vendor not in marker.args else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def personas(db):
    """The fixed personas of STYLE.md: superuser, admin of example.org, admin of example.net, user."""
    from tests.factories import make_personas

    return make_personas()


@pytest.fixture
def store(tmp_path, settings):
    """An empty mail store for the test, as MAIL_STORE."""
    path = tmp_path / "vmail"
    path.mkdir()
    settings.MAIL_STORE = path
    return path
