"""What an authenticated mailbox may send an hour reaches Exim: ``lookup_addresses_v2`` gains
``send_limit`` and ``rcpt_limit`` (accounts 0014, domains 0011); the triggers are made again and
the tables refilled.
"""

from django.db import migrations, models

from mailserver.lookup import install_v2
from mailserver.operations import KeepViewsAndTriggers


def forwards(apps, schema_editor):
    install_v2(schema_editor, level=5)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0008_lookup_senders"),
        ("accounts", "0014_send_limits"),
        ("domains", "0011_default_send_limits"),
    ]

    operations = [
        KeepViewsAndTriggers(
            *[
                migrations.AddField(model_name="lookupaddress", name=name, field=models.IntegerField(default=0))
                for name in ("send_limit", "rcpt_limit")
            ]
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, atomic=False),
    ]
