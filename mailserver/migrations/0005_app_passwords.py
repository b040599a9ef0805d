"""App passwords (accounts 0012) and a domain's "require app passwords" (domains 0008) reach Dovecot.

``lookup_logins_v2`` gains ``app_passwords_only``; the triggers are made again (the domain's new
flag now refreshes its logins) and the tables refilled; the view ``lookup_app_passwords_v2`` is
created. Run ``manage.py lookup_users create`` again after migrating: Dovecot's user needs the
new view and may record an app password's last use.
"""

from django.db import migrations, models

from mailserver.lookup import create_views, drop_views, install_v2
from mailserver.operations import KeepViewsAndTriggers

VIEWS = ["lookup_app_passwords_v2"]


def forwards(apps, schema_editor):
    install_v2(schema_editor, level=2)  # as of this migration (the protocols come with 0006)
    create_views(schema_editor, VIEWS)


def backwards(apps, schema_editor):
    drop_views(schema_editor, VIEWS)


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0004_lookup_tables_v2"),
        ("accounts", "0012_apppassword"),
        ("domains", "0008_domain_require_app_passwords"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="lookuplogin",
                name="app_passwords_only",
                field=models.SmallIntegerField(default=0),
            ),
        ),
        migrations.RunPython(forwards, backwards, atomic=False),
    ]
