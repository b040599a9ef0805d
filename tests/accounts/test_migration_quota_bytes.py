"""Upgrading a directory whose quotas were whole MB: every value becomes exactly that many bytes."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0004_archive_domain"), ("domains", "0001_initial"), ("mailadmin", "0005_drop_django_admin_log")]
MB = 1024 * 1024


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_mb_quotas_become_the_same_number_of_bytes_and_the_views_read_them():
    old = migrate(BEFORE)
    try:
        domain = old.get_model("domains", "Domain").objects.create(
            name="old.example", max_quota_mb=2048, default_quota_mb=512
        )
        box = old.get_model("accounts", "Mailbox").objects.create(
            domain=domain, local_part="ann", address="ann@old.example", password="{PLAIN}x", quota_mb=700
        )
        old.get_model("domains", "AdminGrant").objects.create(admin=box, quota_mb=10240)
        old.get_model("accounts", "MailboxArchive").objects.create(
            address="gone@old.example",
            domain_name="old.example",
            local_part="gone",
            maildir="old.example/gone/",
            deleted_at="2026-01-01T00:00:00Z",
            settings={"quota_mb": 300, "first_name": "Gina"},
        )
    finally:
        new = migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    domain = new.get_model("domains", "Domain").objects.get(name="old.example")
    assert (domain.max_quota_bytes, domain.default_quota_bytes) == (2048 * MB, 512 * MB)
    assert new.get_model("accounts", "Mailbox").objects.get(address="ann@old.example").quota_bytes == 700 * MB
    assert new.get_model("domains", "AdminGrant").objects.get().quota_bytes == 10240 * MB
    archive = new.get_model("accounts", "MailboxArchive").objects.get(address="gone@old.example")
    assert archive.settings == {"quota_bytes": 300 * MB, "first_name": "Gina"}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quota_bytes, quota_rule FROM lookup_dovecot_users_v1 WHERE address = %s", ["ann@old.example"]
        )
        assert cursor.fetchone() == (700 * MB, f"*:storage={700 * MB}B")
        cursor.execute(
            "SELECT quota_bytes, usage_bytes FROM lookup_mailboxes_v1 WHERE address = %s", ["ann@old.example"]
        )
        assert cursor.fetchone() == (700 * MB, 0)
