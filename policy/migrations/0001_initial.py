"""Sender lists (issue 15.3). On MariaDB/MySQL the keys Exim looks up, ``owner`` and ``pattern``,
compare byte for byte (as accounts 0006 does for addresses): the default collations would let
'alíce@example.org' match an entry for 'alice@example.org'."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def binary_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    for column in ("owner", "pattern"):
        schema_editor.execute(
            f"ALTER TABLE policy_senderrule MODIFY {column} VARCHAR(255) CHARACTER SET utf8mb4 "
            "COLLATE utf8mb4_bin NOT NULL"
        )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('domains', '0010_max_message_bytes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SenderRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('owner', models.CharField(editable=False, max_length=255)),
                ('pattern', models.CharField(max_length=255)),
                ('is_network', models.BooleanField(default=False, editable=False)),
                ('action', models.CharField(choices=[('allow', 'Allow'), ('deny', 'Refuse')], max_length=5)),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('domain', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sender_rules', to='domains.domain')),
                ('mailbox', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='sender_rules', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['owner', 'action', 'pattern'],
                'constraints': [models.UniqueConstraint(fields=('owner', 'pattern'), name='sender_rule_once_per_owner', violation_error_message='That pattern is already on this list.'), models.CheckConstraint(condition=models.Q(('action__in', ['allow', 'deny'])), name='sender_rule_action_known'), models.CheckConstraint(condition=models.Q(('is_network', False), ('action', 'deny'), _connector='OR'), name='sender_rule_networks_deny_only', violation_error_message='Client networks can only be refused: a network proves no sender.')],
            },
        ),
        migrations.RunPython(binary_keys, migrations.RunPython.noop, atomic=False),
    ]
