"""Upgrading an installation whose lookup views and triggers already exist.

A fresh database runs the migrations in an order where the mailbox and domain tables change
before the lookup objects are made. An installation upgraded from an earlier release has them
already, and on SQLite a column change rebuilds the table under them: the upgrade failed there
("error in view lookup_mailboxes_v1: no such table"), and a rebuild would drop the triggers that
keep the lookup tables in step. Here the upgrade runs over the lookup objects, as it does on a
real server, and the directory's writes still reach the lookup tables afterwards.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts import services as accounts
from domains import services as domains
from mailserver import lookup

pytestmark = pytest.mark.django_db(transaction=True)

# The release before: the lookup tables (mailserver 0004) over a mailbox and domain table that
# later migrations change (accounts 0010 drops an index, domains 0007 adds a column).
BEFORE = [("accounts", "0009_jobs"), ("domains", "0006_dns_check"), ("mailserver", "0004_lookup_tables_v2")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_an_upgrade_keeps_the_lookup_views_and_the_triggers_that_follow_every_write():
    migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM lookup_domains_v1")
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    domain = domains.domain_create(acting_user=None, name="after-upgrade.example", origin="test")
    mailbox = accounts.mailbox_create(
        acting_user=None, origin="test", domain=domain, local_part="ann", password="a long password 42"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM lookup_addresses_v2 WHERE address = %s", [mailbox.address])
        assert cursor.fetchone() == (1,)
        cursor.execute("SELECT address FROM lookup_mailboxes_v1 WHERE address = %s", [mailbox.address])
        assert list(cursor.fetchall()) == [(mailbox.address,)]
    domains.domain_update(acting_user=None, domain=domain, origin="test", active=False)
    assert lookup.out_of_step(connection) == {}
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            present = {name for (name,) in cursor.fetchall()}
        assert {lookup._trigger_name(t, e) for t, e in lookup._v2_actions()} <= present
