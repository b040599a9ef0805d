"""MariaDB/MySQL: compare lookup keys byte for byte.

The default utf8mb4 collations are case- and accent-insensitive, so a lookup
for 'alíce@example.org' would find 'alice@example.org': a hostile recipient
routed to another mailbox. Keys are stored canonical (lower-case ASCII), so a
binary collation loses nothing and keeps the unique indexes usable.
"""

from django.db import migrations

COLUMNS = [
    ("domains_domain", "name", 253),
    ("domains_domainalias", "name", 253),
    ("accounts_mailbox", "address", 254),
    ("accounts_mailbox", "local_part", 64),
    ("aliases_alias", "address", 254),
    ("aliases_alias", "local_part", 64),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    for table, column, length in COLUMNS:
        schema_editor.execute(
            f"ALTER TABLE {table} MODIFY {column} VARCHAR({length}) CHARACTER SET utf8mb4 "
            "COLLATE utf8mb4_bin NOT NULL"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    for table, column, length in COLUMNS:
        schema_editor.execute(f"ALTER TABLE {table} MODIFY {column} VARCHAR({length}) NOT NULL")


class Migration(migrations.Migration):
    dependencies = [("mailadmin", "0002_lookup_views")]
    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
