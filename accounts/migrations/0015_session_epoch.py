"""A mailbox's session epoch: raising it ends every panel session of the account at once (a
second factor newly required of an administrator who has none). SQLite rebuilds the table:
``KeepViewsAndTriggers`` keeps the lookup views and triggers."""

from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_send_limits"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="mailbox",
                name="session_epoch",
                field=models.PositiveIntegerField(default=0, editable=False),
            ),
        ),
    ]
