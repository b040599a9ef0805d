"""Helpers for tests that look at the database as the mail servers do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def view_rows(view: str, order: str = "1") -> list[dict]:
    """All rows of a lookup view as dicts, ordered."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {view} ORDER BY {order}")  # noqa: S608 - names from mailserver.lookup
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def database_url() -> str:
    """A DATABASE_URL naming the database the tests use now (the test database)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    if connection.vendor == "mysql":
        socket = s.get("OPTIONS", {}).get("unix_socket") or "/run/mysqld/mysqld.sock"
        return f"mysql://{s['USER'] or 'root'}@localhost/{s['NAME']}?unix_socket={socket}"
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or 'localhost'}/{s['NAME']}"


def run_cli(*args: str, stdin: str | None = None, **env) -> subprocess.CompletedProcess:
    """Run ``manage.py`` as a separate process against the test database (data must be committed)."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MAIL_ARGON2_MEMORY_KIB": "1024",
        "MAIL_ARGON2_TIME_COST": "1",
        **env,
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        cwd=ROOT,
    )


def run_cli_json(*args: str, stdin: str | None = None):
    result = run_cli(*args, "--json", stdin=stdin)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def table_snapshot() -> dict:
    """Every row of every project table, to prove a failed command changed nothing."""
    from django.apps import apps

    data = {}
    for app in ("domains", "accounts", "aliases", "vacation", "mailadmin"):
        for model in apps.get_app_config(app).get_models():
            data[model._meta.db_table] = sorted(map(str, model.objects.values_list()))
    return data


def run_cli_inprocess(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """Run ``manage.py ARGS`` through Django's real entry point in this process (no start-up cost).

    Exit status, stdout and stderr are captured as the shell would see them.
    """
    import contextlib
    import io
    from unittest import mock

    from django.core.management import ManagementUtility
    from django.db import connections

    out, err, old_stdin = io.StringIO(), io.StringIO(), sys.stdin
    code = 0
    sys.stdin = io.StringIO(stdin)
    try:
        # run_from_argv closes every connection when it ends; the test's own must stay open.
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            mock.patch.object(connections, "close_all"),
        ):
            ManagementUtility(["manage.py", *args]).execute()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdin = old_stdin
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def lookup(view: str, key: str, value: str) -> dict | None:
    """One row of a lookup view, as Exim or Dovecot would read it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {view} WHERE {key} = %s", [value])
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cursor.description], row, strict=True))


def login_ok(address: str, password: str) -> bool:
    """Log in through the panel's authentication, as the login form does."""
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    request = RequestFactory().post("/login/", REMOTE_ADDR="192.0.2.1")
    return authenticate(request, username=address, password=password) is not None


def at_once(calls) -> list:
    """Run each callable in its own thread, all released together (the same form posted on several
    connections at once); their results in order. Each thread closes its database connection."""
    import threading

    from django.db import close_old_connections

    calls = list(calls)
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    return results


def shared_world(build):
    """A module-scoped fixture holding ``build()``'s objects, made once for the module's tests.

    It is made inside a transaction that is rolled back when the module is done, and each test
    runs in its own savepoint inside it (pytest-django's ``db``), so whatever a test changes is
    undone before the next test sees the world. For matrices that run hundreds of requests against
    the same objects; a test that commits (``transactional_db``, a live server) cannot use it.
    """

    @pytest.fixture(scope="module")
    def world(django_db_setup, django_db_blocker):
        from django.db import transaction
        from django.test import override_settings

        with django_db_blocker.unblock(), override_settings(MAIL_ARGON2_MEMORY_KIB=1024, MAIL_ARGON2_TIME_COST=1):
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                yield build()
            finally:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)

    return world
