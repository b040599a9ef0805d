"""The server's DNS blocklists (issue 15.2), read by Exim through mailserver 0011's views."""

from django.db import migrations, models


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
    ]
