"""What a domain's mailboxes may send an hour by default (issue 15.7; accounts 0014, mailserver 0009).
SQLite rebuilds the table: ``KeepViewsAndTriggers`` keeps the lookup views and triggers."""

from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0010_max_message_bytes"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="domain",
                name="default_max_sent_per_hour",
                field=models.PositiveIntegerField(
                    default=0, help_text="Messages a mailbox may send an hour (SMTP AUTH); 0 = no limit"
                ),
            ),
            migrations.AddField(
                model_name="domain",
                name="default_max_recipients_per_hour",
                field=models.PositiveIntegerField(
                    default=0, help_text="Recipients a mailbox may send to an hour; 0 = no limit"
                ),
            ),
        ),
    ]
