"""Quotas become bytes (accounts 0005, domains 0002): the lookup views go first, since
PostgreSQL will not change the type of a column a view reads; 0002 makes them again.

This was mailadmin's 0006 before the lookup views moved to this app: a database that
applied that one counts this as applied (``replaces``). Going back leaves no lookup views
until the database is migrated forward again.
"""

from django.db import migrations

from mailserver.lookup import drop_views


def forwards(apps, schema_editor):
    drop_views(schema_editor)


class Migration(migrations.Migration):
    replaces = [("mailadmin", "0006_lookup_views_down")]
    dependencies = [("mailadmin", "0001_initial")]
    run_before = [("accounts", "0005_quota_bytes"), ("domains", "0002_quota_bytes")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, atomic=False)]
