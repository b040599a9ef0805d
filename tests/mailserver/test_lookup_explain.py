"""Every lookup is an indexed point query: read the database's own plan and fail on a full scan.

MariaDB: EXPLAIN FORMAT=JSON; no base table may be read with access type ALL or
a full index scan. The UNION in lookup_domains_v1 is materialised per lookup,
which is fine as long as the key condition is pushed into each branch (each
branch then reads one row by a unique index) - that is what this checks.
PostgreSQL: EXPLAIN (FORMAT JSON) with enable_seqscan off (on small tables the
planner prefers a sequential scan even when an index would do; with it off, a
Seq Scan in the plan means no index can serve the query). SQLite: EXPLAIN
QUERY PLAN must SEARCH, never SCAN, a base table.
"""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import AppPassword, Mailbox
from aliases.models import Alias
from domains.models import Domain, DomainAlias, RelayRecipient
from mailserver.lookup import V2_TABLES, source_sql
from policy.models import DnsBlocklist, GreylistAllow, GreylistTriplet, SenderRule
from tests.dbutil import shared_world
from vacation.models import Vacation

pytestmark = pytest.mark.django_db

# The lookups the shipped configuration makes (by key, as Exim and Dovecot do).
LOOKUPS = [
    (
        "lookup_domains_v1",
        "SELECT target, is_alias FROM lookup_domains_v1 WHERE domain = %s AND active = 1",
        "d7.example",
    ),
    ("lookup_domains_v1", "SELECT target FROM lookup_domains_v1 WHERE domain = %s AND is_alias = 1", "alias7.example"),
    (
        "lookup_mailboxes_v1",
        "SELECT maildir, over_quota FROM lookup_mailboxes_v1 WHERE address = %s AND active = 1",
        "u7@d7.example",
    ),
    (
        "lookup_dovecot_users_v1",
        "SELECT address, password FROM lookup_dovecot_users_v1 WHERE address = %s AND login_allowed = 1",
        "u7@d7.example",
    ),
    (
        "lookup_dovecot_users_v1",
        "SELECT maildir, quota_rule FROM lookup_dovecot_users_v1 WHERE address = %s",
        "u7@d7.example",
    ),
    (
        "lookup_aliases_v1",
        "SELECT destinations FROM lookup_aliases_v1 WHERE address = %s AND active = 1",
        "a7@d7.example",
    ),
    (
        "lookup_aliases_v1",
        "SELECT destinations FROM lookup_aliases_v1 WHERE address = %s AND active = 1",
        "@d7.example",
    ),
    (
        "lookup_vacations_v1",
        "SELECT subject, body, interval_seconds FROM lookup_vacations_v1 WHERE address = %s",
        "u7@d7.example",
    ),
    # contract v2: one row by primary key (the shipped configuration's, with the vacation dates)
    (
        "lookup_domains_v2",
        "SELECT target FROM lookup_domains_v2 WHERE domain = %s AND active = 1 AND relay_host = ''",
        "alias7.example",
    ),
    # a relay (backup MX) domain's row, and its relay list (the address or @domain)
    (
        "lookup_domains_v2",
        "SELECT relay_host, relay_port, relay_verify FROM lookup_domains_v2 "
        "WHERE domain = %s AND active = 1 AND relay_host <> ''",
        "relay7.example",
    ),
    (
        "lookup_relay_recipients_v2",
        "SELECT 1 FROM lookup_relay_recipients_v2 WHERE address IN (%s, '@relay7.example')",
        "r7@relay7.example",
    ),
    # 10-acl.conf's size limit, DNS blocklists and sender-list flag of a recipient's domain at RCPT (one statement, with
    # the enabled blocklists on their (enabled, zone) index), and its size limit at DATA
    (
        "lookup_domains_v2",
        "SELECT max_message_bytes, check_blocklists, sender_lists,"
        " greylist, greylist_delay, greylist_window, greylist_expiry,"
        " (SELECT entries FROM lookup_blocklist_set_v2) AS blocklists FROM lookup_domains_v2 WHERE domain = %s",
        "d7.example",
    ),
    (
        "lookup_domains_v2",
        "SELECT 1 FROM lookup_domains_v2 WHERE domain = %s AND max_message_bytes > 0 AND max_message_bytes < 1500000",
        "alias7.example",
    ),
    (
        "lookup_addresses_v2",
        "SELECT deliver, alias_to, CASE WHEN vacation_mode <> '' AND (vacation_first_day IS NULL OR "
        "vacation_first_day <= CURRENT_DATE) THEN vacation_mode ELSE '' END"
        " FROM lookup_addresses_v2 WHERE address = %s",
        "u7@d7.example",
    ),
    ("lookup_addresses_v2", "SELECT alias_to FROM lookup_addresses_v2 WHERE address = %s", "@d7.example"),
    ("lookup_logins_v2", "SELECT password, login_allowed FROM lookup_logins_v2 WHERE address = %s", "u7@d7.example"),
    # 10-acl.conf's sender lists: the entries naming the sender, and the refused networks
    (
        "lookup_senders_v2",
        "SELECT action FROM lookup_senders_v2 WHERE owner IN (%s, '@d7.example') "
        "AND pattern IN ('x1@spam1.example', '@spam1.example')",
        "u7@d7.example",
    ),
    (
        "lookup_senders_v2",
        "SELECT pattern FROM lookup_senders_v2 WHERE owner IN (%s, '@d7.example') AND is_network = 1",
        "u7@d7.example",
    ),
    # 10-acl.conf's DNS blocklists: a listing list's name and meanings by its zone
    ("lookup_blocklists_v2", "SELECT meanings FROM lookup_blocklists_v2 WHERE zone = %s", "l7.example.net"),
    ("lookup_blocklists_v2", "SELECT name FROM lookup_blocklists_v2 WHERE zone = %s", "l7.example.net"),
    # 10-acl.conf's greylisting: a triplet by its key (read through greylisting's own user)
    ("policy_greylist", "SELECT first_seen, last_seen, passed FROM policy_greylist WHERE triplet = %s", "T00777"),
    # directory.lua's app password lookup (by the key id a typed password starts with) and its last-use write
    (
        "lookup_app_passwords_v2",
        "SELECT address, password, imap, pop3, smtp, sieve FROM lookup_app_passwords_v2 WHERE key_id = %s",
        "key00777",
    ),
]


def _directory():
    """A few thousand rows, so a plan that scans would show it (made once for the module's tests:
    they read it, and what one writes is rolled back before the next)."""
    domains = Domain.objects.bulk_create(Domain(name=f"d{i}.example") for i in range(200))
    DomainAlias.objects.bulk_create(DomainAlias(name=f"alias{i}.example", target=d) for i, d in enumerate(domains))
    Domain.objects.filter(name="d7.example").update(max_message_bytes=1048576)  # (its rows then match DATA's check)
    boxes = Mailbox.objects.bulk_create(
        Mailbox(domain=d, local_part=f"u{j}", address=f"u{j}@{d.name}", password="{PLAIN}x")
        for d in domains
        for j in range(10)
    )
    Alias.objects.bulk_create(
        Alias(domain=d, local_part=lp, address=f"{lp}@{d.name}", destinations=f"u1@{d.name}")
        for d in domains
        for lp in ("a1", "a7", "")
    )
    Vacation.objects.bulk_create(Vacation(mailbox=m, mode="default") for m in boxes[::7])
    AppPassword.objects.bulk_create(
        AppPassword(mailbox=m, name=f"app {k}", key_id=f"key{i * 3 + k:05d}", password="{SSHA512}x", imap=True)
        for i, m in enumerate(boxes)
        for k in range(3)
    )
    SenderRule.objects.bulk_create(
        SenderRule(domain=m.domain, mailbox=m, owner=m.address, pattern=f"x{k}@spam{k}.example", action="deny")
        for m in boxes
        for k in range(3)
    )
    SenderRule.objects.bulk_create(
        SenderRule(domain=d, owner=f"@{d.name}", pattern=f"10.{i % 250}.0.0/24", is_network=True, action="deny")
        for i, d in enumerate(domains)
    )
    relays = Domain.objects.bulk_create(
        Domain(name=f"relay{i}.example", relay_host="mx.example.com") for i in range(50)
    )
    RelayRecipient.objects.bulk_create(
        RelayRecipient(domain=d, address=f"r{j}@{d.name}") for d in relays for j in range(10)
    )
    DnsBlocklist.objects.bulk_create(  # (the most there may be; one enabled)
        DnsBlocklist(zone=f"l{i}.example.net", name=f"L{i}", answers="127.0.0.2", codes="127.0.0.2", enabled=i == 7)
        for i in range(20)
    )
    GreylistAllow.objects.bulk_create(GreylistAllow(pattern=f"10.{i}.0.0/16", is_network=True) for i in range(200))
    GreylistAllow.objects.bulk_create(GreylistAllow(pattern=f"sender{i}.example") for i in range(5))
    GreylistTriplet.objects.bulk_create(
        GreylistTriplet(
            triplet=f"T{i:05d}",
            domain=f"d{i % 200}.example",
            client="192.0.2.0/24",
            sender=f"s{i}@x.example",
            recipient=f"u1@d{i % 200}.example",
            first_seen=i,
            last_seen=i,
            passed=i % 2,
        )
        for i in range(2000)
    )
    if connection.vendor != "mysql":  # (on MariaDB, ANALYZE TABLE would commit the test's transaction)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


directory = shared_world(_directory)


def _mysql_scans(node, found):
    if isinstance(node, dict):
        table = node.get("table") if isinstance(node.get("table"), dict) else None
        if table and not table.get("table_name", "").startswith("<") and table.get("access_type") in ("ALL", "index"):
            found.append(f"{table['table_name']}: {table['access_type']}")
        for value in node.values():
            _mysql_scans(value, found)
    elif isinstance(node, list):
        for value in node:
            _mysql_scans(value, found)
    return found


def _pg_scans(plan, found):
    if plan.get("Node Type") == "Seq Scan":
        found.append(f"{plan.get('Relation Name')}: Seq Scan")
    for child in plan.get("Plans", []):
        _pg_scans(child, found)
    return found


def _sqlite_scans(rows: list[str]) -> list[str]:
    """SCANs of base tables: not of the one-row result a subquery or view was computed into
    (a CO-ROUTINE or MATERIALIZE step of the same plan, which itself must SEARCH its tables)."""
    computed = {r.split()[-1] for r in rows if r.startswith(("CO-ROUTINE", "MATERIALIZE"))}
    return [r for r in rows if r.startswith("SCAN") and "CONSTANT ROW" not in r and r.split()[1] not in computed]


def full_scans(sql: str, key) -> tuple[list[str], str]:
    return plan_scans(sql, [key] * sql.count("%s"))


def plan_scans(sql: str, params: list) -> tuple[list[str], str]:
    """Full scans of base tables in the database's plan of ``sql``, and the plan."""
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("EXPLAIN FORMAT=JSON " + sql, params)
            plan = json.loads(cursor.fetchone()[0])
            return _mysql_scans(plan, []), json.dumps(plan, indent=1)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            raw = cursor.fetchone()[0]
            plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
            return _pg_scans(plan, []), json.dumps(plan, indent=1)
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        rows = [row[-1] for row in cursor.fetchall()]
        return _sqlite_scans(rows), "\n".join(rows)


@pytest.mark.parametrize("view, sql, key", LOOKUPS, ids=[f"{v}-{k}" for v, _, k in LOOKUPS])
def test_each_lookup_is_an_indexed_point_query(directory, view, sql, key):
    scans, plan = full_scans(sql, key)
    assert scans == [], f"{view} lookup scans {scans}:\n{plan}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        assert len(cursor.fetchall()) == 1


# What the triggers run for each write: the source of a lookup table for one key or one domain.
REFRESHES = [
    (table, kind, "u7@d7.example" if kind == "key" and table != "lookup_domains_v2" else "d7.example")
    for table in V2_TABLES
    for kind in ("key", "domain")
]


@pytest.mark.parametrize("table, kind, value", REFRESHES, ids=[f"{t}-{k}" for t, k, _ in REFRESHES])
def test_each_trigger_refresh_reads_by_index(directory, table, kind, value):
    """A write to one mailbox refreshes its rows by index: bulk work stays linear."""
    if kind == "domain":
        value = Domain.objects.get(name=value).pk
    sql = source_sql(connection.vendor, table, kind, "%s")
    scans, plan = full_scans(sql, value)
    assert scans == [], f"{table} refresh by {kind} scans {scans}:\n{plan}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [value] * sql.count("%s"))
        assert cursor.fetchall()


def test_recording_an_app_passwords_last_use_reads_by_index(directory):
    """directory.lua's UPDATE of last_used_at finds its row by the key id's unique index."""
    sql = (
        "UPDATE accounts_apppassword SET last_used_at = %s WHERE key_id = %s"
        " AND (last_used_at IS NULL OR last_used_at < %s)"
    )
    params = ["2026-01-02 03:04:05", "key00777", "2026-01-02 02:59:05"]
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("EXPLAIN FORMAT=JSON " + sql, params)
            plan = cursor.fetchone()[0]
            assert '"access_type": "const"' in plan or '"access_type": "range"' in plan, plan
        elif connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            raw = cursor.fetchone()[0]
            plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
            assert _pg_scans(plan, []) == [], plan
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            rows = [row[-1] for row in cursor.fetchall()]
            assert rows and all(r.startswith("SEARCH") for r in rows), rows
        cursor.execute(sql, params)
        assert cursor.rowcount == 1


def test_greylisting_reads_its_allow_list_as_one_row_each_kind_by_index(directory):
    """10-acl.conf's greylisting allow list: one row, the networks and the sender domains each as one
    value, each kind read on the (is_network, pattern) index: its entries and no others."""
    sql = "SELECT networks, senders FROM lookup_greylist_allow_v2"
    scans, plan = plan_scans(sql, [])
    assert scans == [], f"{sql} scans {scans}:\n{plan}"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        [(networks, senders)] = cursor.fetchall()
    assert sorted(networks.split(";")) == sorted(f"10.{i}.0.0/16" for i in range(200))
    assert sorted(senders.split(";")) == [f"sender{i}.example" for i in range(5)]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE policy_greylist SET last_seen = 5, passed = 1 WHERE triplet = %s",
        "UPDATE policy_greylist SET first_seen = 5, last_seen = 5, passed = 0 WHERE triplet = %s",
    ],
    ids=["pass", "again"],
)
def test_greylisting_writes_a_triplet_by_its_key(directory, sql):
    """Exim's UPDATEs of a triplet find their row by the primary key (the expiry job's deletes by
    domain and last use have their own indexes)."""
    scans, plan = plan_scans(sql, ["T00777"])
    assert scans == [], plan
    with connection.cursor() as cursor:
        cursor.execute(sql, ["T00777"])
        assert cursor.rowcount == 1


def test_the_checker_sees_a_full_scan():
    """The test above can fail: an unindexed condition is reported as a scan."""
    Domain.objects.bulk_create(Domain(name=f"scan{i}.example") for i in range(50))
    scans, plan = full_scans("SELECT domain FROM lookup_domains_v1 WHERE logins_enabled = %s", "1")
    assert scans, plan


def _exim_macro(name: str) -> str:
    """A macro of the shipped Exim configuration, its continued lines joined."""
    text = (Path(settings.BASE_DIR) / "deploy" / "exim" / "00-main.conf").read_text().replace("\\\n", " ")
    return " ".join(re.search(rf"^{name} = (.*)$", text, re.MULTILINE).group(1).split())


@pytest.mark.vendors("mysql", "postgresql")
def test_a_replicas_answer_is_compared_with_the_primarys_by_keys(directory):
    """10-acl.conf's GAP_ROW (asked of a replica and of the primary before a recipient is refused on a
    mail host that reads replicas): the domain by its key, the address and catch-all by theirs."""
    sql = (
        _exim_macro("GAP_ROW")
        .replace("LOOKUP_STR'${LOOKUP_QUOTE:${lc:$local_part}}@'", "%s")
        .replace("LOOKUP_STR'${LOOKUP_QUOTE:$domain}'", "%s")
    )
    assert "$" not in sql, sql
    params = ["u7@", "alias7.example"]
    scans, plan = plan_scans(sql, params)
    assert scans == [], plan
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # the domain alias stands for d7.example: its mailbox u7 and its catch-all (alias "") are both read
    assert sorted(row[3] for row in rows) == ["@d7.example", "u7@d7.example"], rows
