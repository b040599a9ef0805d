"""The lookup views: the project's public interface to Exim and Dovecot.

Contract version 1 (documented in deploy/README.md). Names and columns change
only together with the templates in deploy/, and a new version gets new names.
Every boolean column is the integer 0 or 1 on every database, so a lookup reads
the same everywhere. Each view is MERGE-able (or, for the UNION in
``lookup_domains_v1``, has the address condition pushed into each branch),
so a lookup by its key column is an indexed point query on the base tables.
"""

CONTRACT_VERSION = 1

# View name -> columns, in order. Exim's user gets every view except the one
# with hashes; Dovecot's user gets them all.
VIEWS = {
    "lookup_domains_v1": ["domain", "target", "is_alias", "active", "logins_enabled"],
    "lookup_mailboxes_v1": [
        "address",
        "domain",
        "local_part",
        "maildir",
        "quota_bytes",
        "active",
        "may_relay",
        "filtering",
        "over_quota",
        "usage_bytes",
    ],
    "lookup_dovecot_users_v1": [
        "address",
        "domain",
        "local_part",
        "maildir",
        "quota_bytes",
        "quota_rule",
        "login_allowed",
        "password",
    ],
    "lookup_aliases_v1": ["address", "domain", "local_part", "destinations", "active", "is_catchall"],
    "lookup_vacations_v1": ["address", "mode", "subject", "body", "interval_seconds", "first_day", "last_day"],
    "lookup_forwards_v1": ["address", "destinations", "keep_copy"],
}
EXIM_VIEWS = [name for name in VIEWS if name != "lookup_dovecot_users_v1"]
DOVECOT_VIEWS = list(VIEWS)

# The key each view is looked up by.
KEYS = {
    "lookup_domains_v1": "domain",
    "lookup_mailboxes_v1": "address",
    "lookup_dovecot_users_v1": "address",
    "lookup_aliases_v1": "address",
    "lookup_vacations_v1": "address",
    "lookup_forwards_v1": "address",
}


def _dialect(vendor: str) -> dict:
    if vendor == "mysql":
        return {
            "concat": lambda *parts: "CONCAT(" + ", ".join(parts) + ")",
            "bool": lambda expr: f"({expr})",
            "today": "CURRENT_DATE",
            "create": "CREATE OR REPLACE SQL SECURITY DEFINER VIEW",
        }
    if vendor == "postgresql":
        return {
            "concat": lambda *parts: "(" + " || ".join(parts) + ")",
            "bool": lambda expr: f"CAST(({expr}) AS INTEGER)",
            "today": "CURRENT_DATE",
            "create": "CREATE OR REPLACE VIEW",
        }
    if vendor == "sqlite":
        return {
            "concat": lambda *parts: "(" + " || ".join(parts) + ")",
            "bool": lambda expr: f"(({expr}) != 0)",
            "today": "date('now')",
            "create": "CREATE VIEW IF NOT EXISTS",
        }
    raise ValueError(f"Unsupported database: {vendor}")


def view_sql(vendor: str) -> dict[str, str]:
    """CREATE statements for every lookup view on ``vendor`` (mysql, postgresql, sqlite)."""
    d = _dialect(vendor)
    cat, b = d["concat"], d["bool"]
    true = "1" if vendor != "postgresql" else "TRUE"
    maildir = cat("d.name", "'/'", "m.local_part", "'/'")  # accounts.models.maildir_of, in SQL
    quota_bytes = "m.quota_bytes"
    # Dovecot reads a bare storage limit as kilobytes: the "B" suffix says bytes
    quota_rule = cat(
        "'*:storage='", "CAST(m.quota_bytes AS CHAR)" if vendor == "mysql" else "CAST(m.quota_bytes AS TEXT)", "'B'"
    )
    usable = "(m.password <> '' AND SUBSTR(m.password, 1, 1) <> '!')"
    return {
        "lookup_domains_v1": f"""{d["create"]} lookup_domains_v1 AS
            SELECT d.name AS domain, d.name AS target, 0 AS is_alias, {b("d.active")} AS active,
                   {b("d.logins_enabled")} AS logins_enabled
              FROM domains_domain d
            UNION ALL
            SELECT a.name, t.name, 1, {b("a.active AND t.active")}, {b("t.logins_enabled")}
              FROM domains_domainalias a JOIN domains_domain t ON t.id = a.target_id""",
        "lookup_mailboxes_v1": f"""{d["create"]} lookup_mailboxes_v1 AS
            SELECT m.address AS address, d.name AS domain, m.local_part AS local_part, {maildir} AS maildir,
                   {quota_bytes} AS quota_bytes, {b("m.active AND d.active")} AS active,
                   {b("m.may_relay")} AS may_relay, {b("m.filtering")} AS filtering,
                   {b("m.over_quota")} AS over_quota, m.usage_bytes AS usage_bytes
              FROM accounts_mailbox m JOIN domains_domain d ON d.id = m.domain_id""",
        "lookup_dovecot_users_v1": f"""{d["create"]} lookup_dovecot_users_v1 AS
            SELECT m.address AS address, d.name AS domain, m.local_part AS local_part, {maildir} AS maildir,
                   {quota_bytes} AS quota_bytes, {quota_rule} AS quota_rule,
                   {b(f"m.active AND d.active AND d.logins_enabled AND {usable}")} AS login_allowed,
                   m.password AS password
              FROM accounts_mailbox m JOIN domains_domain d ON d.id = m.domain_id""",
        "lookup_aliases_v1": f"""{d["create"]} lookup_aliases_v1 AS
            SELECT a.address AS address, d.name AS domain, a.local_part AS local_part,
                   a.destinations AS destinations, {b("a.active AND d.active")} AS active,
                   {b("a.local_part = ''")} AS is_catchall
              FROM aliases_alias a JOIN domains_domain d ON d.id = a.domain_id""",
        "lookup_vacations_v1": f"""{d["create"]} lookup_vacations_v1 AS
            SELECT m.address AS address, v.mode AS mode, v.subject AS subject, v.body AS body,
                   v.interval_days * 86400 AS interval_seconds, v.first_day AS first_day, v.last_day AS last_day
              FROM vacation_vacation v
              JOIN accounts_mailbox m ON m.id = v.mailbox_id
              JOIN domains_domain d ON d.id = m.domain_id
             WHERE v.mode <> 'off' AND m.active = {true} AND d.active = {true}
               AND (v.first_day IS NULL OR v.first_day <= {d["today"]})
               AND (v.last_day IS NULL OR v.last_day >= {d["today"]})""",
        "lookup_forwards_v1": f"""{d["create"]} lookup_forwards_v1 AS
            SELECT m.address AS address, m.forward_to AS destinations, {b("m.forward_keep_copy")} AS keep_copy
              FROM accounts_mailbox m JOIN domains_domain d ON d.id = m.domain_id
             WHERE m.forward_to <> '' AND m.active = {true} AND d.active = {true}""",
    }


def create_views(schema_editor, names=None) -> None:
    """Create (or replace) the views ``names`` (all when None) from their current definitions.

    A migration names the views it adds: one made before a view's columns existed must not
    create that view (its base columns come with a later migration)."""
    vendor = schema_editor.connection.vendor
    for name, sql in view_sql(vendor).items():
        if names is not None and name not in names:
            continue
        if vendor == "sqlite":
            schema_editor.execute(f"DROP VIEW IF EXISTS {name}")
        schema_editor.execute(sql)


def drop_views(schema_editor, names=None) -> None:
    for name in names if names is not None else VIEWS:
        schema_editor.execute(f"DROP VIEW IF EXISTS {name}")
