"""Several mail hosts count what a mailbox sends each on its own (as Exim does): a sending state is
kept per mailbox and host, and one host's run of ``manage.py sending collect`` replaces only its
own. The states are made again, from Exim's counts, by each host's next run (every 5 minutes)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mailserver", "0013_sender_lists_flag"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.DeleteModel(name="SendingState"),
        migrations.CreateModel(
            name="SendingState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("host", models.CharField(max_length=253)),
                ("messages_per_hour", models.FloatField(default=0)),
                ("recipients_per_hour", models.FloatField(default=0)),
                ("limited", models.BooleanField(default=False)),
                ("measured_at", models.DateTimeField()),
                (
                    "mailbox",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sending_states",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "mailserver_sendingstate",
                "ordering": ["host"],
                "constraints": [
                    models.UniqueConstraint(fields=("mailbox", "host"), name="sending_state_once_per_host")
                ],
            },
        ),
    ]
