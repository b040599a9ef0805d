"""What a mailbox may log in to reaches Dovecot: ``lookup_logins_v2`` gains ``imap``, ``pop3``,
``smtp`` and ``sieve`` (accounts 0013); the triggers are made again and the tables refilled.
"""

from django.db import migrations, models

from mailserver.lookup import install_v2
from mailserver.operations import KeepViewsAndTriggers


def forwards(apps, schema_editor):
    install_v2(schema_editor, level=3)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0005_app_passwords"),
        ("accounts", "0013_protocols"),
        ("domains", "0009_default_protocols"),
    ]

    operations = [
        KeepViewsAndTriggers(
            *[
                migrations.AddField(model_name="lookuplogin", name=name, field=models.SmallIntegerField(default=1))
                for name in ("imap", "pop3", "smtp", "sieve")
            ]
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, atomic=False),
    ]
