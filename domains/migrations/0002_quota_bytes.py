"""Domain limits and admin grants' shared quota in bytes (were whole MB)."""

from django.db import migrations, models
from django.db.models import F, Q

MB = 1024 * 1024


def to_bytes(apps, schema_editor):
    apps.get_model("domains", "Domain").objects.update(
        max_quota_bytes=F("max_quota_bytes") * MB, default_quota_bytes=F("default_quota_bytes") * MB
    )
    apps.get_model("domains", "AdminGrant").objects.update(quota_bytes=F("quota_bytes") * MB)


def to_mb(apps, schema_editor):
    apps.get_model("domains", "Domain").objects.update(
        max_quota_bytes=(F("max_quota_bytes") + MB - 1) / MB, default_quota_bytes=(F("default_quota_bytes") + MB - 1) / MB
    )
    apps.get_model("domains", "AdminGrant").objects.update(quota_bytes=(F("quota_bytes") + MB - 1) / MB)


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint("domain", "domain_default_quota_within_max"),
        migrations.RemoveConstraint("domain", "domain_default_quota_limited_when_max"),
        migrations.RenameField("domain", "max_quota_mb", "max_quota_bytes"),
        migrations.RenameField("domain", "default_quota_mb", "default_quota_bytes"),
        migrations.RenameField("admingrant", "quota_mb", "quota_bytes"),
        migrations.AlterField(
            "domain",
            "max_quota_bytes",
            models.PositiveBigIntegerField(default=0, help_text="Largest mailbox quota; 0 = unlimited"),
        ),
        migrations.AlterField(
            "domain",
            "default_quota_bytes",
            models.PositiveBigIntegerField(default=0, help_text="Quota of new mailboxes; 0 = unlimited"),
        ),
        migrations.AlterField(
            "admingrant",
            "quota_bytes",
            models.PositiveBigIntegerField(default=0, help_text="Shared by all granted domains; 0 = unlimited"),
        ),
        migrations.RunPython(to_bytes, to_mb),
        migrations.AddConstraint(
            "domain",
            models.CheckConstraint(
                condition=Q(max_quota_bytes=0) | Q(default_quota_bytes__lte=F("max_quota_bytes")),
                name="domain_default_quota_within_max",
                violation_error_message="The default mailbox quota cannot exceed the domain's maximum.",
            ),
        ),
        migrations.AddConstraint(
            "domain",
            models.CheckConstraint(
                condition=Q(max_quota_bytes=0) | ~Q(default_quota_bytes=0),
                name="domain_default_quota_limited_when_max",
                violation_error_message="With a maximum mailbox quota, the default quota cannot be unlimited (0).",
            ),
        ),
    ]
