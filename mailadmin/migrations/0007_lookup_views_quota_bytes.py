"""The lookup views again (mailadmin/lookup.py): quotas in bytes, Dovecot's quota_rule in bytes
("*:storage=NB"), and the measured usage in lookup_mailboxes_v1 (for Exim's SIZE check at RCPT)."""

from django.db import migrations

from mailadmin.lookup import create_views, drop_views


def forwards(apps, schema_editor):
    create_views(schema_editor)


def backwards(apps, schema_editor):
    drop_views(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("mailadmin", "0006_lookup_views_down"),
        ("accounts", "0005_quota_bytes"),
        ("domains", "0002_quota_bytes"),
    ]
    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
