"""The DNS blocklists reach Exim (issue 15.2): ``lookup_domains_v2`` gains ``check_blocklists``
(domains 0012), the triggers are made again and the tables refilled; and the views
``lookup_blocklists_v2`` and ``lookup_blocklist_set_v2`` (policy 0002). Run ``manage.py lookup_users create`` again after
migrating: Exim's user needs SELECT on the view.
"""

from django.db import migrations, models

from mailserver.lookup import create_views, drop_views, install_v2
from mailserver.operations import KeepViewsAndTriggers

VIEWS = ["lookup_blocklists_v2", "lookup_blocklist_set_v2"]


def forwards(apps, schema_editor):
    install_v2(schema_editor, level=6)
    create_views(schema_editor, VIEWS, level=6)  # (the set as an aggregate: its table came with 0019)


def backwards(apps, schema_editor):
    drop_views(schema_editor, VIEWS)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0010_sending_state"),
        ("domains", "0012_check_blocklists"),
        ("policy", "0002_dns_blocklists"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="lookupdomain", name="check_blocklists", field=models.SmallIntegerField(default=1)
            ),
        ),
        migrations.RunPython(forwards, backwards, atomic=False),
    ]
