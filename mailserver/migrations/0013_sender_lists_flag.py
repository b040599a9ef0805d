"""Exim reads a domain's sender lists only where there are any: ``lookup_domains_v2`` gains
``sender_lists`` (1 while the domain or one of its mailboxes has an entry), kept by triggers on
``policy_senderrule`` too; the triggers are made again and the tables refilled.
"""

from django.db import migrations, models

from mailserver.lookup import install_v2
from mailserver.operations import KeepViewsAndTriggers


def forwards(apps, schema_editor):
    install_v2(schema_editor, level=8)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0012_relay_domains"),
        ("policy", "0002_dns_blocklists"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="lookupdomain", name="sender_lists", field=models.SmallIntegerField(default=0)
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, atomic=False),
    ]
