"""Relay (backup MX) domains reach Exim (issue 15.5): ``lookup_domains_v2`` gains ``relay_host``,
``relay_port`` and ``relay_verify`` (domains 0013), the triggers are made again and the tables
refilled; and the view ``lookup_relay_recipients_v2``. Run ``manage.py lookup_users create`` again
after migrating: Exim's user needs SELECT on the view.
"""

from django.db import migrations, models

from mailserver.lookup import create_views, drop_views, install_v2
from mailserver.operations import KeepViewsAndTriggers

VIEWS = ["lookup_relay_recipients_v2"]


def forwards(apps, schema_editor):
    install_v2(schema_editor, level=7)
    create_views(schema_editor, VIEWS)


def backwards(apps, schema_editor):
    drop_views(schema_editor, VIEWS)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0011_blocklists"),
        ("domains", "0013_relay_domains"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="lookupdomain", name="relay_host", field=models.CharField(default="", max_length=253)
            ),
            migrations.AddField(model_name="lookupdomain", name="relay_port", field=models.IntegerField(default=25)),
            migrations.AddField(
                model_name="lookupdomain", name="relay_verify", field=models.CharField(default="list", max_length=8)
            ),
        ),
        migrations.RunPython(forwards, backwards, atomic=False),
    ]
