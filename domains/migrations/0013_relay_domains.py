"""Relay (backup MX) domains (issue 15.5; mailserver 0012): a domain relayed to another host, and
the addresses it takes mail for. SQLite rebuilds the domain table: ``KeepViewsAndTriggers`` keeps
the lookup views and triggers. On MariaDB/MySQL the address Exim looks up compares byte for byte
(as accounts 0006 does for addresses)."""

import django.db.models.deletion
from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


def binary_address(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(
            "ALTER TABLE domains_relayrecipient MODIFY address VARCHAR(254) CHARACTER SET utf8mb4 "
            "COLLATE utf8mb4_bin NOT NULL"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0012_check_blocklists"),
    ]

    operations = [
        KeepViewsAndTriggers(
            migrations.AddField(
                model_name="domain",
                name="relay_host",
                field=models.CharField(
                    blank=True,
                    default="",
                    help_text="Relay its mail to this host (its primary MX, or an internal server); empty: hosted here.",
                    max_length=253,
                ),
            ),
            migrations.AddField(
                model_name="domain",
                name="relay_port",
                field=models.PositiveIntegerField(default=25, help_text="The relay host's SMTP port."),
            ),
            migrations.AddField(
                model_name="domain",
                name="relay_verify",
                field=models.CharField(
                    choices=[("list", "Listed recipients"), ("callout", "Ask the relay host (callout)")],
                    default="list",
                    help_text="Which recipients are taken: those on the domain's relay list (mail then waits here while the relay host is down), or those the relay host accepts when asked at once (while it is down, senders are told to try again).",
                    max_length=8,
                ),
            ),
        ),
        migrations.CreateModel(
            name="RelayRecipient",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("address", models.CharField(max_length=254, unique=True)),
                ("created", models.DateTimeField(auto_now_add=True)),
                (
                    "domain",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="relay_recipients",
                        to="domains.domain",
                    ),
                ),
            ],
            options={
                "ordering": ["address"],
            },
        ),
        migrations.RunPython(binary_address, migrations.RunPython.noop, atomic=False),
    ]
