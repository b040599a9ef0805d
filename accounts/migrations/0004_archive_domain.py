"""Deleted mailboxes belong to the domain record they were deleted from, not to its name.

Each existing archive is linked to the domain of its name that existed when the
mailbox was deleted; archives of an earlier domain of the same name (deleted
before this migration) stay unlinked, so only a superuser can restore them, into a
domain they name.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def link_domains(apps, schema_editor):
    MailboxArchive = apps.get_model("accounts", "MailboxArchive")
    Domain = apps.get_model("domains", "Domain")
    same_domain = Domain.objects.filter(name=OuterRef("domain_name"), created__lte=OuterRef("deleted_at"))
    MailboxArchive.objects.update(domain=Subquery(same_domain.values("pk")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_mailbox_archive"),
        ("domains", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="mailboxarchive",
            name="domain",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="archives",
                to="domains.domain",
            ),
        ),
        migrations.AlterField(
            model_name="mailboxarchive",
            name="domain_name",
            field=models.CharField(help_text="Its domain's name (kept after that domain is deleted).", max_length=253),
        ),
        migrations.RunPython(link_domains, migrations.RunPython.noop),
    ]
