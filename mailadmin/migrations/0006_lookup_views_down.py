"""Quotas become bytes (accounts 0005, domains 0002): the lookup views go first, since
PostgreSQL will not change the type of a column a view reads; 0007 makes them again."""

import importlib

from django.db import migrations

from mailadmin.lookup import drop_views


def forwards(apps, schema_editor):
    drop_views(schema_editor)


def backwards(apps, schema_editor):
    importlib.import_module("mailadmin.migrations.0002_lookup_views").create_views(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("mailadmin", "0005_drop_django_admin_log")]
    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
