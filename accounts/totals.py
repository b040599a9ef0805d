"""Each domain's mailbox totals, kept by the database: ``accounts_domaintotals``.

How many mailboxes a domain has, how many of them have no quota (0: unlimited), the sums of their
usage and of their quotas, how many aliases it has and how many of its deleted mailboxes' mail is
still kept. The domain page, the domain list, a grant's usage and its limits read one row per
domain here instead of counting and summing at every request (3-9 ms for a domain of 10,000
mailboxes, and growing with it; the counts in the domain's query cost the ORM another 1.1 ms:
bench/RESULTS.md, issue 13).

Triggers on ``accounts_mailbox``, ``aliases_alias``, ``accounts_mailboxarchive`` and
``domains_domain`` keep the rows, in the same transaction as
every write, whatever makes it (a service, an importer, the bulk path, plain SQL), on each of the
three databases; the same way as the lookup tables of contract v2 (``mailserver.lookup``, whose
``rebuild`` and ``out_of_step`` cover these rows too: ``manage.py lookup_tables check|rebuild``).
A domain's row is created with the domain and goes with it. Writes that change none of the
columns summed here (a login, the usage job's ``usage_updated_at``) do not touch the row.

Concurrency: a write to a mailbox locks its domain's row until the transaction ends, so writes to
the mailboxes of one domain queue behind each other there (creations already did, on the domain
or grant lock of ``domains.limits``); the panel runs at READ COMMITTED on every database
(``mailadmin/settings.py``), so a limit checked after taking those locks reads the totals the
previous writer committed.
"""

from __future__ import annotations

from mailadmin.lib import triggers

TABLE = "accounts_domaintotals"
COLUMNS = (
    "domain_id", "mailboxes", "unlimited", "usage_bytes", "quota_bytes", "aliases", "kept_archives", "domain_aliases"
)  # fmt: skip
# A deleted mailbox's archive no longer holds its mail in these states (MailboxArchiveQuerySet.kept).
NOT_KEPT = ("restored", "purged")
_NOT_KEPT_SQL = ", ".join(f"'{state}'" for state in NOT_KEPT)
_KEPT = "CASE WHEN {row}.state NOT IN (%s) THEN 1 ELSE 0 END" % _NOT_KEPT_SQL

# The one definition of the figures: what the rows must say (the fill, and the in-step check).
SOURCE = f"""SELECT d.id AS domain_id,
       (SELECT COUNT(*) FROM accounts_mailbox m WHERE m.domain_id = d.id) AS mailboxes,
       (SELECT COUNT(*) FROM accounts_mailbox m WHERE m.domain_id = d.id AND m.quota_bytes = 0) AS unlimited,
       (SELECT COALESCE(SUM(m.usage_bytes), 0) FROM accounts_mailbox m WHERE m.domain_id = d.id) AS usage_bytes,
       (SELECT COALESCE(SUM(m.quota_bytes), 0) FROM accounts_mailbox m WHERE m.domain_id = d.id) AS quota_bytes,
       (SELECT COUNT(*) FROM aliases_alias a WHERE a.domain_id = d.id) AS aliases,
       (SELECT COUNT(*) FROM accounts_mailboxarchive r
         WHERE r.domain_id = d.id AND r.state NOT IN ({_NOT_KEPT_SQL})) AS kept_archives,
       (SELECT COUNT(*) FROM domains_domainalias x WHERE x.target_id = d.id) AS domain_aliases
FROM domains_domain d"""


def _mailbox(row: str, sign: str) -> str:
    """Add (``+``) or take away (``-``) the mailbox ``row`` (NEW or OLD) to or from its domain's totals."""
    return (
        f"UPDATE {TABLE} SET mailboxes = mailboxes {sign} 1,"
        f" unlimited = unlimited {sign} CASE WHEN {row}.quota_bytes = 0 THEN 1 ELSE 0 END,"
        f" usage_bytes = usage_bytes {sign} {row}.usage_bytes, quota_bytes = quota_bytes {sign} {row}.quota_bytes"
        f" WHERE domain_id = {row}.domain_id"
    )


def _alias(row: str, sign: str) -> str:
    return f"UPDATE {TABLE} SET aliases = aliases {sign} 1 WHERE domain_id = {row}.domain_id"


def _domain_alias(row: str, sign: str) -> str:
    return f"UPDATE {TABLE} SET domain_aliases = domain_aliases {sign} 1 WHERE domain_id = {row}.target_id"


def _archive(row: str, sign: str) -> str:
    kept = _KEPT.format(row=row)
    return f"UPDATE {TABLE} SET kept_archives = kept_archives {sign} {kept} WHERE domain_id = {row}.domain_id"


_ZEROS = ", 0" * (len(COLUMNS) - 1)  # a new domain's figures
# (table, event) -> (the statements the trigger runs, and for an UPDATE the columns that matter
# beside the domain: a write that changes none of them does not touch the totals).
_ACTIONS = {
    ("domains_domain", "INSERT"): ([f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES (NEW.id{_ZEROS})"], ()),
    ("domains_domain", "DELETE"): ([f"DELETE FROM {TABLE} WHERE domain_id = OLD.id"], ()),
    ("accounts_mailbox", "INSERT"): ([_mailbox("NEW", "+")], ()),
    ("accounts_mailbox", "UPDATE"): ([_mailbox("OLD", "-"), _mailbox("NEW", "+")], ("usage_bytes", "quota_bytes")),
    ("accounts_mailbox", "DELETE"): ([_mailbox("OLD", "-")], ()),
    ("aliases_alias", "INSERT"): ([_alias("NEW", "+")], ()),
    ("aliases_alias", "UPDATE"): ([_alias("OLD", "-"), _alias("NEW", "+")], ()),
    ("aliases_alias", "DELETE"): ([_alias("OLD", "-")], ()),
    ("domains_domainalias", "INSERT"): ([_domain_alias("NEW", "+")], ()),
    ("domains_domainalias", "UPDATE"): ([_domain_alias("OLD", "-"), _domain_alias("NEW", "+")], ()),
    ("domains_domainalias", "DELETE"): ([_domain_alias("OLD", "-")], ()),
    ("accounts_mailboxarchive", "INSERT"): ([_archive("NEW", "+")], ()),
    ("accounts_mailboxarchive", "UPDATE"): ([_archive("OLD", "-"), _archive("NEW", "+")], ("state",)),
    ("accounts_mailboxarchive", "DELETE"): ([_archive("OLD", "-")], ()),
}


def _changed(vendor: str, table: str, columns) -> str:
    key = "target_id" if table == "domains_domainalias" else "domain_id"  # (the column naming the domain)
    return triggers.changed(vendor, (key, *columns))


def _name(table: str, event: str) -> str:
    return f"domain_totals_{table}_{event.lower()}"


def trigger_sql(vendor: str) -> list[str]:
    """The statements that create the triggers on ``vendor`` (and, on PostgreSQL, their functions)."""
    statements = []
    for (table, event), (body, columns) in _ACTIONS.items():
        guard = _changed(vendor, table, columns) if event == "UPDATE" else ""
        statements += triggers.create_trigger(vendor, _name(table, event), table, event, body, guard)
    return statements


def drop_trigger_sql(vendor: str) -> list[str]:
    return [s for table, event in _ACTIONS for s in triggers.drop_trigger(vendor, _name(table, event), table)]


def fill_sql() -> list[str]:
    """Empty the table and fill it from the mailboxes (the migration; a repair after a restore)."""
    return [f"DELETE FROM {TABLE}", f"INSERT INTO {TABLE} ({', '.join(COLUMNS)})\n{SOURCE}"]


def install(schema_editor) -> None:
    """Make the triggers (again) and fill the table: for a migration."""
    vendor = schema_editor.connection.vendor
    for statement in drop_trigger_sql(vendor) + trigger_sql(vendor) + fill_sql():
        schema_editor.execute(statement, params=None)


def uninstall(schema_editor) -> None:
    for statement in drop_trigger_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def out_of_step(connection) -> dict:
    """{"missing": rows the mailboxes say and the table lacks, "extra": the reverse}; empty when in step."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE}")  # noqa: S608 - names of this module
        stored = {tuple(int(v) for v in row) for row in cursor.fetchall()}
        cursor.execute(SOURCE)
        wanted = {tuple(int(v) for v in row) for row in cursor.fetchall()}
    if stored == wanted:
        return {}
    return {"missing": sorted(wanted - stored), "extra": sorted(stored - wanted)}
