"""Greylisting reaches Exim (issue 15.1): ``lookup_domains_v2`` gains ``greylist``,
``greylist_delay``, ``greylist_window`` and ``greylist_expiry`` (domains 0014; the last two in
seconds), the triggers are made again and the tables refilled; and the view
``lookup_greylist_allow_v2`` over the allow list (policy 0003). Run ``manage.py lookup_users
create`` again after migrating: Exim's user reads the view, and the greylisting user (new) writes
``policy_greylist``.
"""

from django.db import migrations, models

from mailserver.lookup import create_views, drop_views, install_v2
from mailserver.operations import KeepViewsAndTriggers

VIEWS = ["lookup_greylist_allow_v2"]


def forwards(apps, schema_editor):
    install_v2(schema_editor, level=9)
    create_views(schema_editor, VIEWS)


def backwards(apps, schema_editor):
    drop_views(schema_editor, VIEWS)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0014_sending_per_host"),
        ("domains", "0014_greylisting"),
        ("policy", "0003_greylisting"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(model_name="lookupdomain", name="greylist", field=models.SmallIntegerField(default=0)),
            migrations.AddField(
                model_name="lookupdomain", name="greylist_delay", field=models.IntegerField(default=300)
            ),
            migrations.AddField(
                model_name="lookupdomain", name="greylist_window", field=models.IntegerField(default=86400)
            ),
            migrations.AddField(
                model_name="lookupdomain", name="greylist_expiry", field=models.IntegerField(default=3110400)
            ),
        ),
        migrations.RunPython(forwards, backwards, atomic=False),
    ]
