"""The sender lists (policy 0001) reach Exim: the view ``lookup_senders_v2``. Run
``manage.py lookup_users create`` again after migrating: Exim's user needs SELECT on it.
"""

from django.db import migrations

from mailserver.lookup import create_views, drop_views

VIEWS = ["lookup_senders_v2"]


def forwards(apps, schema_editor):
    create_views(schema_editor, VIEWS)


def backwards(apps, schema_editor):
    drop_views(schema_editor, VIEWS)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0007_max_message_bytes"),
        ("policy", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
