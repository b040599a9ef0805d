"""CSV: a column mapping, clear-text passwords hashed and never kept, flags and names."""

import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Mailbox
from imports.csvfile import CsvImporter
from mailadmin.lib.sizes import MB
from mailadmin.models import AuditEntry
from tests import factories
from tests.dbutil import login_ok, lookup, table_snapshot
from tests.imports.conftest import call_partial

CSV = """\
E-Mail;Kennwort;Quota;Gesperrt;SMTP;Filter;Vorname;Nachname;Telefon
anna@example.com;anna pass 1;100;no;yes;yes;Anna;Berg;+49 30 1
Ben@Example.com;ben pass 2;;yes;no;no;Ben;;
carl@example.com;c4rl;j;0;1;1;;;
not-an-address;x;;;;;;;
dora@example.com;dora pass 3;5000;no;yes;yes;;;
emil@example.com;;10;no;yes;yes;;;
fritz@example.com;fritz pass;10;maybe;yes;yes;;;
"""
MAPPING = {
    "address": "E-Mail",
    "password": "Kennwort",
    "quota_mb": "Quota",  # the source counts in MB
    "disabled": "Gesperrt",
    "may_relay": "SMTP",
    "filtering": "Filter",
    "first_name": "Vorname",
    "last_name": "Nachname",
    "phone": "Telefon",
}
COLUMNS = [f"--column={field}={column}" for field, column in MAPPING.items()]


@pytest.fixture
def csv_file(tmp_path, db):
    factories.domain("example.com", max_quota_bytes=1000 * MB, default_quota_bytes=50 * MB)
    path = tmp_path / "accounts.csv"
    path.write_text(CSV)
    return path


def _run(csv_file):
    return CsvImporter(csv_file, mapping=MAPPING, delimiter=";").run(progress=False)


def test_csv_rows_become_mailboxes_with_their_settings(csv_file):
    assert _run(csv_file).count("mailbox", "created") == 2
    anna, ben = Mailbox.objects.get(local_part="anna"), Mailbox.objects.get(local_part="ben")
    assert (anna.quota_bytes, anna.active, anna.may_relay, anna.filtering) == (100 * MB, True, True, True)
    assert (anna.first_name, anna.last_name, anna.phone) == ("Anna", "Berg", "+49 30 1")
    assert (ben.quota_bytes, ben.active, ben.may_relay, ben.filtering) == (50 * MB, False, False, False)
    assert lookup("lookup_mailboxes_v1", "address", "ben@example.com")["active"] == 0
    assert lookup("lookup_mailboxes_v1", "address", "anna@example.com")["quota_bytes"] == 100 * 1024 * 1024


def test_csv_passwords_log_in_and_a_row_disabled_in_the_source_does_not(csv_file):
    _run(csv_file)
    assert login_ok("anna@example.com", "anna pass 1")
    assert not login_ok("ben@example.com", "ben pass 2")


def test_csv_bad_rows_are_reported_by_line_with_the_reason(csv_file):
    reasons = {f.where: f.reason for f in _run(csv_file).failures}
    assert set(reasons) == {"line 4", "line 5", "line 6", "line 7", "line 8"}
    assert "'j'" in reasons["line 4"]  # quota not a number
    assert "no @" in reasons["line 5"]
    assert "at most 1000 MB" in reasons["line 6"]
    assert "no password" in reasons["line 7"]
    assert "'maybe' is not yes/no" in reasons["line 8"]


def test_csv_clear_text_passwords_are_kept_nowhere(csv_file):
    _run(csv_file)
    stored = " ".join(Mailbox.objects.values_list("password", flat=True))
    logged = json.dumps(list(AuditEntry.objects.values("before", "after", "object_repr")))
    for secret in ("anna pass 1", "ben pass 2"):
        assert secret not in stored and secret not in logged


def test_csv_import_run_again_changes_nothing(csv_file):
    _run(csv_file)
    before = table_snapshot()
    again = _run(csv_file)
    assert again.changed == 0 and again.count("mailbox", "unchanged") == 2
    assert table_snapshot() == before  # every row of every table, the audit log's too


def test_csv_command_dry_run_json_and_changes(csv_file):
    out = StringIO()
    call_partial(
        "import_csv", str(csv_file), "--delimiter=;", "--dry-run", "--json", *COLUMNS, stdout=out, stderr=StringIO()
    )
    report = json.loads(out.getvalue())
    assert report["dry_run"] and report["counts"]["mailbox"]["created"] == 2 and len(report["failed"]) == 5
    assert not Mailbox.objects.exists()

    call_partial("import_csv", str(csv_file), "--delimiter=;", *COLUMNS, stdout=StringIO(), stderr=StringIO())
    csv_file.write_text(CSV.replace("anna@example.com;anna pass 1;100", "anna@example.com;anna pass 1;200"))
    out = StringIO()
    call_partial("import_csv", str(csv_file), "--delimiter=;", "--json", *COLUMNS, stdout=out, stderr=StringIO())
    assert json.loads(out.getvalue())["counts"]["mailbox"] == {"created": 0, "updated": 1, "unchanged": 1}
    assert Mailbox.objects.get(local_part="anna").quota_bytes == 200 * MB


def test_csv_create_domains_and_bad_mapping(tmp_path, db):
    path = tmp_path / "a.csv"
    path.write_text("address,password\nx@new.example,pw one two\n")
    report = CsvImporter(path, create_domains=True).run(progress=False)
    assert report.count("domain", "created") == 1 and report.count("mailbox", "created") == 1
    with pytest.raises(CommandError, match="Bad mapping"):
        call_command("import_csv", str(path), "--column=colour=Farbe", stdout=StringIO())
    with pytest.raises(CommandError, match="no column 'Mail'"):
        call_command("import_csv", str(path), "--column=address=Mail", stdout=StringIO())


def test_new_domains_of_an_import_get_role_aliases(tmp_path, db):
    path = tmp_path / "a.csv"
    path.write_text("address,password\nboss@new.example,pw one two\npostmaster@other.example,pw three\n")
    out = StringIO()
    call_command(
        "import_csv", str(path), "--create-domains", "--postmaster-to=boss@new.example", stdout=out, stderr=StringIO()
    )
    assert "aliases: 3 created" in out.getvalue()
    assert lookup("lookup_aliases_v1", "address", "abuse@new.example")["destinations"] == "boss@new.example"
    assert lookup("lookup_aliases_v1", "address", "abuse@other.example")["destinations"] == "boss@new.example"
    assert lookup("lookup_aliases_v1", "address", "postmaster@other.example") is None  # a mailbox already


LATIN1 = "address,password,first_name\njuergen@example.com,pw one two,J\u00fcrgen\n".encode("latin-1")


def test_csv_in_latin1_without_encoding_is_refused_whole_naming_the_line(csv_file):
    csv_file.write_bytes(LATIN1)
    before = table_snapshot()
    with pytest.raises(CommandError, match=r"line 2: byte 0xfc is not valid UTF-8"):
        call_command("import_csv", str(csv_file), stdout=StringIO(), stderr=StringIO())
    assert table_snapshot() == before


def test_csv_in_latin1_with_its_encoding_keeps_the_names(csv_file):
    csv_file.write_bytes(LATIN1)
    call_command("import_csv", str(csv_file), "--encoding=latin-1", stdout=StringIO(), stderr=StringIO())
    assert Mailbox.objects.get(local_part="juergen").first_name == "J\u00fcrgen"


def _write_rows(path, rows) -> bytes:
    """The rows as a spreadsheet's "Save as CSV" writes them (CRLF line ends, quotes where needed)."""
    out = StringIO()
    csv.writer(out).writerows(rows)
    path.write_bytes(out.getvalue().encode())
    return path.read_bytes()


def test_csv_same_address_twice_first_row_is_used_later_reported(csv_file):
    rows = [["address", "password"], ["anna@example.com", "first pw 1"], ["Anna@Example.com", "second pw 2"]]
    _write_rows(csv_file, rows)
    report = CsvImporter(csv_file).run(progress=False)
    assert report.count("mailbox", "created") == 1
    assert [(f.where, f.reason) for f in report.failures] == [
        ("line 3", "the same address as line 2 (the first row is used)")
    ]
    assert login_ok("anna@example.com", "first pw 1") and not login_ok("anna@example.com", "second pw 2")
    assert CsvImporter(csv_file).run(progress=False).changed == 0


def test_csv_cells_that_start_like_a_formula_are_reported_not_stored(csv_file):
    rows = [
        ["address", "password", "first_name", "notes"],
        ["anna@example.com", "pw one two", '=HYPERLINK("http://evil.example","Anna")', ""],
        ["bert@example.com", "pw one two", "Bert", " \uff20SUM(A1:A9)"],  # a full-width @ after a space
        ["carl@example.com", "=pw one two", "Carl", "-"],
    ]
    _write_rows(csv_file, rows)
    reasons = {f.where: f.reason for f in CsvImporter(csv_file).run(progress=False).failures}
    assert reasons["line 2"].startswith("first_name: '=HYPERLINK") and "spreadsheet formula" in reasons["line 2"]
    assert reasons["line 3"].startswith("notes: ") and "spreadsheet formula" in reasons["line 3"]
    assert reasons["line 4"].startswith("notes: ")  # the password may start with '=': it is hashed, not stored
    assert not Mailbox.objects.exists()


def test_csv_quota_that_is_not_a_number_names_the_column(csv_file):
    _write_rows(csv_file, [["E-Mail", "Kennwort", "Quota"], ["anna@example.com", "pw one two", "12 Mio"]])
    [failure] = CsvImporter(csv_file, mapping=MAPPING).run(progress=False).failures
    assert failure.reason.startswith("Quota (quota_mb): '12 Mio' is not a size")
    assert "invalid literal" not in failure.reason


def test_csv_row_with_more_cells_than_columns_is_reported(csv_file):
    _write_rows(csv_file, [["address", "password", "last_name"], ["anna@example.com", "pw one two", "Berg", "Anna"]])
    [failure] = CsvImporter(csv_file).run(progress=False).failures
    assert failure.where == "line 2" and "4 cells, more than the 3 columns" in failure.reason


ROWS = [["address", "password", "first_name"], ["anna@example.com", "pw one two", "Anna"]]


def test_csv_cut_in_the_middle_of_its_last_row_imports_nothing(csv_file):
    data = _write_rows(csv_file, [*ROWS, ["bert@example.com", "pw three four", "Bert"]])
    csv_file.write_bytes(data[: data.rindex(b",")])  # cut after bert's password: a copy that stopped
    before = table_snapshot()
    with pytest.raises(CommandError, match=r"line 3: the last row has 2 of 3 cells and no line end"):
        call_command("import_csv", str(csv_file), stdout=StringIO(), stderr=StringIO())
    assert table_snapshot() == before


def test_csv_cut_inside_a_quoted_cell_imports_nothing(csv_file):
    data = _write_rows(csv_file, [*ROWS, ["bert@example.com", "pw three four", "Bert, the second"]])
    csv_file.write_bytes(data[: data.rindex(b"the")])
    before = table_snapshot()
    with pytest.raises(CommandError, match=r"line 3: a quoted cell starts here and is never closed"):
        call_command("import_csv", str(csv_file), stdout=StringIO(), stderr=StringIO())
    assert table_snapshot() == before
