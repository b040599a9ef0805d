"""Each domain's figures (mailboxes, unlimited ones, usage, quota, aliases, kept archives, domain
aliases) in a row kept by triggers (``accounts.totals``), read by the domain page, the domain list
and a grant's usage instead of counting and summing per request."""

import django.db.models.deletion
from django.db import migrations, models

from accounts import totals


def forwards(apps, schema_editor):
    totals.install(schema_editor)


def backwards(apps, schema_editor):
    totals.uninstall(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0017_usage_history'),
        ('domains', '0014_greylisting'),
        ('aliases', '0002_binary_collation_mysql'),  # (its table gets a trigger)
    ]

    operations = [
        migrations.CreateModel(
            name='DomainTotals',
            fields=[
                ('domain', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='totals', serialize=False, to='domains.domain')),
                ('mailboxes', models.BigIntegerField(default=0)),
                ('unlimited', models.BigIntegerField(default=0)),
                ('usage_bytes', models.BigIntegerField(default=0)),
                ('quota_bytes', models.BigIntegerField(default=0)),
                ('aliases', models.BigIntegerField(default=0)),
                ('kept_archives', models.BigIntegerField(default=0)),
                ('domain_aliases', models.BigIntegerField(default=0)),
            ],
            options={
                'db_table': 'accounts_domaintotals',
            },
        ),
        migrations.RunPython(forwards, backwards, atomic=False),
    ]
