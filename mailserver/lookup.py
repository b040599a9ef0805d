"""The lookup views and tables: the project's public interface to Exim and Dovecot.

Contract versions 1 (views) and 2 (tables kept by triggers), documented in
deploy/README.md; the shipped configuration reads version 2. Names and columns change
only together with the templates in deploy/, and a new version gets new names.
Every boolean column is the integer 0 or 1 on every database, so a lookup reads
the same everywhere. Each view is MERGE-able (or, for the UNION in
``lookup_domains_v1``, has the address condition pushed into each branch),
so a lookup by its key column is an indexed point query on the base tables.
"""

from accounts import totals
from mailadmin.lib import triggers

CONTRACT_VERSION = 2  # version 1's views stay for one release beside version 2's tables

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
# Version 2's tables (below): Exim's user reads the first two, Dovecot's all three, and the view
# of app passwords (read by key id, a point query on its unique index joined to the mailbox by
# primary key; the rows are the base table's own, so nothing can fall out of step).
# The sender lists (policy.models.SenderRule) are a view over their own table too, read by Exim
# by (owner, pattern) on its unique index; and the DNS blocklists (policy.models.DnsBlocklist): one
# by its zone, and all the enabled ones as one row (their (enabled, zone) index), which Exim reads in
# the same statement as the recipient's domain.
_V2_EXIM = [
    "lookup_domains_v2",
    "lookup_addresses_v2",
    "lookup_senders_v2",
    "lookup_blocklists_v2",
    "lookup_blocklist_set_v2",
    "lookup_relay_recipients_v2",
    "lookup_greylist_allow_v2",
]
_V2_DOVECOT = ["lookup_domains_v2", "lookup_addresses_v2", "lookup_logins_v2", "lookup_app_passwords_v2"]
V2_VIEWS = {
    "lookup_app_passwords_v2": ["key_id", "address", "password", "imap", "pop3", "smtp", "sieve"],
    "lookup_senders_v2": ["owner", "pattern", "action", "is_network"],
    "lookup_blocklists_v2": ["zone", "enabled", "entry", "name", "meanings"],
    "lookup_blocklist_set_v2": ["entries"],
    "lookup_relay_recipients_v2": ["address"],
    "lookup_greylist_allow_v2": ["networks", "senders"],
}
# Beyond SELECT on its views, the one write a lookup user may make: whoever reads a view here may
# read the listed columns of the base table and update the others (Dovecot records an app
# password's last use: its key id to find the row, ``last_used_at`` to compare and set).
COLUMN_GRANTS = {
    "lookup_app_passwords_v2": ("accounts_apppassword", ["key_id", "last_used_at"], ["last_used_at"]),
}
# The one table a mail server writes itself: greylisting's triplets (policy.GreylistTriplet), by
# Exim at RCPT through a third user that may read, add and change its rows and touch nothing else.
GREYLIST_TABLE = "policy_greylist"
EXIM_VIEWS = [name for name in VIEWS if name != "lookup_dovecot_users_v1"] + _V2_EXIM
DOVECOT_VIEWS = list(VIEWS) + _V2_DOVECOT

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
            "join": lambda value, order: f"GROUP_CONCAT({value} ORDER BY {order} SEPARATOR ':')",
            "bool": lambda expr: f"({expr})",
            "today": "CURRENT_DATE",
            "create": "CREATE OR REPLACE SQL SECURITY DEFINER VIEW",
        }
    if vendor == "postgresql":
        return {
            "concat": lambda *parts: "(" + " || ".join(parts) + ")",
            "join": lambda value, order: f"string_agg({value}, ':' ORDER BY {order})",
            "bool": lambda expr: f"CAST(({expr}) AS INTEGER)",
            "today": "CURRENT_DATE",
            "create": "CREATE OR REPLACE VIEW",
        }
    if vendor == "sqlite":
        return {
            "concat": lambda *parts: "(" + " || ".join(parts) + ")",
            "join": lambda value, order: f"group_concat({value}, ':')",
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


def _joined(vendor: str, value: str) -> str:
    """An aggregate of ``value`` separated by ";" (what an Exim list takes after ``<;``)."""
    if vendor == "mysql":
        return f"GROUP_CONCAT({value} ORDER BY {value} SEPARATOR ';')"
    if vendor == "postgresql":
        return f"string_agg({value}, ';' ORDER BY {value})"
    return f"group_concat({value}, ';')"


def v2_view_sql(vendor: str, level: int | None = None) -> dict[str, str]:
    """CREATE statements for version 2's views (``V2_VIEWS``) on ``vendor``, as of ``level`` (the latest)."""
    level = LEVEL if level is None else level
    d = _dialect(vendor)
    b = d["bool"]
    true, false = ("TRUE", "FALSE") if vendor == "postgresql" else ("1", "0")
    return {
        "lookup_app_passwords_v2": f"""{d["create"]} lookup_app_passwords_v2 AS
            SELECT p.key_id AS key_id, m.address AS address, p.password AS password, {b("p.imap")} AS imap,
                   {b("p.pop3")} AS pop3, {b("p.smtp")} AS smtp, {b("p.sieve")} AS sieve
              FROM accounts_apppassword p JOIN accounts_mailbox m ON m.id = p.mailbox_id""",
        "lookup_senders_v2": f"""{d["create"]} lookup_senders_v2 AS
            SELECT r.owner AS owner, r.pattern AS pattern, r.action AS action, {b("r.is_network")} AS is_network
              FROM policy_senderrule r""",
        # entry: the zone as Exim's dnslists takes it, with the answers that mean listed
        "lookup_blocklists_v2": f"""{d["create"]} lookup_blocklists_v2 AS
            SELECT b.zone AS zone, {b("b.enabled")} AS enabled, {d["concat"]("b.zone", "'='", "b.codes")} AS entry,
                   b.name AS name, b.meanings AS meanings
              FROM policy_dnsblocklist b""",
        # every enabled entry in one value, as Exim's dnslists list takes them (NULL: none): the one
        # row the triggers keep (level 12), read by its key; before, the aggregate itself
        "lookup_blocklist_set_v2": f"""{d["create"]} lookup_blocklist_set_v2 AS
            SELECT s.entries AS entries FROM {BLOCKLIST_SET} s WHERE s.id = 1"""
        if level >= 12
        else f"""{d["create"]} lookup_blocklist_set_v2 AS {_blocklist_entries(vendor)}""",
        # the addresses a relay domain takes mail for (domains.models.RelayRecipient), by address
        "lookup_relay_recipients_v2": f"""{d["create"]} lookup_relay_recipients_v2 AS
            SELECT r.address AS address FROM domains_relayrecipient r""",
        # greylisting's allow list (policy.GreylistAllow) as one row: its client networks and its
        # sender domains, each kind ";"-separated (IPv6 networks hold colons) as one value (NULL:
        # none), read on the (is_network, pattern) index
        "lookup_greylist_allow_v2": f"""{d["create"]} lookup_greylist_allow_v2 AS
            SELECT (SELECT {_joined(vendor, "g.pattern")} FROM policy_greylistallow g WHERE g.is_network = {true})
                       AS networks,
                   (SELECT {_joined(vendor, "g.pattern")} FROM policy_greylistallow g WHERE g.is_network = {false})
                       AS senders""",
    }


def _blocklist_entries(vendor: str) -> str:
    """Every enabled blocklist entry in one value (NULL: none): one row, whatever the blocklists."""
    d = _dialect(vendor)
    return f"""SELECT {d["join"](d["concat"]("b.zone", "'='", "b.codes"), "b.zone")} AS entries
              FROM policy_dnsblocklist b WHERE b.enabled = TRUE"""


def create_views(schema_editor, names=None, level: int | None = None) -> None:
    """Create (or replace) the views ``names`` (all when None) from their definitions as of ``level``.

    A migration names the views it adds: one made before a view's columns existed must not
    create that view (its base columns come with a later migration)."""
    vendor = schema_editor.connection.vendor
    for name, sql in (view_sql(vendor) | v2_view_sql(vendor, level)).items():
        if names is not None and name not in names:
            continue
        if vendor == "sqlite":
            schema_editor.execute(f"DROP VIEW IF EXISTS {name}")
        schema_editor.execute(sql)


def drop_views(schema_editor, names=None) -> None:
    for name in names if names is not None else VIEWS:
        schema_editor.execute(f"DROP VIEW IF EXISTS {name}")


# --- contract version 2: lookup tables kept by triggers --------------------------------------
#
# Version 1's views join the directory's tables at every lookup, and Exim asks one view per
# attribute. Version 2 keeps one row per key in three tables (mailserver.models), written only
# by triggers in the same transaction as every write to the tables they mirror, so that a lookup
# reads one row by its primary key, and Exim asks once per address for every attribute.
#
# What a row holds is said once, here, as a source query over the directory's tables; the
# triggers re-run it for the keys a write touched (delete the key's row, insert what the source
# gives for it), and the migration fills the tables with it. ``source_sql`` is also what the
# consistency test compares the tables with.

# The vacation reply due today, from a lookup_addresses_v2 row (at query time: no job at midnight).
# deploy/exim/00-main.conf's ADDRESS_ROW says the same (tests/mailserver/test_render.py holds them equal).
VACATION_TODAY = (
    "CASE WHEN vacation_mode <> '' AND (vacation_first_day IS NULL OR vacation_first_day <= CURRENT_DATE) "
    "AND (vacation_last_day IS NULL OR vacation_last_day >= CURRENT_DATE) THEN vacation_mode ELSE '' END"
)

V2_TABLES = {
    "lookup_domains_v2": [
        "domain",
        "target",
        "is_alias",
        "active",
        "logins_enabled",
        "domain_id",
        "max_message_bytes",
        "check_blocklists",
        "relay_host",
        "relay_port",
        "relay_verify",
        "sender_lists",
        "greylist",
        "greylist_delay",
        "greylist_window",
        "greylist_expiry",
    ],
    "lookup_addresses_v2": [
        "address",
        "domain_id",
        "deliver",
        "disabled",
        "over_quota",
        "quota_bytes",
        "usage_bytes",
        "may_relay",
        "filtering",
        "forward_to",
        "keep_copy",
        "alias_to",
        "vacation_mode",
        "vacation_subject",
        "vacation_body",
        "vacation_interval",
        "vacation_first_day",
        "vacation_last_day",
        "send_limit",
        "rcpt_limit",
        "vacation_language",
    ],
    "lookup_logins_v2": [
        "address",
        "domain_id",
        "password",
        "login_allowed",
        "maildir",
        "quota_rule",
        "app_passwords_only",
        "imap",
        "pop3",
        "smtp",
        "sieve",
    ],
}

# The schema's steps, for the migrations that install the triggers: 1 is mailserver 0004's, 2 adds
# lookup_logins_v2.app_passwords_only (0005), 3 the mailbox's protocols (0006), 4
# lookup_domains_v2.max_message_bytes (0007), 5 lookup_addresses_v2.send_limit and rcpt_limit (0009),
# 6 lookup_domains_v2.check_blocklists (0011), 7 lookup_domains_v2.relay_host, relay_port and
# relay_verify (0012), 8 lookup_domains_v2.sender_lists (0013), 9 lookup_domains_v2.greylist,
# greylist_delay, greylist_window and greylist_expiry, all three in seconds (0015), 10
# lookup_addresses_v2.vacation_language (0017), 11 the mailbox's UPDATE trigger only when a column
# the lookup rows are made of changed (0018).
# 12 the enabled DNS blocklists in one row (mailserver_blocklistset), kept by triggers on
# policy_dnsblocklist, which the view lookup_blocklist_set_v2 reads (0019).
# A migration passes its own level, so that it never refers to a column a later migration adds.
LEVEL = 12
BLOCKLIST_SET = "mailserver_blocklistset"
_ADDED_AT = {
    "vacation_language": 10,
    "app_passwords_only": 2,
    "imap": 3,
    "pop3": 3,
    "smtp": 3,
    "sieve": 3,
    "max_message_bytes": 4,
    "send_limit": 5,
    "rcpt_limit": 5,
    "check_blocklists": 6,
    "relay_host": 7,
    "relay_port": 7,
    "relay_verify": 7,
    "sender_lists": 8,
    "greylist": 9,
    "greylist_delay": 9,
    "greylist_window": 9,
    "greylist_expiry": 9,
}


def v2_columns(table: str, level: int = LEVEL) -> list[str]:
    return [c for c in V2_TABLES[table] if _ADDED_AT.get(c, 1) <= level]


# Table -> the column each kind of refresh selects rows by: its key, or the hosted domain's id.
_V2_BY = {"key": {"lookup_domains_v2": "domain"}, "domain": {}}
for _table in V2_TABLES:
    _V2_BY["key"].setdefault(_table, "address")
    _V2_BY["domain"][_table] = "domain_id"


def _v2_branches(vendor: str, level: int = LEVEL) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """Per table, its source as UNION ALL branches: (SELECT ... WHERE {where}, {kind: column})."""
    d = _dialect(vendor)
    cat, b = d["concat"], d["bool"]
    text = "CHAR" if vendor == "mysql" else "TEXT"
    live = "(m.active AND d.active)"
    usable = "(m.password <> '' AND SUBSTR(m.password, 1, 1) <> '!')"
    alias_to = "CASE WHEN a.active AND d.active THEN a.destinations ELSE '' END"
    send_limits = "".join(
        f", CASE WHEN {live} THEN COALESCE(m.{mine}, d.default_{mine}) ELSE 0 END"
        for mine in ("max_sent_per_hour", "max_recipients_per_hour")
    )
    protocols = "".join(f", {b(f'm.allow_{p}')}" for p in ("imap", "pop3", "smtp", "sieve"))
    # whether the domain or any of its mailboxes has a sender list (Exim reads none otherwise)
    has_rules = "EXISTS (SELECT 1 FROM policy_senderrule r WHERE r.domain_id = {domain})"
    # greylisting: whether, and its three times in seconds (what Exim compares with $tod_epoch)
    grey = ", {b}, {t}.greylist_delay, {t}.greylist_window_hours * 3600, {t}.greylist_expiry_days * 86400"
    return {
        "lookup_domains_v2": [
            (
                f"""SELECT d.name, d.name, 0, {b("d.active")}, {b("d.logins_enabled")}, d.id
                           {", d.max_message_bytes" if level >= 4 else ""}
                           {f", {b('d.check_blocklists')}" if level >= 6 else ""}
                           {", d.relay_host, d.relay_port, d.relay_verify" if level >= 7 else ""}
                           {f", {b(has_rules.format(domain='d.id'))}" if level >= 8 else ""}
                           {grey.format(b=b("d.greylist"), t="d") if level >= 9 else ""}
                      FROM domains_domain d WHERE {{where}}""",
                {"key": "d.name", "domain": "d.id"},
            ),
            (
                f"""SELECT a.name, t.name, 1, {b("a.active AND t.active")}, {b("t.logins_enabled")}, t.id
                           {", t.max_message_bytes" if level >= 4 else ""}
                           {f", {b('t.check_blocklists')}" if level >= 6 else ""}
                           {", t.relay_host, t.relay_port, t.relay_verify" if level >= 7 else ""}
                           {f", {b(has_rules.format(domain='t.id'))}" if level >= 8 else ""}
                           {grey.format(b=b("t.greylist"), t="t") if level >= 9 else ""}
                      FROM domains_domainalias a JOIN domains_domain t ON t.id = a.target_id WHERE {{where}}""",
                {"key": "a.name", "domain": "a.target_id"},
            ),
        ],
        "lookup_addresses_v2": [
            (
                f"""SELECT m.address, m.domain_id, {b(live)}, {b(f"NOT {live}")}, {b(f"{live} AND m.over_quota")},
                           CASE WHEN {live} THEN m.quota_bytes ELSE 0 END, m.usage_bytes,
                           {b(f"{live} AND m.may_relay")}, CASE WHEN {live} THEN {b("m.filtering")} ELSE 1 END,
                           CASE WHEN {live} THEN m.forward_to ELSE '' END,
                           {b(f"{live} AND m.forward_to <> '' AND m.forward_keep_copy")},
                           {alias_to},
                           CASE WHEN {live} AND v.mode <> 'off' THEN v.mode ELSE '' END,
                           COALESCE(v.subject, ''), COALESCE(v.body, ''), COALESCE(v.interval_days * 86400, 0),
                           v.first_day, v.last_day
                           {send_limits if level >= 5 else ""}
                           {", COALESCE(v.language, '')" if level >= 10 else ""}
                      FROM accounts_mailbox m
                      JOIN domains_domain d ON d.id = m.domain_id
                      LEFT JOIN vacation_vacation v ON v.mailbox_id = m.id
                      LEFT JOIN aliases_alias a ON a.address = m.address
                     WHERE {{where}}""",
                {"key": "m.address", "domain": "m.domain_id"},
            ),
            (
                f"""SELECT a.address, a.domain_id, 0, 0, 0, 0, 0, 0, 1, '', 0, {alias_to}, '', '', '', 0, NULL, NULL
                           {", 0, 0" if level >= 5 else ""}
                           {", ''" if level >= 10 else ""}
                      FROM aliases_alias a JOIN domains_domain d ON d.id = a.domain_id
                     WHERE {{where}} AND NOT EXISTS (SELECT 1 FROM accounts_mailbox m WHERE m.address = a.address)""",
                {"key": "a.address", "domain": "a.domain_id"},
            ),
        ],
        "lookup_logins_v2": [
            (
                f"""SELECT m.address, m.domain_id, m.password,
                           {b(f"m.active AND d.active AND d.logins_enabled AND {usable}")},
                           {cat("d.name", "'/'", "m.local_part", "'/'")},
                           {cat("'*:storage='", f"CAST(m.quota_bytes AS {text})", "'B'")}
                           {f", {b('d.require_app_passwords')}" if level >= 2 else ""}
                           {protocols if level >= 3 else ""}
                      FROM accounts_mailbox m JOIN domains_domain d ON d.id = m.domain_id WHERE {{where}}""",
                {"key": "m.address", "domain": "m.domain_id"},
            ),
        ],
    }


def source_sql(
    vendor: str, table: str, kind: str | None = None, value: str = "", when: str = "", level: int = LEVEL
) -> str:
    """The source query of ``table``: every row (``kind`` None), or the rows whose key (``kind``
    "key") or hosted domain's id ("domain") is the SQL expression ``value``, and ``when`` holds."""
    parts = []
    for sql, by in _v2_branches(vendor, level)[table]:
        where = "1 = 1" if kind is None else f"{by[kind]} = {value}"
        parts.append(sql.replace("{where}", f"{where} AND ({when})" if when else where))
    return "\nUNION ALL\n".join(parts)


def _refresh(vendor: str, level: int, table: str, kind: str, value: str, when: str = "") -> list[str]:
    column = _V2_BY[kind][table]
    columns = ", ".join(v2_columns(table, level))
    guard = f" AND ({when})" if when else ""
    return [
        f"DELETE FROM {table} WHERE {column} = {value}{guard}",
        f"INSERT INTO {table} ({columns})\n{source_sql(vendor, table, kind, value, when, level)}",
    ]


_OF_MAILBOX = "(SELECT address FROM accounts_mailbox WHERE id = {row}.mailbox_id)"
_NAME_CHANGED = "OLD.name <> NEW.name"
_ADDRESS_CHANGED = "OLD.address <> NEW.address"


def _v2_actions(level: int = LEVEL) -> dict[tuple[str, str], list[tuple[str, str, str, str]]]:
    """(base table, event) -> the refreshes it needs: (lookup table, kind, value, when)."""
    both = ["lookup_addresses_v2", "lookup_logins_v2"]
    actions = {
        ("domains_domain", "INSERT"): [("lookup_domains_v2", "key", "NEW.name", "")],
        ("domains_domain", "UPDATE"): [
            ("lookup_domains_v2", "key", "OLD.name", _NAME_CHANGED),
            (
                "lookup_domains_v2",
                "domain",
                "NEW.id",
                f"{_NAME_CHANGED} OR OLD.active <> NEW.active OR OLD.logins_enabled <> NEW.logins_enabled"
                + (" OR OLD.max_message_bytes <> NEW.max_message_bytes" if level >= 4 else "")
                + (" OR OLD.check_blocklists <> NEW.check_blocklists" if level >= 6 else "")
                + (
                    " OR OLD.relay_host <> NEW.relay_host OR OLD.relay_port <> NEW.relay_port"
                    " OR OLD.relay_verify <> NEW.relay_verify"
                    if level >= 7
                    else ""
                )
                + (
                    " OR OLD.greylist <> NEW.greylist OR OLD.greylist_delay <> NEW.greylist_delay"
                    " OR OLD.greylist_window_hours <> NEW.greylist_window_hours"
                    " OR OLD.greylist_expiry_days <> NEW.greylist_expiry_days"
                    if level >= 9
                    else ""
                ),
            ),
            (
                "lookup_addresses_v2",
                "domain",
                "NEW.id",
                "OLD.active <> NEW.active"
                + (
                    " OR OLD.default_max_sent_per_hour <> NEW.default_max_sent_per_hour"
                    " OR OLD.default_max_recipients_per_hour <> NEW.default_max_recipients_per_hour"
                    if level >= 5
                    else ""
                ),
            ),
            (
                "lookup_logins_v2",
                "domain",
                "NEW.id",
                f"{_NAME_CHANGED} OR OLD.active <> NEW.active OR OLD.logins_enabled <> NEW.logins_enabled"
                + (" OR OLD.require_app_passwords <> NEW.require_app_passwords" if level >= 2 else ""),
            ),
        ],
        ("domains_domain", "DELETE"): [
            ("lookup_domains_v2", "key", "OLD.name", ""),
            *[(table, "domain", "OLD.id", "") for table in both],
        ],
        ("domains_domainalias", "INSERT"): [("lookup_domains_v2", "key", "NEW.name", "")],
        ("domains_domainalias", "UPDATE"): [
            ("lookup_domains_v2", "key", "OLD.name", _NAME_CHANGED),
            ("lookup_domains_v2", "key", "NEW.name", ""),
        ],
        ("domains_domainalias", "DELETE"): [("lookup_domains_v2", "key", "OLD.name", "")],
        ("accounts_mailbox", "INSERT"): [(table, "key", "NEW.address", "") for table in both],
        ("accounts_mailbox", "UPDATE"): [
            *[(table, "key", "OLD.address", _ADDRESS_CHANGED) for table in both],
            *[(table, "key", "NEW.address", "") for table in both],
        ],
        ("accounts_mailbox", "DELETE"): [(table, "key", "OLD.address", "") for table in both],
        ("aliases_alias", "INSERT"): [("lookup_addresses_v2", "key", "NEW.address", "")],
        ("aliases_alias", "UPDATE"): [
            ("lookup_addresses_v2", "key", "OLD.address", _ADDRESS_CHANGED),
            ("lookup_addresses_v2", "key", "NEW.address", ""),
        ],
        ("aliases_alias", "DELETE"): [("lookup_addresses_v2", "key", "OLD.address", "")],
        ("vacation_vacation", "INSERT"): [("lookup_addresses_v2", "key", _OF_MAILBOX.format(row="NEW"), "")],
        ("vacation_vacation", "UPDATE"): [
            ("lookup_addresses_v2", "key", _OF_MAILBOX.format(row="OLD"), "OLD.mailbox_id <> NEW.mailbox_id"),
            ("lookup_addresses_v2", "key", _OF_MAILBOX.format(row="NEW"), ""),
        ],
        ("vacation_vacation", "DELETE"): [("lookup_addresses_v2", "key", _OF_MAILBOX.format(row="OLD"), "")],
    }
    if level >= 8:  # a domain's first sender-list entry, or its last one gone
        actions[("policy_senderrule", "INSERT")] = [("lookup_domains_v2", "domain", "NEW.domain_id", "")]
        actions[("policy_senderrule", "DELETE")] = [("lookup_domains_v2", "domain", "OLD.domain_id", "")]
    return actions


# The columns of accounts_mailbox the lookup rows are made of, and those they are not (level 11):
# an UPDATE that changes only the latter leaves the lookup rows alone. A panel login writes
# last_login, and the usage job writes usage_updated_at on every mailbox at every run (every
# minute): each rewrote both lookup rows of every mailbox (20,000 rows deleted and inserted a run
# at 10,000 mailboxes, all of it replicated; a run where nothing changed took 0.79 s instead of
# 0.60 on PostgreSQL, bench/usage.py). tests/mailserver/test_lookup_tables.py holds the two lists
# to the model.
MAILBOX_LOOKED_UP = (
    "id", "address", "domain_id", "local_part", "password", "quota_bytes", "usage_bytes", "over_quota", "active",
    "may_relay", "filtering", "allow_imap", "allow_pop3", "allow_smtp", "allow_sieve", "max_sent_per_hour",
    "max_recipients_per_hour", "forward_to", "forward_keep_copy",
)  # fmt: skip
MAILBOX_NOT_LOOKED_UP = (
    "last_login", "is_superuser", "first_name", "last_name", "phone", "other_email", "notes", "session_epoch",
    "message_count", "inbox_changed_at", "usage_updated_at", "created", "updated",
)  # fmt: skip


def _trigger_guard(vendor: str, table: str, event: str, level: int) -> str:
    """When the trigger of ``table`` and ``event`` runs at all ("": always)."""
    if level < 11 or (table, event) != ("accounts_mailbox", "UPDATE"):
        return ""
    return triggers.changed(vendor, MAILBOX_LOOKED_UP)


def _trigger_name(table: str, event: str) -> str:
    return f"lookup_v2_{table}_{event.lower()}"


# The enabled blocklists' row (level 12): any change to a blocklist writes it again, whole.
_BLOCKLIST_EVENTS = ("INSERT", "UPDATE", "DELETE")


# (No row while none is enabled: the view then has none either, which Exim's subquery reads as NULL.)
def _blocklist_set_source(vendor: str) -> str:
    return f"SELECT 1, s.entries FROM ({_blocklist_entries(vendor)}) s WHERE s.entries IS NOT NULL"


def _blocklist_set_refresh(vendor: str) -> list[str]:
    insert = f"INSERT INTO {BLOCKLIST_SET} (id, entries) {_blocklist_set_source(vendor)}"
    return [f"DELETE FROM {BLOCKLIST_SET}", insert]


def trigger_sql(vendor: str, level: int = LEVEL) -> list[str]:
    """The statements that create every v2 trigger on ``vendor`` (and, on PostgreSQL, its function)."""
    statements = []
    for (table, event), actions in _v2_actions(level).items():
        body = [s for action in actions for s in _refresh(vendor, level, *action)]
        guard = _trigger_guard(vendor, table, event, level)
        statements += triggers.create_trigger(vendor, _trigger_name(table, event), table, event, body, guard)
    for event in _BLOCKLIST_EVENTS if level >= 12 else ():
        body = _blocklist_set_refresh(vendor)
        name = _trigger_name("policy_dnsblocklist", event)
        statements += triggers.create_trigger(vendor, name, "policy_dnsblocklist", event, body)
    return statements


def drop_trigger_sql(vendor: str) -> list[str]:
    named = [*_v2_actions(), *(("policy_dnsblocklist", event) for event in _BLOCKLIST_EVENTS)]
    return [s for table, event in named for s in triggers.drop_trigger(vendor, _trigger_name(table, event), table)]


def fill_sql(vendor: str, level: int = LEVEL) -> list[str]:
    """Empty every v2 table and fill it from its source (the migration; a repair after a restore)."""
    statements = []
    for table in V2_TABLES:
        columns = ", ".join(v2_columns(table, level))
        statements += [
            f"DELETE FROM {table}",
            f"INSERT INTO {table} ({columns})\n{source_sql(vendor, table, level=level)}",
        ]
    return statements + (_blocklist_set_refresh(vendor) if level >= 12 else [])


def install_v2(schema_editor, level: int = LEVEL) -> None:
    """Make the triggers again and refill the tables, as of the migration's ``level``."""
    vendor = schema_editor.connection.vendor
    for statement in drop_trigger_sql(vendor) + trigger_sql(vendor, level) + fill_sql(vendor, level):
        schema_editor.execute(statement, params=None)


def uninstall_v2(schema_editor) -> None:
    for statement in drop_trigger_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def _comparable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def out_of_step(connection) -> dict[str, dict]:
    """Table -> {"missing": rows its source has and it lacks, "extra": the reverse}; empty when
    every v2 table says exactly what its source says (`manage.py lookup_tables check`), and so do
    the domains' mailbox totals (``accounts.totals``, kept by triggers the same way)."""
    found = {}
    if diff := totals.out_of_step(connection):
        found[totals.TABLE] = diff
    with connection.cursor() as cursor:
        for table, columns in V2_TABLES.items():
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608 - names from V2_TABLES
            stored = {tuple(_comparable(v) for v in row) for row in cursor.fetchall()}
            cursor.execute(source_sql(connection.vendor, table))
            wanted = {tuple(_comparable(v) for v in row) for row in cursor.fetchall()}
            if stored != wanted:
                found[table] = {"missing": sorted(wanted - stored, key=str), "extra": sorted(stored - wanted, key=str)}
        cursor.execute(f"SELECT id, entries FROM {BLOCKLIST_SET}")  # noqa: S608 - a constant name
        stored = set(cursor.fetchall())
        cursor.execute(_blocklist_set_source(connection.vendor))
        wanted = set(cursor.fetchall())
        if stored != wanted:
            found[BLOCKLIST_SET] = {"missing": sorted(wanted - stored), "extra": sorted(stored - wanted)}
    return found


def rebuild(connection) -> None:
    """(Re)create the triggers and fill every v2 table from its source: after restoring a dump
    made without triggers, for instance; the domains' mailbox totals too (``accounts.totals``). On
    MariaDB a trigger statement commits by itself (DDL), and CREATE OR REPLACE leaves no moment
    without the trigger; the tables are filled in one transaction after it on every database."""
    from django.db import transaction

    vendor = connection.vendor
    triggers = trigger_sql(vendor) + totals.trigger_sql(vendor)
    if vendor != "mysql":
        triggers = drop_trigger_sql(vendor) + totals.drop_trigger_sql(vendor) + triggers
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in triggers if vendor != "mysql" else []:
            cursor.execute(statement)
    with connection.cursor() as cursor:
        for statement in triggers if vendor == "mysql" else []:
            cursor.execute(statement)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in fill_sql(vendor) + totals.fill_sql():
            cursor.execute(statement)
