"""What new mailboxes of a domain may log in to (accounts 0013).

SQLite rebuilds the table to add NOT NULL columns: ``KeepViewsAndTriggers`` keeps the lookup views
and triggers across the rebuild.
"""

from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0008_domain_require_app_passwords"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="domain",
                name="default_allow_imap",
                field=models.BooleanField(default=True, help_text="New mailboxes may use IMAP."),
            ),
            migrations.AddField(
                model_name="domain",
                name="default_allow_pop3",
                field=models.BooleanField(default=True, help_text="New mailboxes may use POP3."),
            ),
            migrations.AddField(
                model_name="domain",
                name="default_allow_sieve",
                field=models.BooleanField(default=True, help_text="New mailboxes may use ManageSieve."),
            ),
            migrations.AddField(
                model_name="domain",
                name="default_allow_smtp",
                field=models.BooleanField(default=True, help_text="New mailboxes may send with SMTP AUTH."),
            ),
        ),
    ]
