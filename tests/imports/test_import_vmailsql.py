"""vmail-sql: from a live MariaDB database and from its mysqldump, legacy hashes logging in."""

import hashlib
from io import StringIO

import pytest
from passlib.hash import des_crypt, md5_crypt

from accounts.models import Mailbox
from imports.sqlsource import open_source
from imports.vmailsql import VmailSqlImporter, convert_hash
from mailadmin.models import AuditEntry
from tests.dbutil import login_ok, lookup
from tests.imports.conftest import call_partial

SCHEMA = """
CREATE TABLE domain (domain_name VARCHAR(255) NOT NULL PRIMARY KEY, unix_user VARCHAR(255),
  password_hash VARCHAR(255), path VARCHAR(255), max_popbox INT);
CREATE TABLE popbox (domain_name VARCHAR(255) NOT NULL, local_part VARCHAR(255) NOT NULL,
  password_hash VARCHAR(255), mbox_name VARCHAR(255), bytes_per_second INT NOT NULL DEFAULT 0,
  PRIMARY KEY (domain_name(100), local_part(100)));
CREATE TABLE forwarder (domain_name VARCHAR(255) NOT NULL, local_part VARCHAR(255) NOT NULL,
  remote_name TEXT NOT NULL, PRIMARY KEY (domain_name(100), local_part(100)));
CREATE TABLE domain_alias (alias VARCHAR(255) NOT NULL PRIMARY KEY, domain_name VARCHAR(255) NOT NULL)
"""

# Each legacy form, with the password it was made from.
LOGINS = {
    "alice": ("{md5}" + hashlib.md5(b"alice pw 1").hexdigest(), "alice pw 1"),  # noqa: S324
    "bob": ("{crypt}" + des_crypt.hash("bobpw123"), "bobpw123"),
    "carol": ("{crypt-md5}" + md5_crypt.hash("carol pw 3"), "carol pw 3"),
    "dave": ("{plaintext}dave pw 4", "dave pw 4"),
    "erin": (hashlib.md5(b"erin pw 5").hexdigest(), "erin pw 5"),  # noqa: S324  bare hex
    "frank": ("{crypt}" + md5_crypt.hash("frank pw 6"), "frank pw 6"),
    "o'neil": ("{md5}" + hashlib.md5(b"it's \\ me").hexdigest(), "it's \\ me"),  # noqa: S324 quotes in dumps
}
BAD_POPBOXES = [
    ("example.com", "bad/name", "{md5}" + "0" * 32, "cannot contain a slash"),
    ("example.com", "mallory", "{rot13}nyvpr", "unknown vmail-sql password scheme"),
    ("example.com", "trent", "{md5}not-hex", "not a 32-digit hex"),
    ("nowhere.example", "ghost", "{md5}" + "1" * 32, "No domain nowhere.example"),
]


@pytest.fixture
def vmail(legacy_db):
    source = legacy_db("mysql", "vmail")
    source.run(SCHEMA)
    source.run(
        "INSERT INTO domain (domain_name, max_popbox) VALUES (%s, %s)", [("example.com", 20), ("Example.ORG", None)]
    )
    source.run("INSERT INTO domain_alias VALUES (%s, %s)", [("example.net", "example.com")])
    source.run(
        "INSERT INTO popbox (domain_name, local_part, password_hash) VALUES (%s, %s, %s)",
        [("example.com", name, stored) for name, (stored, _) in LOGINS.items()]
        + [(domain, local, stored) for domain, local, stored, _ in BAD_POPBOXES],
    )
    source.run(
        "INSERT INTO forwarder VALUES (%s, %s, %s)",
        [
            ("example.com", "info", "alice@example.com"),
            ("example.com", "_default_", "alice"),
            ("example.com", "team", "bob, carol@example.com,someone@elsewhere.example"),
            ("example.com", "broken", "not an address@@"),
            ("example.org", "sales", "dave@example.com"),
        ],
    )
    return source


def run(source_text, **kwargs):
    source = open_source(source_text)
    try:
        return VmailSqlImporter(source).run(progress=False, **kwargs)
    finally:
        source.close()


def check_directory():
    assert sorted(Mailbox.objects.values_list("local_part", flat=True)) == sorted(LOGINS)
    for name, (_stored, password) in LOGINS.items():
        assert login_ok(f"{name}@example.com", password), name
    row = lookup("lookup_dovecot_users_v1", "address", "alice@example.com")
    assert row["maildir"] == "example.com/alice/" and row["login_allowed"] == 1
    assert lookup("lookup_domains_v1", "domain", "example.net") == {
        "domain": "example.net",
        "target": "example.com",
        "is_alias": 1,
        "active": 1,
        "logins_enabled": 1,
    }
    assert lookup("lookup_aliases_v1", "address", "@example.com")["destinations"] == "alice@example.com"
    assert lookup("lookup_aliases_v1", "address", "@example.com")["is_catchall"] == 1
    assert lookup("lookup_aliases_v1", "address", "team@example.com")["destinations"] == (
        "bob@example.com, carol@example.com, someone@elsewhere.example"
    )
    assert lookup("lookup_aliases_v1", "address", "sales@example.org")["active"] == 1


def check_failures(report):
    reasons = {f.key: f.reason for f in report.failures}
    assert len(reasons) == len(BAD_POPBOXES) + 1, reasons
    for domain, local, _stored, reason in BAD_POPBOXES:
        assert reason in reasons[f"{local}@{domain}"]
    assert "Destination 'address@@'" in reasons["broken@example.com"]


@pytest.mark.django_db
def test_vmailsql_from_live_database(vmail):
    report = run(vmail.url)
    assert report.count("mailbox", "created") == len(LOGINS)
    assert report.count("domain", "created") == 2 and report.count("alias", "created") == 4
    check_failures(report)
    # The clear text of {plaintext} is hashed, never stored.
    assert Mailbox.objects.get(local_part="dave").password.startswith("{ARGON2ID}")
    assert Mailbox.objects.get(local_part="alice").password.startswith("{PLAIN-MD5}")
    check_directory()

    audit = AuditEntry.objects.count()
    again = run(vmail.url)
    assert again.changed == 0 and again.count("mailbox", "unchanged") == len(LOGINS)
    assert AuditEntry.objects.count() == audit  # re-running changes nothing
    check_failures(again)


@pytest.mark.django_db
def test_vmailsql_from_mysqldump_file(vmail, tmp_path):
    path = vmail.dump(tmp_path / "vmail.sql")
    dry = run(path, dry_run=True)
    assert dry.count("mailbox", "created") == len(LOGINS) and not Mailbox.objects.exists()
    out = StringIO()
    call_partial("import_vmailsql", path, "--no-progress", stdout=out, stderr=StringIO())
    assert "mailboxs" not in out.getvalue() and f"{len(LOGINS)} created" in out.getvalue()
    assert "FAILED mailbox bad/name@example.com (popbox row" in out.getvalue()
    check_directory()


def test_convert_hash_maps_vmailsql_schemes_to_dovecot_names():
    digest = hashlib.md5(b"x").hexdigest()  # noqa: S324
    assert convert_hash("{md5}" + digest) == ("{PLAIN-MD5}" + digest, "")  # not Dovecot's {MD5} (MD5-CRYPT)
    assert convert_hash(digest) == ("{PLAIN-MD5}" + digest, "")
    assert convert_hash("{CRYPT-MD5}$1$abc$def") == ("{MD5-CRYPT}$1$abc$def", "")
    assert convert_hash("{crypt}abcdefghijklm") == ("{CRYPT}abcdefghijklm", "")
    assert convert_hash("{plaintext}secret") == ("", "secret")
    with pytest.raises(ValueError, match="unknown"):
        convert_hash("{rot13}x")
