"""Greylisting per domain (issue 15.1; mailserver 0015): on/off, delay, retry window, expiry.
SQLite rebuilds the domain table: ``KeepViewsAndTriggers`` keeps the lookup views and triggers."""

import django.core.validators
from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0013_relay_domains"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="domain",
                name="greylist",
                field=models.BooleanField(
                    default=False,
                    help_text="A new sender's first attempt from an unknown client is told to try again later.",
                ),
            ),
            migrations.AddField(
                model_name="domain",
                name="greylist_delay",
                field=models.PositiveIntegerField(
                    default=300,
                    help_text="Seconds before a retry is accepted (1 to 86400).",
                    validators=[
                        django.core.validators.MinValueValidator(1),
                        django.core.validators.MaxValueValidator(86400),
                    ],
                ),
            ),
            migrations.AddField(
                model_name="domain",
                name="greylist_expiry_days",
                field=models.PositiveIntegerField(
                    default=36,
                    help_text="Days a sender that passed is remembered after its last message (1 to 3650).",
                    validators=[
                        django.core.validators.MinValueValidator(1),
                        django.core.validators.MaxValueValidator(3650),
                    ],
                ),
            ),
            migrations.AddField(
                model_name="domain",
                name="greylist_window_hours",
                field=models.PositiveIntegerField(
                    default=24,
                    help_text="Hours within which the retry must come (1 to 720).",
                    validators=[
                        django.core.validators.MinValueValidator(1),
                        django.core.validators.MaxValueValidator(720),
                    ],
                ),
            ),
        ),
    ]
