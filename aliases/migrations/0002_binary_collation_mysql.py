"""MariaDB/MySQL: compare lookup keys byte for byte (alias addresses).

The default utf8mb4 collations are case- and accent-insensitive, so a lookup
for 'alíce@example.org' would find 'alice@example.org': a hostile recipient
routed to another mailbox. Keys are stored canonical (lower-case ASCII), so a
binary collation loses nothing and keeps the unique indexes usable. (Until the
lookup views moved to the mailserver app this was mailadmin's 0003, for every
app's columns; running it again on such a database changes nothing.)
"""

from django.db import migrations

COLUMNS = [
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
    dependencies = [('aliases', '0001_initial')]
    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
