"""The lookup views return what Exim and Dovecot need, built from the CLI alone, on every database."""

import pytest
from django.db import connection

from accounts.models import Mailbox
from mailserver.lookup import VIEWS
from tests.dbutil import view_rows

pytestmark = pytest.mark.django_db


def test_domains_view_lists_domains_and_domain_aliases_with_targets(directory):
    rows = {r["domain"]: r for r in view_rows("lookup_domains_v1")}
    assert rows == {
        "example.org": {
            "domain": "example.org",
            "target": "example.org",
            "is_alias": 0,
            "active": 1,
            "logins_enabled": 1,
        },
        "quiet.example": {
            "domain": "quiet.example",
            "target": "quiet.example",
            "is_alias": 0,
            "active": 1,
            "logins_enabled": 0,
        },
        "off.example": {
            "domain": "off.example",
            "target": "off.example",
            "is_alias": 0,
            "active": 0,
            "logins_enabled": 1,
        },
        "example.net": {
            "domain": "example.net",
            "target": "example.org",
            "is_alias": 1,
            "active": 1,
            "logins_enabled": 1,
        },
        "paused.example": {
            "domain": "paused.example",
            "target": "example.org",
            "is_alias": 1,
            "active": 0,
            "logins_enabled": 1,
        },
    }


def test_exim_mailbox_view_has_routing_data_and_no_hash(directory):
    rows = {r["address"]: r for r in view_rows("lookup_mailboxes_v1")}
    assert set(rows) == {
        "alice@example.org",
        "bob@example.org",
        "gone@example.org",
        "carol@quiet.example",
        "dave@off.example",
        "ann@example.org",
    }
    assert rows["bob@example.org"] == {
        "address": "bob@example.org",
        "domain": "example.org",
        "local_part": "bob",
        "maildir": "example.org/bob/",
        "quota_bytes": 250 * 1024 * 1024,
        "active": 1,
        "may_relay": 0,
        "filtering": 0,
        "over_quota": 0,
        "usage_bytes": 0,
    }
    # the layout Dovecot reads is the one the panel's mail-store jobs use
    assert rows["bob@example.org"]["maildir"] == Mailbox.objects.get(address="bob@example.org").maildir
    assert rows["alice@example.org"]["quota_bytes"] == 100 * 1024 * 1024  # the domain default
    assert rows["gone@example.org"]["active"] == 0
    assert rows["dave@off.example"]["active"] == 0  # the domain is off
    assert rows["carol@quiet.example"]["quota_bytes"] == 0
    assert "password" not in rows["alice@example.org"]


def test_dovecot_view_folds_the_domain_logins_flag_into_login_allowed(directory):
    rows = {r["address"]: r for r in view_rows("lookup_dovecot_users_v1")}
    assert rows["alice@example.org"]["login_allowed"] == 1
    assert rows["alice@example.org"]["quota_rule"] == "*:storage=104857600B"
    assert rows["alice@example.org"]["password"].startswith("{ARGON2ID}$argon2id$")
    assert rows["carol@quiet.example"]["login_allowed"] == 0  # logins off for the domain
    assert rows["gone@example.org"]["login_allowed"] == 0  # inactive mailbox
    assert rows["dave@off.example"]["login_allowed"] == 0  # inactive domain
    assert rows["carol@quiet.example"]["quota_rule"] == "*:storage=0B"  # unlimited


def test_an_unusable_password_never_allows_login(directory):
    Mailbox.objects.filter(address="alice@example.org").update(password="!")
    rows = {r["address"]: r for r in view_rows("lookup_dovecot_users_v1")}
    assert rows["alice@example.org"]["login_allowed"] == 0


def test_alias_view_has_destinations_and_the_catchall(directory):
    rows = {r["address"]: r for r in view_rows("lookup_aliases_v1")}
    assert rows == {
        "info@example.org": {
            "address": "info@example.org",
            "domain": "example.org",
            "local_part": "info",
            "destinations": "alice@example.org, bob@example.org",
            "active": 1,
            "is_catchall": 0,
        },
        "@example.org": {
            "address": "@example.org",
            "domain": "example.org",
            "local_part": "",
            "destinations": "alice@example.org",
            "active": 1,
            "is_catchall": 1,
        },
        "old@example.org": {
            "address": "old@example.org",
            "domain": "example.org",
            "local_part": "old",
            "destinations": "bob@example.org",
            "active": 0,
            "is_catchall": 0,
        },
    }


def test_vacation_view_lists_only_replies_active_today(directory):
    rows = {r["address"]: r for r in view_rows("lookup_vacations_v1")}
    assert set(rows) == {"alice@example.org", "bob@example.org"}  # carol starts later, ann is off
    assert rows["alice@example.org"]["subject"] == "Weg"
    assert rows["alice@example.org"]["body"] == "Zurück am Montag"
    assert rows["alice@example.org"]["interval_seconds"] == 7 * 86400
    assert rows["bob@example.org"]["mode"] == "default" and rows["bob@example.org"]["subject"] == ""


def test_every_view_has_the_documented_columns(directory):
    with connection.cursor() as cursor:
        for view, columns in VIEWS.items():
            cursor.execute(f"SELECT * FROM {view} WHERE 1 = 0")  # noqa: S608
            assert [c[0] for c in cursor.description] == columns


def test_hostile_keys_match_nothing_but_their_literal_text(directory):
    with connection.cursor() as cursor:
        for key in [
            "' OR '1'='1",
            "%@example.org",
            "_lice@example.org",
            "alice@example.org' --",
            "alíce@example.org",
            "alice@exämple.org",
            "alice @example.org",
            "alice@example.org\t",
        ]:
            cursor.execute("SELECT address FROM lookup_mailboxes_v1 WHERE address = %s", [key])
            assert list(cursor.fetchall()) == [], key
