"""The mailbox's UPDATE trigger runs only when a column the lookup rows are made of changed (level
11, ``mailserver.lookup.MAILBOX_LOOKED_UP``): a panel login (``last_login``) and the usage job's
every-minute ``usage_updated_at`` no longer rewrite every mailbox's lookup rows. No column changes;
the triggers are made again and the tables refilled."""

from django.db import migrations

from mailserver.lookup import install_v2


def forwards(apps, schema_editor):
    install_v2(schema_editor, level=11)


def backwards(apps, schema_editor):
    install_v2(schema_editor, level=10)


class Migration(migrations.Migration):
    dependencies = [("mailserver", "0017_vacation_language")]

    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
