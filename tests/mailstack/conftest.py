"""Real Exim and Dovecot against the test database, started once for tests/mailstack.

- The core delivery and login cases (marked ``mailstack``) run on every database.
- The full matrix (``mailstack_full``) runs on MariaDB/MySQL only; on the other databases
  those tests are deselected at collection time (reported as deselected, not skipped).
- Data is created through the project's services and committed before the daemons read it;
  it is flushed when the package is done, so tests elsewhere see an empty database.
"""

from __future__ import annotations

import io
import json
import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from mailserver import config as mailconfig
from tests import factories
from tests.mailstack.stack import MailStack

PASSWORD = factories.PASSWORD


def _vendor_from_settings() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    return {"django.db.backends.mysql": "mysql", "django.db.backends.postgresql": "postgresql"}.get(engine, "sqlite")


def pytest_collection_modifyitems(config, items):
    """mailstack_full runs on MariaDB/MySQL only: deselect it elsewhere (a skip would fail CI)."""
    if _vendor_from_settings() == "mysql":
        return
    here = os.path.dirname(__file__)
    deselected = [i for i in items if i.get_closest_marker("mailstack_full") and str(i.fspath).startswith(here)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [i for i in items if i not in deselected]


# --- the directory the tests use ----------------------------------------------------


def _legacy_hashes(password: str) -> dict[str, str]:
    import base64
    import hashlib

    from passlib.hash import des_crypt, md5_crypt, sha512_crypt

    salt = b"s4lty!"
    return {
        "plain-md5": "{PLAIN-MD5}" + hashlib.md5(password.encode()).hexdigest(),  # noqa: S324
        "md5-crypt": "{MD5-CRYPT}" + md5_crypt.hash(password),
        "crypt": "{CRYPT}" + des_crypt.hash(password),
        "ssha": "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode(),  # noqa: S324
        "ssha512": "{SSHA512}" + base64.b64encode(hashlib.sha512(password.encode() + salt).digest() + salt).decode(),
        "sha512-crypt": "{SHA512-CRYPT}" + sha512_crypt.using(rounds=5000).hash(password),
        "plain": "{PLAIN}" + password,
        # what the LDIF importer stores for LDAP's {SMD5} and {MD5}
        "smd5": "{SMD5}" + base64.b64encode(hashlib.md5(password.encode() + salt).digest() + salt).decode(),  # noqa: S324
        "ldap-md5": "{LDAP-MD5}" + base64.b64encode(hashlib.md5(password.encode()).digest()).decode(),  # noqa: S324
    }


NEW_SCHEMES = {"argon2id": "ARGON2ID", "blf-crypt": "BLF-CRYPT", "sha512-crypt": "SHA512-CRYPT"}


def build_directory():
    """The core directory every mailstack test uses (through the project's services)."""
    from accounts import services as accounts
    from domains import services as domains

    factories.domain("alpha.test")
    factories.domain("beta.test")
    factories.domain("nologin.test", logins_enabled=False)
    factories.domain("inactive.test", active=False)
    domains.domain_alias_create(
        origin="test", acting_user=None, name="alias.test", target=domains.get_domain("alpha.test")
    )
    for local in ("alice", "bob", "carol", "dave", "sender", "relayer"):
        factories.mailbox(f"{local}@alpha.test")
    factories.mailbox("norelay@alpha.test", may_relay=False)
    factories.mailbox("disabled@alpha.test", active=False)
    factories.mailbox("full@alpha.test")
    factories.mailbox("nofilter@alpha.test", filtering=False)
    factories.mailbox("vacationer@alpha.test")
    factories.mailbox("nina@nologin.test")
    factories.mailbox("ivan@inactive.test")
    factories.mailbox("dave@beta.test")
    factories.mailbox("erin@beta.test")
    factories.alias("info@alpha.test", ["alice"])
    factories.alias("chain1@alpha.test", ["chain2"])
    factories.alias("chain2@alpha.test", ["chain3"])
    factories.alias("chain3@alpha.test", ["bob"])
    factories.alias("loop-a@alpha.test", ["loop-b", "carol"])
    factories.alias("loop-b@alpha.test", ["loop-a", "dave"])
    factories.alias("sales@alpha.test", ["sender@alpha.test"])
    factories.alias("@beta.test", ["erin@beta.test"])
    for key, scheme in NEW_SCHEMES.items():
        with override_settings(MAIL_PASSWORD_SCHEME=scheme):
            factories.mailbox(f"new-{key}@alpha.test")
    for key, stored in _legacy_hashes(PASSWORD).items():
        mailbox = factories.mailbox(f"legacy-{key}@alpha.test", password="unused placeholder password")  # noqa: S106
        accounts.mailbox_set_password_hash(origin="test", acting_user=None, mailbox=mailbox, password_hash=stored)


def lookup_credentials() -> dict:
    """Read-only lookup users made by `manage.py lookup_users create` (none on SQLite)."""
    if connection.vendor == "sqlite":
        return {}
    tag = os.getpid()
    out = io.StringIO()
    call_command(
        "lookup_users",
        "create",
        "--json",
        f"--exim-user=ms_exim_{tag}",
        f"--dovecot-user=ms_dovecot_{tag}",
        f"--greylist-user=ms_grey_{tag}",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    return {
        "LOOKUP_EXIM_USER": data["exim"]["user"],
        "LOOKUP_EXIM_PASSWORD": data["exim"]["password"],
        "LOOKUP_DOVECOT_USER": data["dovecot"]["user"],
        "LOOKUP_DOVECOT_PASSWORD": data["dovecot"]["password"],
        "LOOKUP_GREYLIST_USER": data["greylist"]["user"],
        "LOOKUP_GREYLIST_PASSWORD": data["greylist"]["password"],
    }


def drop_lookup_users(credentials: dict) -> None:
    if credentials:
        call_command(
            "lookup_users",
            "drop",
            f"--exim-user={credentials['LOOKUP_EXIM_USER']}",
            f"--dovecot-user={credentials['LOOKUP_DOVECOT_USER']}",
            f"--greylist-user={credentials['LOOKUP_GREYLIST_USER']}",
            stdout=io.StringIO(),
        )


def open_sqlite_file():
    """Exim and Dovecot run as their own users: let them read (and share the WAL of) the test file.

    A connection held open for the whole package keeps the -wal and -shm files in place, so the
    readers never need to create them (and the directory stays as it is)."""
    import sqlite3

    path = connection.settings_dict["NAME"]
    keeper = sqlite3.connect(path)
    keeper.execute("PRAGMA journal_mode=WAL")
    keeper.execute("SELECT count(*) FROM lookup_domains_v1").fetchall()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.chmod(path + suffix, 0o666)  # noqa: S103 - a throw-away test database
    return keeper


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django creates test databases only for tests marked django_db; these tests are not
    (their data must be committed and outlive each test), so make sure the test database exists."""
    from django.test.utils import setup_databases, teardown_databases

    if connection.settings_dict["NAME"] == connection.creation._get_test_db_name():
        yield
        return
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=0)


@pytest.fixture(scope="package")
def stack(django_db_setup, django_db_blocker):
    """Exim + Dovecot on loopback ports over the committed core directory."""
    credentials, keeper, mail = {}, None, None
    try:
        with django_db_blocker.unblock():
            with override_settings(MAIL_ARGON2_MEMORY_KIB=1024, MAIL_ARGON2_TIME_COST=1):
                build_directory()
            credentials = lookup_credentials()
            keeper = open_sqlite_file() if connection.vendor == "sqlite" else None
            database = mailconfig.Database.from_settings_dict(connection.settings_dict)
        # clamd and spamd only where the content cases run (the full matrix: MariaDB/MySQL).
        mail = MailStack(database, credentials, content=database.vendor == "mysql")
        mail.start()
        yield mail
    finally:
        if mail is not None:
            mail.stop()
        if keeper is not None:
            keeper.close()
        with django_db_blocker.unblock():
            drop_lookup_users(credentials)
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def directory(django_db_blocker):
    """Change the directory (committed at once) inside a test; the daemons see it immediately."""
    with django_db_blocker.unblock():
        yield
