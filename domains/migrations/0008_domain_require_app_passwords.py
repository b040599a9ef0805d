"""A domain may require app passwords of its mailboxes' mail programs (accounts/apppasswords.py).

SQLite rebuilds the table to add a NOT NULL column: ``KeepViewsAndTriggers`` keeps the lookup
views and the triggers across the rebuild (mailserver 0005 then makes the triggers again).
"""

from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


class Migration(migrations.Migration):
    dependencies = [("domains", "0007_two_factor")]
    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="domain",
                name="require_app_passwords",
                field=models.BooleanField(
                    default=False,
                    help_text="Mail programs (IMAP, POP3, SMTP, ManageSieve) log in with app passwords only; "
                    "the main password then works in the panel only.",
                ),
            ),
        ),
    ]
