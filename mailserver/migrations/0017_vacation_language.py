"""A vacation's default text goes out in the mailbox's language (issue 19): ``lookup_addresses_v2``
gains ``vacation_language`` (vacation 0002's ``Vacation.language``), the triggers are made again
and the tables refilled (level 10). Exim reads it in the address row it already reads, and picks
the default text of that language from the rendered configuration: render it again after
migrating."""

from django.db import migrations, models

from mailserver.lookup import install_v2, uninstall_v2
from mailserver.operations import KeepViewsAndTriggers


def forwards(apps, schema_editor):
    install_v2(schema_editor, level=10)


def backwards(apps, schema_editor):
    uninstall_v2(schema_editor)  # (no trigger may name the column while it goes)


def back_to_level_9(apps, schema_editor):
    install_v2(schema_editor, level=9)  # after the column has gone: MariaDB refuses a row without it


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0016_traffic_statistics"),
        ("vacation", "0002_vacation_language"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, back_to_level_9, atomic=False),
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="lookupaddress", name="vacation_language", field=models.CharField(default="", max_length=10)
            ),
        ),
        migrations.RunPython(forwards, backwards, atomic=False),
    ]
