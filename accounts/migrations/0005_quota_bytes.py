"""Mailbox quotas in bytes (were whole MB): any size can be set, and imports keep exact values.

Archives keep the settings of a deleted mailbox for its restore: their quota becomes bytes too."""

from django.db import migrations, models
from django.db.models import F

MB = 1024 * 1024


def to_bytes(apps, schema_editor):
    Mailbox = apps.get_model("accounts", "Mailbox")
    Mailbox.objects.update(quota_bytes=F("quota_bytes") * MB)
    Archive = apps.get_model("accounts", "MailboxArchive")
    for archive in Archive.objects.filter(settings__has_key="quota_mb"):
        saved = dict(archive.settings)
        saved["quota_bytes"] = (saved.pop("quota_mb") or 0) * MB
        Archive.objects.filter(pk=archive.pk).update(settings=saved)


def to_mb(apps, schema_editor):
    Mailbox = apps.get_model("accounts", "Mailbox")
    Mailbox.objects.update(quota_bytes=(F("quota_bytes") + MB - 1) / MB)
    Archive = apps.get_model("accounts", "MailboxArchive")
    for archive in Archive.objects.filter(settings__has_key="quota_bytes"):
        saved = dict(archive.settings)
        saved["quota_mb"] = -(-(saved.pop("quota_bytes") or 0) // MB)
        Archive.objects.filter(pk=archive.pk).update(settings=saved)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_archive_domain"),
    ]

    operations = [
        migrations.RenameField("mailbox", "quota_mb", "quota_bytes"),
        migrations.AlterField(
            "mailbox", "quota_bytes", models.PositiveBigIntegerField(default=0, help_text="0 = unlimited")
        ),
        migrations.RunPython(to_bytes, to_mb),
    ]
