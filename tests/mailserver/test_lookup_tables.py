"""Lookup contract version 2: one row per key, kept by triggers in step with the directory.

Every test of the suite that writes to the database ends with the in-step check
(tests/conftest.py), so every service, importer, bulk path and command is covered by it; the
tests here show what the rows say, that writes which bypass the services are followed too, and
that the check itself sees a table out of step."""

import pytest
from django.db import connection

from accounts.models import Mailbox
from domains import services as domain_services
from domains.models import Domain
from mailserver.lookup import V2_TABLES, fill_sql
from tests.dbutil import view_rows
from tests.mailserver.conftest import cli
from tests.mailserver.lookup_step import out_of_step

pytestmark = pytest.mark.django_db


def rows(table: str) -> dict[str, dict]:
    key = "domain" if table == "lookup_domains_v2" else "address"
    return {r[key]: r for r in view_rows(table)}


def test_one_row_per_address_says_everything_exim_decides(directory):
    addresses = rows("lookup_addresses_v2")
    assert set(addresses) == {
        "alice@example.org",
        "bob@example.org",
        "gone@example.org",
        "carol@quiet.example",
        "dave@off.example",
        "ann@example.org",
        "info@example.org",
        "@example.org",
        "old@example.org",
    }
    alice, bob, gone = addresses["alice@example.org"], addresses["bob@example.org"], addresses["gone@example.org"]
    assert (alice["deliver"], alice["disabled"], alice["may_relay"], alice["filtering"]) == (1, 0, 1, 1)
    assert (alice["vacation_mode"], alice["vacation_subject"], alice["vacation_body"]) == (
        "custom",
        "Weg",
        "Zurück am Montag",
    )
    assert (bob["may_relay"], bob["filtering"], bob["quota_bytes"], bob["vacation_mode"]) == (
        0,
        0,
        250 * 2**20,
        "default",
    )
    assert (gone["deliver"], gone["disabled"]) == (0, 1)
    dave = addresses["dave@off.example"]  # a mailbox of an inactive domain delivers nothing
    assert (dave["deliver"], dave["disabled"], dave["may_relay"]) == (0, 1, 0)
    assert addresses["info@example.org"]["alias_to"] == "alice@example.org, bob@example.org"
    assert addresses["@example.org"]["alias_to"] == "alice@example.org"
    assert addresses["old@example.org"]["alias_to"] == ""  # an inactive alias routes nothing
    assert addresses["ann@example.org"]["vacation_mode"] == ""  # switched off


def test_the_tables_say_what_the_version_1_views_say(directory):
    """A differential: the routing facts of version 2 equal version 1's, key by key."""
    v2 = rows("lookup_addresses_v2")
    for row in view_rows("lookup_mailboxes_v1"):
        mine = v2[row["address"]]
        assert mine["deliver"] == row["active"] and mine["disabled"] == 1 - row["active"], row
        assert mine["over_quota"] == row["active"] * row["over_quota"], row
        assert mine["may_relay"] == row["active"] * row["may_relay"], row
        if row["active"]:
            assert (mine["filtering"], mine["quota_bytes"]) == (row["filtering"], row["quota_bytes"]), row
    for row in view_rows("lookup_aliases_v1"):
        assert v2[row["address"]]["alias_to"] == (row["destinations"] if row["active"] else ""), row
    on_vacation = {r["address"] for r in view_rows("lookup_vacations_v1")}
    assert on_vacation == {"alice@example.org", "bob@example.org"}
    assert {a for a, r in v2.items() if r["vacation_mode"]} == on_vacation | {
        "carol@quiet.example"
    }  # (dates: query time)
    domains = rows("lookup_domains_v2")
    for row in view_rows("lookup_domains_v1"):
        assert {k: domains[row["domain"]][k] for k in row} == row
    logins = rows("lookup_logins_v2")
    for row in view_rows("lookup_dovecot_users_v1"):
        mine = logins[row["address"]]
        assert (mine["password"], mine["login_allowed"], mine["maildir"], mine["quota_rule"]) == (
            row["password"],
            row["login_allowed"],
            row["maildir"],
            row["quota_rule"],
        )


def test_switching_a_domain_off_and_on_changes_every_row_of_it(directory):
    domain = Domain.objects.get(name="example.org")
    domain_services.domain_update(acting_user=None, domain=domain, origin="test", active=False)
    addresses, logins, domains = rows("lookup_addresses_v2"), rows("lookup_logins_v2"), rows("lookup_domains_v2")
    assert addresses["alice@example.org"]["deliver"] == 0 and addresses["info@example.org"]["alias_to"] == ""
    assert logins["alice@example.org"]["login_allowed"] == 0
    assert domains["example.org"]["active"] == 0 and domains["example.net"]["active"] == 0  # its alias too
    assert out_of_step() == {}
    domain_services.domain_update(acting_user=None, domain=domain, origin="test", active=True)
    assert rows("lookup_addresses_v2")["alice@example.org"]["deliver"] == 1
    assert rows("lookup_domains_v2")["example.net"]["active"] == 1


def test_writes_that_bypass_the_services_are_followed_too(directory):
    Mailbox.objects.filter(address="alice@example.org").update(over_quota=True, usage_bytes=123)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE aliases_alias SET destinations = 'bob@example.org' WHERE address = 'info@example.org'")
        cursor.execute("DELETE FROM vacation_vacation")
    addresses = rows("lookup_addresses_v2")
    assert (addresses["alice@example.org"]["over_quota"], addresses["alice@example.org"]["usage_bytes"]) == (1, 123)
    assert addresses["info@example.org"]["alias_to"] == "bob@example.org"
    assert not any(r["vacation_mode"] for r in addresses.values())
    Mailbox.objects.filter(address="gone@example.org").delete()
    assert "gone@example.org" not in rows("lookup_addresses_v2")
    assert "gone@example.org" not in rows("lookup_logins_v2")


def test_a_mailbox_write_the_lookups_do_not_read_leaves_their_rows_alone(directory):
    """A panel login (last_login), the usage job's measurement time, a name: the mailbox's UPDATE
    trigger does not run for them (level 11), so the every-minute usage job no longer rewrites every
    mailbox's lookup rows. A marker written into the rows shows whether they were rewritten."""
    from django.utils import timezone

    def mark():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE lookup_logins_v2 SET maildir = 'marker' WHERE address = 'alice@example.org'")

    def marked() -> bool:
        return rows("lookup_logins_v2")["alice@example.org"]["maildir"] == "marker"

    alice = Mailbox.objects.filter(address="alice@example.org")
    mark()
    alice.update(last_login=timezone.now(), usage_updated_at=timezone.now(), first_name="Alice", notes="x")
    assert marked()
    alice.update(usage_bytes=4096)  # what Exim reads at RCPT: rewritten
    assert not marked() and rows("lookup_addresses_v2")["alice@example.org"]["usage_bytes"] == 4096
    mark()
    alice.update(max_sent_per_hour=None if alice.get().max_sent_per_hour else 50)  # (a nullable column)
    assert not marked() and out_of_step() == {}


def test_the_enabled_blocklists_are_one_row_that_follows_every_kind_of_write(directory):
    """What Exim reads with each recipient's domain (lookup_blocklist_set_v2) is a row the triggers
    keep: every enabled list's zone and listed answers, by zone; nothing (NULL to Exim's subquery)
    while none is enabled; through the services, QuerySet.update() and plain SQL alike."""
    from policy import services as policy
    from policy.models import DnsBlocklist

    def entries():
        with connection.cursor() as cursor:
            cursor.execute("SELECT (SELECT entries FROM lookup_blocklist_set_v2)")
            return cursor.fetchone()[0]

    assert entries() is None
    zen = policy.blocklist_add(
        acting_user=None, zone="zen.example.net", name="ZEN", answers="127.0.0.2 spam source", origin="test"
    )
    policy.blocklist_add(acting_user=None, zone="bl.example.org", name="BL", answers="127.0.0.4", origin="test")
    assert entries() == "bl.example.org=127.0.0.4:zen.example.net=127.0.0.2"
    policy.blocklist_update(acting_user=None, blocklist=zen, origin="test", enabled=False)
    assert entries() == "bl.example.org=127.0.0.4"
    DnsBlocklist.objects.update(enabled=True)
    assert entries() == "bl.example.org=127.0.0.4:zen.example.net=127.0.0.2"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE policy_dnsblocklist SET enabled = %s WHERE zone = 'bl.example.org'", [False])
    assert entries() == "zen.example.net=127.0.0.2"
    policy.blocklist_delete(acting_user=None, blocklist=zen, origin="test")
    assert entries() is None
    assert view_rows("mailserver_blocklistset") == [] and out_of_step() == {}


def test_the_trigger_guard_names_every_mailbox_column_once():
    """A new column of the mailbox must be put in one of the two lists: read by the lookup rows
    (its change rewrites them) or not."""
    from mailserver.lookup import MAILBOX_LOOKED_UP, MAILBOX_NOT_LOOKED_UP

    columns = {field.column for field in Mailbox._meta.concrete_fields}
    assert not set(MAILBOX_LOOKED_UP) & set(MAILBOX_NOT_LOOKED_UP)
    assert set(MAILBOX_LOOKED_UP) | set(MAILBOX_NOT_LOOKED_UP) == columns


def test_the_in_step_check_sees_a_table_out_of_step(directory):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE lookup_addresses_v2 SET deliver = 0 WHERE address = 'alice@example.org'")
        cursor.execute("DELETE FROM lookup_domains_v2 WHERE domain = 'example.net'")
    found = out_of_step()
    assert set(found) == {"lookup_addresses_v2", "lookup_domains_v2"}
    assert [r[0] for r in found["lookup_addresses_v2"]["extra"]] == ["alice@example.org"]
    assert [r[0] for r in found["lookup_domains_v2"]["missing"]] == ["example.net"]
    with connection.cursor() as cursor:  # the repair the migration does: fill from the sources
        for statement in fill_sql(connection.vendor):
            cursor.execute(statement)
    assert out_of_step() == {} and set(V2_TABLES) == {"lookup_domains_v2", "lookup_addresses_v2", "lookup_logins_v2"}


@pytest.mark.django_db(transaction=True)  # (MariaDB commits trigger statements by themselves)
def test_the_command_finds_a_table_without_triggers_and_rebuilds_it(directory):
    """A dump restored without its triggers (mysqldump --skip-triggers): new mailboxes never reach
    the lookup tables, `lookup_tables check` says so, and `rebuild` repairs the tables and triggers."""
    import io

    from django.core.management import CommandError, call_command

    from mailserver.lookup import drop_trigger_sql

    with connection.cursor() as cursor:
        for statement in drop_trigger_sql(connection.vendor):
            cursor.execute(statement)
    cli("mailbox", "add", "late@example.org")
    out = io.StringIO()
    with pytest.raises(CommandError, match="out of step"):
        call_command("lookup_tables", "check", stdout=out)
    assert "lookup_addresses_v2: 1 rows missing" in out.getvalue() and "late@example.org" in out.getvalue()
    call_command("lookup_tables", "rebuild", stdout=io.StringIO())
    call_command("lookup_tables", "check", stdout=out)
    cli("mailbox", "add", "later@example.org")  # the triggers are back
    assert "later@example.org" in rows("lookup_addresses_v2") and out_of_step() == {}
