"""A domain may require two-factor login of its administrators (accounts/twofactor.py).

SQLite rebuilds the table to add a NOT NULL column: ``KeepViewsAndTriggers`` keeps the lookup
views and the triggers that keep the lookup tables in step across the rebuild.
"""

from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


class Migration(migrations.Migration):
    dependencies = [("domains", "0006_dns_check")]
    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="domain",
                name="require_two_factor",
                field=models.BooleanField(
                    default=False, help_text="Its administrators log in to the panel with a second factor."
                ),
            ),
        ),
    ]
