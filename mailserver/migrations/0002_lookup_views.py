"""The lookup views of contract version 1 (mailserver/lookup.py; deploy/README.md documents them).

Made again from the current definitions (CREATE OR REPLACE, or drop and create on SQLite), so
a database that had them from mailadmin's migrations (before this app) ends with the same views.
"""

from django.db import migrations

from mailserver.lookup import create_views, drop_views

# The views of this migration (lookup_forwards_v1 comes with 0003, after its columns).
NAMES = ["lookup_domains_v1", "lookup_mailboxes_v1", "lookup_dovecot_users_v1", "lookup_aliases_v1", "lookup_vacations_v1"]


def forwards(apps, schema_editor):
    create_views(schema_editor, NAMES)


def backwards(apps, schema_editor):
    drop_views(schema_editor, NAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0001_lookup_views_down"),
        ("domains", "0003_binary_collation_mysql"),
        ("accounts", "0006_binary_collation_mysql"),
        ("aliases", "0002_binary_collation_mysql"),
        ("vacation", "0001_initial"),
    ]
    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
