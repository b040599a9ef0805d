"""The enabled DNS blocklists in one row (level 12): ``mailserver_blocklistset``, kept by triggers on
``policy_dnsblocklist`` (any change writes it again, whole), which the view ``lookup_blocklist_set_v2``
now reads by its key instead of aggregating the blocklists at every lookup. Exim reads that view
in the statement it makes for each recipient's domain at RCPT; on MariaDB the aggregate made that
statement cost the server three times what the domain's row does. The view keeps its name and
column, and ``CREATE OR REPLACE`` keeps the lookup users' right to read it (SQLite has no rights):
nothing to do for Exim or its users."""

from django.db import migrations, models

from mailserver.lookup import create_views, install_v2

VIEWS = ["lookup_blocklist_set_v2"]


def forwards(apps, schema_editor):
    install_v2(schema_editor, level=12)
    create_views(schema_editor, VIEWS, level=12)


def backwards(apps, schema_editor):
    create_views(schema_editor, VIEWS, level=11)
    install_v2(schema_editor, level=11)


class Migration(migrations.Migration):
    dependencies = [("mailserver", "0018_mailbox_trigger_guard"), ("policy", "0003_greylisting")]

    operations = [
        migrations.CreateModel(
            name="BlocklistSet",
            fields=[
                ("id", models.SmallIntegerField(primary_key=True, serialize=False)),
                ("entries", models.TextField()),
            ],
            options={"db_table": "mailserver_blocklistset", "managed": True},
        ),
        migrations.RunPython(forwards, backwards, atomic=False),
    ]
