"""PostfixAdmin: MariaDB and PostgreSQL sources, live and dumped, with its hash forms."""

import hashlib

import pytest
from passlib.hash import bcrypt, md5_crypt, sha512_crypt

from accounts.models import Mailbox
from domains.models import AdminGrant
from imports.postfixadmin import PostfixAdminImporter
from imports.sqlsource import open_source
from mailadmin.models import AuditEntry
from tests.dbutil import login_ok, lookup

MB = 1024 * 1024
BOOL = {"mysql": "TINYINT(1)", "postgresql": "BOOLEAN"}
TIME = {"mysql": "DATETIME", "postgresql": "TIMESTAMP"}


def schema(vendor):
    b, t = BOOL[vendor], TIME[vendor]
    return f"""
CREATE TABLE domain (domain VARCHAR(255) PRIMARY KEY, description VARCHAR(255) NOT NULL DEFAULT '',
  aliases INT NOT NULL DEFAULT 0, mailboxes INT NOT NULL DEFAULT 0, maxquota BIGINT NOT NULL DEFAULT 0,
  quota BIGINT NOT NULL DEFAULT 0, transport VARCHAR(255), backupmx {b} NOT NULL DEFAULT {BF[vendor]},
  created {t}, modified {t}, active {b} NOT NULL DEFAULT {BT[vendor]});
CREATE TABLE mailbox (username VARCHAR(255) PRIMARY KEY, password VARCHAR(255) NOT NULL DEFAULT '',
  name VARCHAR(255) NOT NULL DEFAULT '', maildir VARCHAR(255) NOT NULL DEFAULT '', quota BIGINT NOT NULL DEFAULT 0,
  local_part VARCHAR(255) NOT NULL, domain VARCHAR(255) NOT NULL, created {t}, modified {t},
  active {b} NOT NULL DEFAULT {BT[vendor]}, phone VARCHAR(30) NOT NULL DEFAULT '',
  email_other VARCHAR(255) NOT NULL DEFAULT '');
CREATE TABLE alias (address VARCHAR(255) PRIMARY KEY, goto TEXT NOT NULL, domain VARCHAR(255) NOT NULL,
  created {t}, modified {t}, active {b} NOT NULL DEFAULT {BT[vendor]});
CREATE TABLE alias_domain (alias_domain VARCHAR(255) PRIMARY KEY, target_domain VARCHAR(255) NOT NULL,
  created {t}, modified {t}, active {b} NOT NULL DEFAULT {BT[vendor]});
CREATE TABLE vacation (email VARCHAR(255) PRIMARY KEY, subject VARCHAR(255) NOT NULL, body TEXT NOT NULL,
  cache TEXT, domain VARCHAR(255) NOT NULL, created {t}, active {b} NOT NULL DEFAULT {BT[vendor]},
  activefrom {t}, activeuntil {t}, interval_time INT NOT NULL DEFAULT 0);
CREATE TABLE domain_admins (username VARCHAR(255) NOT NULL, domain VARCHAR(255) NOT NULL, created {t},
  active {b} NOT NULL DEFAULT {BT[vendor]})
"""


BT = {"mysql": "1", "postgresql": "TRUE"}
BF = {"mysql": "0", "postgresql": "FALSE"}
LOGINS = {
    "anna@example.com": (md5_crypt.hash("anna pw 1"), "anna pw 1"),
    "bert@example.com": ("{SHA512-CRYPT}" + sha512_crypt.using(rounds=5000).hash("bert pw 2"), "bert pw 2"),
    "cleo@example.com": ("{PLAIN-MD5}" + hashlib.md5(b"cleo pw 3").hexdigest(), "cleo pw 3"),  # noqa: S324
    "dirk@example.org": ("{BLF-CRYPT}" + bcrypt.using(rounds=4, ident="2y").hash("dirk pw 4"), "dirk pw 4"),
}


@pytest.fixture(params=["mysql", "postgresql"])
def pfa(request, legacy_db):
    vendor = request.param
    db = legacy_db(vendor, "pfa")
    db.run(schema(vendor))
    yes, no = (True, False) if vendor == "postgresql" else (1, 0)
    db.run(
        "INSERT INTO domain (domain, description, aliases, mailboxes, maxquota, backupmx, active)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [
            ("ALL", "", 0, 0, 0, no, yes),
            ("example.com", "Firma Müller", 0, 10, 100, no, yes),
            ("example.org", "", -1, 0, 0, no, yes),
            ("backup.example", "", 0, 0, 0, yes, yes),
        ],
    )
    mailboxes = [
        (
            address,
            stored,
            name,
            50 * MB if "anna" in address else 10 * MB + 1,
            address.split("@")[0],
            address.split("@")[1],
            yes,
        )
        for (address, (stored, _)), name in zip(LOGINS.items(), ["Anna Berg", "Bert", "", "Dirk de Vries"], strict=True)
    ] + [("eve@example.com", "cleartext-password", "Eve", MB, "eve", "example.com", yes)]
    db.run(
        "INSERT INTO mailbox (username, password, name, quota, local_part, domain, active)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        mailboxes,
    )
    db.run(
        "INSERT INTO alias (address, goto, domain, active) VALUES (%s, %s, %s, %s)",
        [
            ("anna@example.com", "anna@example.com", "example.com", yes),
            ("bert@example.com", "bert@example.com,bert#example.com@autoreply.example.com", "example.com", yes),
            ("cleo@example.com", "cleo@example.com,cleo@elsewhere.example", "example.com", yes),
            ("info@example.com", "anna@example.com,bert@example.com", "example.com", yes),
            ("old@example.com", "anna@example.com", "example.com", no),
            ("@example.org", "dirk@example.org", "example.org", yes),
            ("loop@example.com", "loop@example.com", "example.com", yes),
        ],
    )
    db.run(
        "INSERT INTO alias_domain (alias_domain, target_domain, active) VALUES (%s, %s, %s)",
        [("example.net", "example.com", yes)],
    )
    db.run(
        "INSERT INTO vacation (email, subject, body, domain, active, activefrom, activeuntil)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [
            (
                "bert@example.com",
                "Urlaub",
                "Bin weg \u2014 zur\u00fcck am Montag.\nBert",
                "example.com",
                yes,
                "2020-11-01 00:00:00",
                "2038-01-18 00:00:00",
            )
        ],
    )
    db.run(
        "INSERT INTO domain_admins (username, domain, active) VALUES (%s, %s, %s)",
        [
            ("anna@example.com", "example.com", yes),
            ("dirk@example.org", "ALL", yes),
            ("ghost@example.com", "example.com", yes),
        ],
    )
    return db


def run(text, **kwargs):
    source = open_source(text)
    try:
        return PostfixAdminImporter(source).run(progress=False, **kwargs)
    finally:
        source.close()


def check(report):
    assert report.count("domain", "created") == 2
    assert report.count("mailbox", "created") == 4 and report.count("alias", "created") == 3
    reasons = {(f.kind, f.key): f.reason for f in report.failures}
    assert set(reasons) == {
        ("domain", "backup.example"),
        ("mailbox", "eve@example.com"),
        ("alias", "cleo@example.com"),
        ("alias", "loop@example.com"),
        ("grant", "ghost@example.com"),
    }
    assert "backup MX" in reasons[("domain", "backup.example")]
    assert "cleartext" in reasons[("mailbox", "eve@example.com")]
    assert "cleo@elsewhere.example" in reasons[("alias", "cleo@example.com")]
    assert "No mailbox ghost@example.com" in reasons[("grant", "ghost@example.com")]
    assert any("example.org: aliases = -1" in note for note in report.notes)

    for address, (_stored, password) in LOGINS.items():
        assert login_ok(address, password), address
    anna, bert = Mailbox.objects.get(local_part="anna"), Mailbox.objects.get(local_part="bert")
    assert (anna.quota_bytes, anna.first_name, anna.last_name) == (50 * MB, "Anna", "Berg")
    assert bert.quota_bytes == 10 * MB + 1  # bytes, kept exactly
    assert lookup("lookup_domains_v1", "domain", "example.net")["target"] == "example.com"
    assert lookup("lookup_aliases_v1", "address", "@example.org")["is_catchall"] == 1
    assert lookup("lookup_aliases_v1", "address", "old@example.com")["active"] == 0
    assert lookup("lookup_aliases_v1", "address", "bert@example.com") is None  # its own row, skipped
    vacation = lookup("lookup_vacations_v1", "address", "bert@example.com")
    assert vacation["mode"] == "custom" and vacation["body"].startswith("Bin weg \u2014 zur\u00fcck")
    assert str(vacation["first_day"]) == "2020-11-01" and vacation["last_day"] is None
    assert list(AdminGrant.objects.get(admin__address="anna@example.com").domains.values_list("name", flat=True)) == [
        "example.com"
    ]
    assert Mailbox.objects.get(address="dirk@example.org").is_superuser


@pytest.mark.django_db
def test_postfixadmin_from_live_database(pfa):
    check(run(pfa.url))
    audit = AuditEntry.objects.count()
    again = run(pfa.url)
    assert again.changed == 0 and len(again.failures) == 5
    assert AuditEntry.objects.count() == audit


@pytest.mark.django_db
def test_postfixadmin_from_dump(pfa, tmp_path):
    path = pfa.dump(tmp_path / "postfixadmin.sql")
    check(run(path))
    assert run(path).changed == 0
