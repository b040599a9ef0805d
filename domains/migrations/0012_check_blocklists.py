"""Whether mail to a domain is checked against the server's DNS blocklists (issue 15.2; policy 0002,
mailserver 0011). SQLite rebuilds the table: ``KeepViewsAndTriggers`` keeps the lookup views and triggers."""

from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0011_default_send_limits"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="domain",
                name="check_blocklists",
                field=models.BooleanField(
                    default=True, help_text="Mail to its addresses from clients on the DNS blocklists is refused."
                ),
            ),
        ),
    ]
