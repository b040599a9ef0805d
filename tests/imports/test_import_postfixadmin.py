"""PostfixAdmin: MariaDB and PostgreSQL sources, live and dumped, with its hash forms."""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from passlib.hash import bcrypt, md5_crypt, sha512_crypt

from accounts.models import Mailbox
from domains.models import AdminGrant, Domain
from imports.base import SourceError
from imports.postfixadmin import PostfixAdminImporter
from imports.sqlsource import open_source
from mailadmin.models import AuditEntry
from mailserver.trace import trace
from tests.dbutil import login_ok, lookup, table_snapshot

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
  active {b} NOT NULL DEFAULT {BT[vendor]});
CREATE TABLE admin (username VARCHAR(255) PRIMARY KEY, password VARCHAR(255) NOT NULL DEFAULT '',
  superadmin {b} NOT NULL DEFAULT {BF[vendor]}, created {t}, modified {t}, active {b} NOT NULL DEFAULT {BT[vendor]})
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
            ("example.net", "", 0, 0, 0, no, yes),  # PostfixAdmin's alias domains are rows here too
        ],
    )
    db.run("UPDATE domain SET quota = 500 WHERE domain = 'example.com'")
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
            ("dirk@example.org", "dirk@elsewhere.example", "example.org", yes),
            ("team@example.com", "anna@example.com,bob", "example.com", yes),
            ("x@example.net", "bert@example.com", "example.net", yes),
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
            ("olda@example.com", "example.com", no),
        ],
    )
    db.run(
        "INSERT INTO admin (username, password, superadmin, active) VALUES (%s, %s, %s, %s)",
        [
            ("anna@example.com", md5_crypt.hash("anna admin pw"), no, yes),
            ("dirk@example.org", md5_crypt.hash("dirk admin pw"), no, yes),
            ("root@example.com", md5_crypt.hash("root admin pw 9"), yes, yes),
            ("ghost@example.com", md5_crypt.hash("ghost pw"), no, yes),
            ("olda@example.com", md5_crypt.hash("olda pw"), no, no),
        ],
    )
    return db


def run(text, **options):
    source = open_source(text)
    try:
        return PostfixAdminImporter(source, **options).run(progress=False)
    finally:
        source.close()


def check(report):
    assert report.count("domain", "created") == 2  # not backup.example, not the alias domain example.net
    assert report.count("mailbox", "created") == 4 and report.count("alias", "created") == 3
    assert report.count("forwarding", "created") == 2
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


def reasons(report) -> dict:
    return {(f.kind, f.key): f.reason for f in report.failures}


@pytest.mark.django_db
def test_postfixadmin_from_live_database(pfa):
    check(run(pfa.url))
    before = table_snapshot()
    assert run(pfa.url).changed == 0
    assert table_snapshot() == before  # every row of every table, the audit log's too


@pytest.mark.django_db
def test_postfixadmin_from_dump(pfa, tmp_path):
    path = pfa.dump(tmp_path / "postfixadmin.sql")
    check(run(path))
    assert run(path).changed == 0


@pytest.mark.django_db
def test_what_cannot_be_carried_over_is_reported_with_the_reason(pfa):
    found = reasons(run(pfa.url))
    assert "backup MX" in found[("domain", "backup.example")]
    assert "cleartext" in found[("mailbox", "eve@example.com")]
    assert "itself" in found[("alias", "loop@example.com")]
    assert "destination 'bob' has no domain" in found[("alias", "team@example.com")]
    assert "an alias in an alias domain" in found[("alias", "x@example.net")]
    assert "ghost@example.com has no mailbox here" in found[("grant", "ghost@example.com")]
    assert "inactive admin" in found[("grant", "olda@example.com")]
    assert (
        "superadmin: not made a superuser here unless the import is run with --superadmins"
        in (found[("grant", "dirk@example.org")])
    )
    assert not Mailbox.objects.get(address="dirk@example.org").is_superuser
    assert not Mailbox.objects.filter(address="root@example.com").exists()


@pytest.mark.django_db
def test_superadmins_become_superusers_only_when_asked_and_keep_their_hash(pfa):
    report = run(pfa.url, superadmins=True)
    assert ("grant", "dirk@example.org") not in reasons(report)
    assert Mailbox.objects.get(address="dirk@example.org").is_superuser  # its mailbox password logs in
    root = Mailbox.objects.get(address="root@example.com")
    assert root.is_superuser and not root.has_mailbox  # a panel-only account with the old admin hash
    assert root.check_password("root admin pw 9")


@pytest.mark.django_db
def test_forwarding_of_a_mailbox_keeps_a_copy_when_postfixadmin_listed_the_mailbox(pfa):
    run(pfa.url)
    cleo, dirk = Mailbox.objects.get(local_part="cleo"), Mailbox.objects.get(local_part="dirk")
    assert (cleo.forward_list, cleo.forward_keep_copy) == (["cleo@elsewhere.example"], True)
    assert (dirk.forward_list, dirk.forward_keep_copy) == (["dirk@elsewhere.example"], False)


@pytest.mark.django_db
def test_domain_limits_use_postfixadmins_quota_multiplier(pfa):
    report = run(pfa.url)
    assert Domain.objects.get(name="example.com").max_quota_bytes == 100 * 1024000
    assert any("example.com: its total domain quota (500 x 1024000 bytes)" in note for note in report.notes)
    source = open_source(pfa.url)
    try:
        PostfixAdminImporter(source, quota_multiplier=MB).run(progress=False)
    finally:
        source.close()
    assert Domain.objects.get(name="example.com").max_quota_bytes == 100 * MB


@pytest.mark.django_db
def test_routing_after_the_import_is_postfixadmins_address_by_address(pfa):
    run(pfa.url)
    expected = {  # what Postfix did with PostfixAdmin's tables
        "anna@example.com": ({"anna@example.com"}, set()),
        "cleo@example.com": ({"cleo@example.com"}, {"cleo@elsewhere.example"}),
        "dirk@example.org": (set(), {"dirk@elsewhere.example"}),
        "info@example.com": ({"anna@example.com", "bert@example.com"}, set()),
        "anna@example.net": ({"anna@example.com"}, set()),
        "someone@example.org": (set(), {"dirk@elsewhere.example"}),
    }
    for address, (mailboxes, external) in expected.items():
        routed = trace(address)
        assert (set(routed.mailboxes), set(routed.external)) == (mailboxes, external), (address, routed.steps)


@pytest.mark.django_db
def test_a_source_without_its_mailbox_table_imports_nothing(pfa):
    pfa.run("DROP TABLE mailbox")
    with pytest.raises(SourceError, match="no mailbox table"):
        run(pfa.url)
    assert not Domain.objects.exists()


@pytest.mark.django_db
def test_a_dump_cut_short_imports_nothing_and_the_command_exits_non_zero(pfa, tmp_path):
    path = pfa.dump(tmp_path / "postfixadmin.sql")
    text = open(path, encoding="utf-8").read()
    cut = tmp_path / "cut.sql"
    cut.write_text(text[: len(text) * 6 // 10], encoding="utf-8")  # cut inside the table data
    with pytest.raises(CommandError, match="cut short"):
        call_command("import_postfixadmin", str(cut), "--no-progress", stdout=StringIO())
    assert not Domain.objects.exists() and not AuditEntry.objects.exists()
