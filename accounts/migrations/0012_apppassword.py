import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_two_factor"),
    ]

    operations = [
        migrations.CreateModel(
            name="AppPassword",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=64)),
                ("key_id", models.CharField(max_length=8, unique=True)),
                ("password", models.CharField(max_length=255)),
                ("imap", models.BooleanField(default=False)),
                ("pop3", models.BooleanField(default=False)),
                ("smtp", models.BooleanField(default=False)),
                ("sieve", models.BooleanField(default=False)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "mailbox",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="app_passwords",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
                "constraints": [models.UniqueConstraint(fields=("mailbox", "name"), name="app_password_name_unique")],
            },
        ),
    ]
