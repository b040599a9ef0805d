"""Postfix virtual maps and aliases(5) files, with catch-alls and unsupported entries."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from imports.postfixmaps import PostfixMapsImporter, logical_lines
from mailserver.trace import trace
from tests import factories
from tests.dbutil import lookup, table_snapshot
from tests.imports.conftest import call_partial

VIRTUAL = """\
# virtual alias domains and their addresses
example.com          anything
info@example.com     anna@example.com, bert@example.com
sales@example.com\tanna@example.com
                     chris@elsewhere.example
@example.com         anna@example.com
Info@Example.COM     someone@else.example
support@example.com  |/usr/local/bin/ticket
bad..dots@example.com anna@example.com
"""
ALIASES = """\
postmaster: root
root:       anna@example.com
mailer-daemon: postmaster
backup: "/var/backups/mail"
junk
"""


@pytest.fixture
def files(tmp_path, db):
    (tmp_path / "virtual").write_text(VIRTUAL)
    (tmp_path / "aliases").write_text(ALIASES)
    factories.domain("example.net")
    return tmp_path


def _run(files):
    importer = PostfixMapsImporter(virtual=[files / "virtual"], aliases=[files / "aliases"], domain="example.net")
    return importer.run(progress=False)


def test_virtual_map_and_aliases_file_lines_become_aliases(files):
    report = _run(files)
    assert report.count("domain", "created") == 1 and report.count("alias", "created") == 6
    assert lookup("lookup_aliases_v1", "address", "sales@example.com")["destinations"] == (
        "anna@example.com, chris@elsewhere.example"
    )
    assert lookup("lookup_aliases_v1", "address", "@example.com")["is_catchall"] == 1
    assert lookup("lookup_aliases_v1", "address", "mailer-daemon@example.net")["destinations"] == (
        "postmaster@example.net"
    )


def test_maps_refused_lines_name_the_file_the_line_and_the_reason(files):
    reasons = {f.where: f.reason for f in _run(files).failures}
    assert "the same address as virtual line 3" in reasons["virtual line 7"]
    assert "not supported (|/usr/local/bin/ticket)" in reasons["virtual line 8"]
    assert "local part" in reasons["virtual line 9"]
    assert "not supported (/var/backups/mail)" in reasons["aliases line 4"]
    assert "not a 'name: destinations' line" in reasons["aliases line 5"]
    assert len(reasons) == 5


def test_maps_import_run_again_changes_nothing(files):
    _run(files)
    before = table_snapshot()
    assert _run(files).changed == 0
    assert table_snapshot() == before  # every row of every table, the audit log's too


def test_postfix_maps_command(files):
    out = StringIO()
    ended = call_partial(
        "import_postfix_maps", "--virtual", str(files / "virtual"), "--dry-run", stdout=out, stderr=StringIO()
    )
    assert str(ended) == "3 item(s) failed; the others were checked (dry run)."
    assert "aliases: 3 would be created, 3 failed" in out.getvalue()
    assert lookup("lookup_aliases_v1", "address", "info@example.com") is None
    with pytest.raises(CommandError, match="needs --domain"):
        call_command("import_postfix_maps", "--aliases", str(files / "aliases"), stdout=StringIO())


def test_logical_lines_join_continuations_and_skip_comments():
    text = "# c\na b,\n  c\n\n  # not a continuation after a blank? still joined\nd e\n"
    assert list(logical_lines(text)) == [(2, "a b, c"), (6, "d e")]


LATIN1 = "# addresses of J\u00fcrgen M\u00fcller\njuergen@example.net  anna@example.com\n".encode("latin-1")


def test_maps_in_latin1_without_encoding_are_refused_whole_naming_the_line(files):
    (files / "virtual").write_bytes(LATIN1)
    before = table_snapshot()
    with pytest.raises(CommandError, match=r"virtual: line 1: byte 0xfc is not valid UTF-8"):
        call_command("import_postfix_maps", "--virtual", str(files / "virtual"), stdout=StringIO(), stderr=StringIO())
    assert table_snapshot() == before


def test_maps_in_latin1_with_their_encoding_are_imported(files):
    (files / "virtual").write_bytes(LATIN1)
    virtual = str(files / "virtual")
    call_command("import_postfix_maps", "--virtual", virtual, "--encoding=latin-1", stdout=StringIO())
    assert lookup("lookup_aliases_v1", "address", "juergen@example.net")["destinations"] == "anna@example.com"


def _virtual(files, text):
    (files / "virtual").write_text(text)
    return PostfixMapsImporter(virtual=[files / "virtual"]).run(progress=False)


def test_virtual_key_without_at_or_dot_is_postfix_user_form_and_reported(files):
    report = _virtual(files, "# role addresses\npostmaster    anna@example.net\ninfo@example.net  anna@example.net\n")
    [failure] = report.failures
    assert failure.where == "virtual line 2" and "user form" in failure.reason and "ambiguous" in failure.reason
    assert report.count("domain", "created") == 0 and report.count("alias", "created") == 1
    assert lookup("lookup_aliases_v1", "address", "postmaster@example.net") is None


def test_virtual_domain_name_with_destinations_is_ambiguous_and_reported(files):
    report = _virtual(files, "example.com    anna@example.net\n")
    [failure] = report.failures
    assert failure.where == "virtual line 1" and "ambiguous" in failure.reason
    assert report.count("domain", "created") == 0


def test_a_hash_after_the_value_is_reported_not_read_as_destinations(files):
    report = _virtual(files, "info@example.net    anna@example.net    # Anna, until June\n")
    [failure] = report.failures
    assert failure.where == "virtual line 1"
    assert "a '#' after the value is not a comment in Postfix: it would be read as destinations" in failure.reason
    assert lookup("lookup_aliases_v1", "address", "info@example.net") is None


def test_a_hash_after_the_value_of_an_aliases_line_is_reported(files):
    (files / "aliases").write_text("root:   anna@example.com   # the admin\n")
    report = PostfixMapsImporter(aliases=[files / "aliases"], domain="example.net").run(progress=False)
    assert [(f.where, "not a comment" in f.reason) for f in report.failures] == [("aliases line 1", True)]


def test_maps_with_reported_lines_run_again_change_nothing(files):
    text = "example.com anything\npostmaster anna@example.com\ninfo@example.com anna@example.com # x\n"
    _virtual(files, text)
    assert _virtual(files, text).changed == 0


def test_routing_after_the_import_is_postfixs_address_by_address(files):
    """virtual(5)/aliases(5): an exact key first, then the domain's catch-all; bare names of an
    aliases file are in its domain. anna@example.com gets a mailbox here after the import."""
    _run(files)
    factories.mailbox("anna@example.com")
    expected = {
        "info@example.com": ({"anna@example.com"}, set()),  # bert@ has no key: the catch-all takes it
        "sales@example.com": ({"anna@example.com"}, {"chris@elsewhere.example"}),
        "nobody@example.com": ({"anna@example.com"}, set()),
        "mailer-daemon@example.net": ({"anna@example.com"}, set()),  # -> postmaster -> root -> anna
    }
    for address, (mailboxes, external) in expected.items():
        routed = trace(address)
        assert (set(routed.mailboxes), set(routed.external)) == (mailboxes, external), (address, routed.steps)
