"""The lookup views of contract version 1 (see mailadmin/lookup.py and deploy/README.md)."""

from django.db import migrations

from mailadmin.lookup import create_views, drop_views


def forwards(apps, schema_editor):
    create_views(schema_editor)


def backwards(apps, schema_editor):
    drop_views(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("mailadmin", "0001_initial"),
        ("domains", "0001_initial"),
        ("accounts", "0002_initial"),
        ("aliases", "0001_initial"),
        ("vacation", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
