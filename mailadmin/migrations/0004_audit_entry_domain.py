"""Audit entries belong to the domain record they were about, not to its name.

The name stays (``domain_name``) for display after the domain is deleted. Each
existing entry is linked to the domain of its name that existed when it was
written, so entries of an earlier domain of the same name (deleted before this
migration) stay unlinked: its successor's admins never see them.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def link_domains(apps, schema_editor):
    AuditEntry = apps.get_model("mailadmin", "AuditEntry")
    Domain = apps.get_model("domains", "Domain")
    same_domain = Domain.objects.filter(name=OuterRef("domain_name"), created__lte=OuterRef("created"))
    AuditEntry.objects.exclude(domain_name="").update(domain=Subquery(same_domain.values("pk")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("mailadmin", "0001_initial"),
        ("domains", "0001_initial"),
    ]

    operations = [
        migrations.RenameField("auditentry", "domain", "domain_name"),
        migrations.AlterField(
            model_name="auditentry",
            name="domain_name",
            field=models.CharField(
                blank=True,
                db_index=True,
                help_text="The domain's name when it happened (kept after deletion).",
                max_length=253,
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="domain",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="audit_entries",
                to="domains.domain",
            ),
        ),
        migrations.RunPython(link_domains, migrations.RunPython.noop),
    ]
