"""vmail-sql from a hand-written SQL script (as its own init-db.sql is written: '#' comments, no dump
tool): what the old system did, address by address, or a clear word why not."""

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Mailbox
from domains.models import Domain
from imports.sqlsource import open_source
from imports.vmailsql import VmailSqlImporter
from mailadmin.models import AuditEntry
from mailserver.trace import trace
from tests.dbutil import login_ok, lookup, table_snapshot
from tests.imports.conftest import call_partial

pytestmark = pytest.mark.django_db

ALICE = "{md5}" + hashlib.md5(b"alice pw 1").hexdigest()  # noqa: S324 - vmail-sql's own scheme

SCRIPT = f"""# init-db.sql for vmail-sql, written by hand
# (a quote ' and a semicolon ; in a comment change nothing)
CREATE TABLE domain (domain_name varchar(255) NOT NULL, unix_user varchar(255),
                     password_hash varchar(255), max_popbox int);   # one row a domain
CREATE TABLE popbox (domain_name varchar(255) NOT NULL, local_part varchar(255) NOT NULL,
                     password_hash varchar(255));
CREATE TABLE forwarder (domain_name varchar(255) NOT NULL, local_part varchar(255) NOT NULL,
                        remote_name text NOT NULL);

INSERT INTO domain VALUES ('example.com', 'vmail', '{{crypt}}abJnggxhB/yWI', 10);  # the domain panel's password
# INSERT INTO domain VALUES ('commented-out.example', 'vmail', '', 1);
INSERT INTO popbox VALUES ('example.com', 'alice', '{ALICE}');
INSERT INTO popbox VALUES ('example.com', 'nologin', '');   # receives, cannot log in
INSERT INTO popbox VALUES ('example.com', 'away', '{ALICE}');
INSERT INTO forwarder VALUES ('example.com', 'away', 'away@elsewhere.example');  # wins over the POP box
INSERT INTO forwarder VALUES ('example.com', 'info', 'alice@example.com, nologin@example.com');
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "init-db.sql"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def run(path, **options):
    source = open_source(str(path), **options)
    try:
        return VmailSqlImporter(source).run(progress=False)
    finally:
        source.close()


def test_a_hand_written_script_with_hash_comments_is_read_whole(script):
    report = run(script)
    assert list(Domain.objects.values_list("name", flat=True)) == ["example.com"]
    assert report.count("mailbox", "created") == 3 and report.count("alias", "created") == 1
    assert not report.failures


def test_a_pop_box_without_a_password_receives_mail_but_cannot_log_in(script):
    report = run(script)
    assert lookup("lookup_mailboxes_v1", "address", "nologin@example.com")["active"] == 1
    assert lookup("lookup_dovecot_users_v1", "address", "nologin@example.com")["login_allowed"] == 0
    assert not login_ok("nologin@example.com", "")
    assert any(note.startswith("nologin@example.com: no password in the source") for note in report.notes)
    assert login_ok("alice@example.com", "alice pw 1")


def test_the_domain_panel_password_is_reported_not_lost_silently(script):
    report = run(script)
    assert any("example.com: its domain password" in note and "grant set" in note for note in report.notes)


def test_routing_after_the_import_is_vmail_sqls_address_by_address(script):
    run(script)
    expected = {  # what vmail-sql's Exim routers did: forwarders first, then POP boxes
        "alice@example.com": ({"alice@example.com"}, set()),
        "away@example.com": (set(), {"away@elsewhere.example"}),
        "info@example.com": ({"alice@example.com", "nologin@example.com"}, set()),
        "nologin@example.com": ({"nologin@example.com"}, set()),
    }
    for address, (mailboxes, external) in expected.items():
        routed = trace(address)
        assert (set(routed.mailboxes), set(routed.external)) == (mailboxes, external), (address, routed.steps)


def test_a_rerun_changes_nothing_audit_included(script):
    run(script)
    before = table_snapshot()
    assert run(script).changed == 0
    assert table_snapshot() == before  # every row of every table, the audit log's too


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (SCRIPT.replace("'away@elsewhere.example');", "'away@elsewhere.example')"), "a ';' missing"),
        (SCRIPT[: SCRIPT.index("'alice@example.com, nologin") + 5], "inside a quoted string"),
    ],
    ids=["semicolon-missing", "cut-in-a-string"],
)
def test_a_script_cut_short_imports_nothing_and_the_command_says_where(tmp_path, cut, message):
    path = tmp_path / "cut.sql"
    path.write_text(cut, encoding="utf-8")
    with pytest.raises(CommandError, match=f"line [0-9]+: .*{message}"):
        call_command("import_vmailsql", str(path), "--no-progress", stdout=StringIO())
    assert not Domain.objects.exists() and not Mailbox.objects.exists() and not AuditEntry.objects.exists()


def test_a_source_without_its_pop_boxes_imports_nothing(tmp_path):
    path = tmp_path / "domains-only.sql"
    path.write_text(SCRIPT[: SCRIPT.index("CREATE TABLE popbox")], encoding="utf-8")
    with pytest.raises(CommandError, match="no popbox table"):
        call_command("import_vmailsql", str(path), "--no-progress", stdout=StringIO())
    assert not Domain.objects.exists()


def test_a_latin1_script_needs_its_encoding_and_then_keeps_the_names(tmp_path):
    path = tmp_path / "latin1.sql"
    text = SCRIPT.replace("# init-db.sql for vmail-sql", "# init-db.sql f\u00fcr vmail-sql (J\u00fcrgen)")
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(CommandError, match=r"line 1: byte 0xfc is not valid UTF-8 \(give --encoding"):
        call_command("import_vmailsql", str(path), "--no-progress", stdout=StringIO())
    assert not Domain.objects.exists()
    call_command("import_vmailsql", str(path), "--no-progress", "--encoding", "latin-1", stdout=StringIO())
    assert Mailbox.objects.count() == 3


def test_the_report_says_for_every_row_what_it_became_or_why_not(script, tmp_path):
    bad = tmp_path / "with-a-bad-row.sql"
    bad.write_text(SCRIPT + "INSERT INTO popbox VALUES ('example.com', 'bad/name', '');\n", encoding="utf-8")
    out = StringIO()
    call_partial("import_vmailsql", str(bad), "--no-progress", "--json", stdout=out, stderr=StringIO())
    rows = {(row["where"], row["key"]): row for row in json.loads(out.getvalue())["rows"]}
    assert rows[("domain row 1", "example.com")]["outcome"] == "created"
    assert rows[("popbox row 2", "nologin@example.com")]["outcome"] == "created"
    assert rows[("forwarder row 1", "away@example.com")] == {
        "where": "forwarder row 1",
        "kind": "forwarding",
        "key": "away@example.com",
        "outcome": "created",
    }
    refused = rows[("popbox row 4", "bad/name@example.com")]
    assert refused["outcome"] == "refused" and "slash" in refused["reason"]
    assert len(rows) == 7  # one domain, four POP boxes, two forwarders: every row of the source
    text = StringIO()
    call_partial("import_vmailsql", str(bad), "--no-progress", stdout=text, stderr=StringIO())
    assert "  forwarder row 1: forwarding away@example.com: unchanged" in text.getvalue().splitlines()
