"""The mailbox's domain loses its own index (PostgreSQL and SQLite had one; MariaDB never had).

Two indexes already lead with the domain: the unique (domain, local part) and the domain page's
(0008), so the foreign key's checks and every "mailboxes of this domain" query are served without
it. On PostgreSQL it also misled the planner: the domain page's sums (count, usage, quota over the
domain's mailboxes) read the table through it (6.1 ms for 10,000 mailboxes, bench/RESULTS.md)
instead of the covering index alone (2.7 ms, EXPLAIN ANALYZE on the bench directory). One index
fewer to write at every mailbox insert, too.

SQLite rebuilds the table for it: ``KeepViewsAndTriggers`` keeps the lookup views and triggers
across the rebuild (an installation upgraded on SQLite otherwise failed here: "error in view
lookup_mailboxes_v1: no such table").
"""

import django.db.models.deletion
from django.db import migrations, models

from mailserver.operations import KeepViewsAndTriggers


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_jobs"), ("domains", "0001_initial")]
    operations = [
        KeepViewsAndTriggers(
            migrations.AlterField(
                model_name="mailbox",
                name="domain",
                field=models.ForeignKey(
                    blank=True,
                    db_index=False,
                    null=True,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="mailboxes",
                    to="domains.domain",
                ),
            )
        ),
    ]
