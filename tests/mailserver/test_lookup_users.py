"""The two read-only lookup users, and greylisting's: connect as each and prove what it can and
cannot read and write."""

import io
import json
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from policy.models import GreylistTriplet
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)
SUFFIX = str(os.getpid())
EXIM, DOVECOT, GREY = f"t_exim_{SUFFIX}", f"t_dovecot_{SUFFIX}", f"t_grey_{SUFFIX}"
USERS = ["--exim-user", EXIM, "--dovecot-user", DOVECOT, "--greylist-user", GREY]


def create_users() -> dict:
    out = io.StringIO()
    call_command("lookup_users", "create", "--json", *USERS, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def lookup_users():
    f.domain("example.org")
    f.mailbox("alice@example.org")
    data = create_users()
    yield data
    call_command("lookup_users", "drop", *USERS, stdout=io.StringIO())


def connect(user: str, password: str):
    name = connection.settings_dict["NAME"]
    if connection.vendor == "mysql":
        import MySQLdb

        return MySQLdb.connect(
            user=user,
            password=password,
            database=name,
            unix_socket=connection.settings_dict["OPTIONS"].get("unix_socket", "/run/mysqld/mysqld.sock"),
        )
    import psycopg

    return psycopg.connect(
        host=connection.settings_dict["HOST"] or "localhost", user=user, password=password, dbname=name, autocommit=True
    )


def can_read(conn, sql: str) -> bool:
    cursor = conn.cursor()
    try:
        cursor.execute(sql)
        cursor.fetchall()
        return True
    except Exception as exc:  # noqa: BLE001 - the driver's "denied" error is what we look for
        assert "denied" in str(exc).lower(), exc
        if connection.vendor == "postgresql":
            conn.rollback()
        return False


def can_write(conn, sql: str) -> bool:
    """Writes fail whatever the reason (no privilege, or a view that is not updatable)."""
    cursor = conn.cursor()
    try:
        cursor.execute(sql)
        return True
    except Exception:  # noqa: BLE001
        if connection.vendor == "postgresql":
            conn.rollback()
        return False


BASE_TABLES = ["accounts_mailbox", "domains_domain", "aliases_alias", "vacation_vacation", "mailadmin_auditentry"]


@pytest.mark.vendors("mysql", "postgresql")
def test_exim_reads_the_views_but_no_hash_and_no_base_table(lookup_users):
    conn = connect(EXIM, lookup_users["exim"]["password"])
    cursor = conn.cursor()
    cursor.execute("SELECT address, maildir FROM lookup_mailboxes_v1 WHERE address = 'alice@example.org'")
    assert list(cursor.fetchall()) == [("alice@example.org", "example.org/alice/")]
    for view in ("lookup_domains_v1", "lookup_aliases_v1", "lookup_vacations_v1"):
        assert can_read(conn, f"SELECT * FROM {view}")  # noqa: S608
    assert not can_read(conn, "SELECT password FROM lookup_dovecot_users_v1")
    # contract v2: everything Exim decides, and still no hash
    assert can_read(conn, "SELECT deliver, alias_to FROM lookup_addresses_v2")
    assert can_read(conn, "SELECT target FROM lookup_domains_v2")
    assert not can_read(conn, "SELECT password FROM lookup_logins_v2")
    assert not can_write(conn, "DELETE FROM lookup_addresses_v2")
    for table in BASE_TABLES:
        assert not can_read(conn, f"SELECT * FROM {table}"), table  # noqa: S608
    assert not can_write(conn, "DELETE FROM lookup_mailboxes_v1")
    assert not can_read(conn, "SELECT password FROM lookup_app_passwords_v2")
    assert not can_write(conn, "UPDATE accounts_apppassword SET last_used_at = NULL")


@pytest.mark.vendors("mysql", "postgresql")
def test_dovecot_reads_hashes_through_its_view_only(lookup_users):
    conn = connect(DOVECOT, lookup_users["dovecot"]["password"])
    cursor = conn.cursor()
    cursor.execute("SELECT password, login_allowed FROM lookup_dovecot_users_v1 WHERE address = 'alice@example.org'")
    password, allowed = cursor.fetchone()
    assert password.startswith("{ARGON2ID}") and allowed == 1
    for table in BASE_TABLES:
        assert not can_read(conn, f"SELECT * FROM {table}"), table  # noqa: S608
    assert not can_write(conn, "UPDATE lookup_dovecot_users_v1 SET password = '{PLAIN}x'")
    cursor.execute("SELECT password, login_allowed FROM lookup_logins_v2 WHERE address = 'alice@example.org'")
    assert cursor.fetchone() == (password, 1)
    assert not can_write(conn, "UPDATE lookup_logins_v2 SET password = '{PLAIN}x'")


@pytest.mark.vendors("mysql", "postgresql")
def test_greylisting_user_reads_and_writes_its_one_table_and_nothing_else(lookup_users):
    assert lookup_users["greylist"] == {
        "user": GREY,
        "writes": ["policy_greylist"],
        "password": lookup_users["greylist"]["password"],
    }
    conn = connect(GREY, lookup_users["greylist"]["password"])
    row = "('ab12', 'example.org', '192.0.2.0/24', 'a@b.example', 'alice@example.org', 1, 1, 0)"
    columns = "(triplet, domain, client, sender, recipient, first_seen, last_seen, passed)"
    assert can_write(conn, f"INSERT INTO policy_greylist {columns} VALUES {row}")  # noqa: S608
    assert can_write(conn, "UPDATE policy_greylist SET passed = 1 WHERE triplet = 'ab12'")
    assert can_read(conn, "SELECT passed FROM policy_greylist WHERE triplet = 'ab12'")
    if connection.vendor == "mysql":
        conn.commit()
    assert list(GreylistTriplet.objects.values_list("triplet", "passed")) == [("ab12", 1)]
    assert not can_write(conn, "DELETE FROM policy_greylist")  # the expiry job deletes, not Exim
    for view in ("lookup_domains_v2", "lookup_addresses_v2", "lookup_logins_v2", "lookup_dovecot_users_v1"):
        assert not can_read(conn, f"SELECT * FROM {view}"), view  # noqa: S608
    for table in [*BASE_TABLES, "policy_greylistallow"]:
        assert not can_read(conn, f"SELECT * FROM {table}"), table  # noqa: S608
        assert not can_write(conn, f"DELETE FROM {table}"), table  # noqa: S608
    # and the read-only users cannot write it
    exim = connect(EXIM, lookup_users["exim"]["password"])
    assert not can_write(exim, f"INSERT INTO policy_greylist {columns} VALUES {row}")  # noqa: S608
    assert not can_read(exim, "SELECT * FROM policy_greylist")


@pytest.mark.vendors("mysql", "postgresql")
def test_running_create_again_resets_passwords_and_keeps_working(lookup_users):
    again = create_users()
    assert again["exim"]["password"] != lookup_users["exim"]["password"]
    conn = connect(EXIM, again["exim"]["password"])
    assert can_read(conn, "SELECT * FROM lookup_domains_v1")


@pytest.mark.vendors("sqlite")
def test_sqlite_has_no_database_users():
    with pytest.raises(CommandError, match="SQLite has no database users"):
        create_users()


def test_bad_user_names_are_refused():
    with pytest.raises(CommandError, match="not a valid user name"):
        call_command("lookup_users", "create", "--exim-user", "x'; DROP USER root; --", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("lookup_users", "create", "--exim-user", "same", "--dovecot-user", "same", stdout=io.StringIO())
    with pytest.raises(CommandError, match="three different users"):
        call_command("lookup_users", "create", "--exim-user", "same", "--greylist-user", "same", stdout=io.StringIO())


@pytest.mark.vendors("mysql", "postgresql")
def test_dovecot_reads_app_passwords_by_their_view_and_writes_only_their_last_use(lookup_users):
    from accounts import apppasswords
    from accounts.services import get_mailbox

    alice = get_mailbox("alice@example.org")
    apppasswords.create(acting_user=alice, mailbox=alice, name="phone", protocols=["imap"], origin="test")
    key_id = alice.app_passwords.get().key_id
    conn = connect(DOVECOT, lookup_users["dovecot"]["password"])
    cursor = conn.cursor()
    cursor.execute(f"SELECT address, imap, pop3 FROM lookup_app_passwords_v2 WHERE key_id = '{key_id}'")  # noqa: S608
    assert cursor.fetchone() == ("alice@example.org", 1, 0)
    assert can_write(
        conn, f"UPDATE accounts_apppassword SET last_used_at = '2026-01-02 03:04:05' WHERE key_id = '{key_id}'"
    )  # noqa: S608
    if connection.vendor == "mysql":
        conn.commit()
    assert str(alice.app_passwords.get().last_used_at).startswith("2026-01-02 03:04:05")
    assert not can_read(conn, "SELECT password FROM accounts_apppassword")
    assert not can_read(conn, "SELECT mailbox_id FROM accounts_apppassword")
    for change in ("password = '{SSHA512}x'", "imap = TRUE", "pop3 = TRUE", "key_id = 'zzzzzzzz'", "mailbox_id = 1"):
        assert not can_write(conn, f"UPDATE accounts_apppassword SET {change} WHERE key_id = '{key_id}'"), change  # noqa: S608
    assert not can_write(conn, "DELETE FROM accounts_apppassword")
    assert not can_write(conn, "INSERT INTO accounts_apppassword (key_id) VALUES ('abcdefgh')")
