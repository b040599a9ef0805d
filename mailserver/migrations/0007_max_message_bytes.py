"""A domain's message size limit reaches Exim: ``lookup_domains_v2`` gains ``max_message_bytes``
(domains 0010); the triggers are made again and the tables refilled.
"""

from django.db import migrations, models

from mailserver.lookup import install_v2
from mailserver.operations import KeepViewsAndTriggers


def forwards(apps, schema_editor):
    install_v2(schema_editor, level=4)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0006_protocols"),
        ("domains", "0010_max_message_bytes"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="lookupdomain", name="max_message_bytes", field=models.BigIntegerField(default=0)
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, atomic=False),
    ]
