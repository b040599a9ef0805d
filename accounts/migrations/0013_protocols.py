"""What a mailbox may log in to: IMAP, POP3, SMTP submission, ManageSieve (Dovecot reads them).

SQLite rebuilds the table to add NOT NULL columns: ``KeepViewsAndTriggers`` keeps the lookup views
and triggers across the rebuild (mailserver 0006 then makes the triggers again).
"""

from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_apppassword"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="mailbox",
                name="allow_imap",
                field=models.BooleanField(
                    default=True, help_text="Mail programs may read mail over IMAP.", verbose_name="IMAP"
                ),
            ),
            migrations.AddField(
                model_name="mailbox",
                name="allow_pop3",
                field=models.BooleanField(
                    default=True, help_text="Mail programs may download mail over POP3.", verbose_name="POP3"
                ),
            ),
            migrations.AddField(
                model_name="mailbox",
                name="allow_sieve",
                field=models.BooleanField(
                    default=True, help_text="Mail programs may manage filters.", verbose_name="ManageSieve"
                ),
            ),
            migrations.AddField(
                model_name="mailbox",
                name="allow_smtp",
                field=models.BooleanField(
                    default=True,
                    help_text="Mail programs may send mail with SMTP AUTH.",
                    verbose_name="SMTP submission",
                ),
            ),
        ),
    ]
