"""A domain's own message size limit (issue 15.4), read by Exim through lookup_domains_v2
(mailserver 0007). SQLite rebuilds the table: ``KeepViewsAndTriggers`` keeps the lookup views
and triggers across the rebuild.
"""

from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0009_default_protocols"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="domain",
                name="max_message_bytes",
                field=models.PositiveBigIntegerField(
                    default=0, help_text="Largest message its addresses accept; 0 = the server's limit"
                ),
            ),
        ),
    ]
