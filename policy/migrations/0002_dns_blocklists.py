"""The server's DNS blocklists (issue 15.2), read by Exim through mailserver 0011's view.

Exim asks for the enabled ones (``WHERE enabled = 1``). The view gives ``enabled`` as an integer,
which PostgreSQL computes as ``CAST(enabled AS INTEGER)``: an index on the boolean column cannot
serve that, so PostgreSQL gets an index on the expression the view computes."""

from django.db import migrations, models

PG_INDEX = "blocklist_enabled_int_zone"


def expression_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX {PG_INDEX} ON policy_dnsblocklist ((CAST(enabled AS INTEGER)), zone)")


def drop_expression_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("policy", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="DnsBlocklist",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("zone", models.CharField(max_length=200, unique=True)),
                ("name", models.CharField(help_text="Named in the refusal, such as Spamhaus ZEN.", max_length=100)),
                (
                    "answers",
                    models.TextField(help_text="The answers that mean listed, one per line, with what each means."),
                ),
                ("codes", models.CharField(editable=False, max_length=1100)),
                ("meanings", models.TextField(blank=True, editable=False)),
                ("enabled", models.BooleanField(default=True)),
                ("created", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["zone"],
                "indexes": [models.Index(fields=["enabled", "zone"], name="blocklist_enabled_zone")],
            },
        ),
        migrations.RunPython(expression_index, drop_expression_index),
    ]
