"""What a mailbox may send an hour (issue 15.7); empty: its domain's default (domains 0011).
SQLite rebuilds the table: ``KeepViewsAndTriggers`` keeps the lookup views and triggers."""

from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0013_protocols"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="mailbox",
                name="max_sent_per_hour",
                field=models.PositiveIntegerField(
                    blank=True,
                    null=True,
                    help_text="Messages it may send an hour (SMTP AUTH); empty: the domain's; 0: no limit",
                ),
            ),
            migrations.AddField(
                model_name="mailbox",
                name="max_recipients_per_hour",
                field=models.PositiveIntegerField(
                    blank=True, null=True, help_text="Recipients it may send to an hour; empty: the domain's; 0: no limit"
                ),
            ),
        ),
    ]
