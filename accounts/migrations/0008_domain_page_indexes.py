"""An index for the domain page: its mailbox ids, search and figures read from the index alone.

The domain page (``domains.views.domain_detail``) reads a page's mailbox ids first
(``mailadmin.shortcuts.page_of``: ``ORDER BY local_part LIMIT 50 OFFSET n`` within the domain, or
the ids matching a search with their count), then those rows; and sums its mailboxes' count, usage
and quota in one pass (``Mailbox.objects.totals_by_domain``, also a grant's usage). The unique index
on (domain, local part) holds neither the names nor the usage and quota (on PostgreSQL not even the
id), so each of these read all the domain's rows from the table. Measured at 10,000 mailboxes in a
domain (bench/RESULTS.md): PostgreSQL sorted the domain's rows for a deep page (10 ms for the last
one) and the sums read every row (3-9 ms); MariaDB read the whole table for the sums (the domain
was 10 % of it: 40-60 ms) and every row of the domain for a search. With this index each is a scan
of the domain's index entries (1-3 ms). SQLite (small installations) keeps what it has.

``usage_bytes`` is in it: the usage job's writes update the index too.
"""

from django.db import migrations

INDEX = "accounts_mailbox_domain_page"
CREATE = {
    "postgresql": f"CREATE INDEX {INDEX} ON accounts_mailbox (domain_id, local_part) "
    "INCLUDE (id, first_name, last_name, usage_bytes, quota_bytes)",
    "mysql": f"CREATE INDEX {INDEX} ON accounts_mailbox "
    "(domain_id, local_part, first_name, last_name, usage_bytes, quota_bytes)",
}
DROP = {"postgresql": f"DROP INDEX IF EXISTS {INDEX}", "mysql": f"DROP INDEX {INDEX} ON accounts_mailbox"}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor in CREATE:
        schema_editor.execute(CREATE[schema_editor.connection.vendor])


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor in DROP:
        schema_editor.execute(DROP[schema_editor.connection.vendor])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_forwarding")]
    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
