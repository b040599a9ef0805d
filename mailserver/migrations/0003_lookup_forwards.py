"""lookup_forwards_v1: the forwarding of mailboxes (added to contract version 1; deploy/README.md).

The lookup users need SELECT on it: run ``manage.py lookup_users`` again after migrating.
"""

from django.db import migrations

from mailserver.lookup import create_views, drop_views

NAMES = ["lookup_forwards_v1"]


def forwards(apps, schema_editor):
    create_views(schema_editor, NAMES)


def backwards(apps, schema_editor):
    drop_views(schema_editor, NAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0002_lookup_views"),
        ("accounts", "0007_forwarding"),
        ("domains", "0004_forwarding"),
    ]
    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
