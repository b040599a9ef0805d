"""A Jamm-style LDAP tree exported as LDIF: domains, accounts, aliases, postmaster role."""

import base64
import hashlib
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from passlib.hash import des_crypt

from accounts.models import Mailbox
from domains.models import AdminGrant
from imports.ldif import LdifImporter, parse_ldif
from mailserver.trace import trace
from tests.dbutil import login_ok, lookup, table_snapshot
from tests.imports.conftest import call_partial


def salted(algorithm: str, password: str, salt: bytes = b"s4lt\x00\xff") -> str:
    digest = hashlib.new(algorithm, password.encode() + salt).digest()
    return base64.b64encode(digest + salt).decode()


PASSWORDS = {
    "anna": ("{SSHA}" + salted("sha1", "anna pw 1"), "anna pw 1"),
    "bert": ("{SMD5}" + salted("md5", "bert pw 2"), "bert pw 2"),
    "cleo": ("{CRYPT}" + des_crypt.hash("cleopw3x"), "cleopw3x"),
    "dirk": ("{MD5}" + base64.b64encode(hashlib.md5(b"dirk pw 4").digest()).decode(), "dirk pw 4"),  # noqa: S324
}
BASE = "o=hosting,dc=example,dc=com"


def account(name, active="TRUE", maildir=""):
    stored = base64.b64encode(PASSWORDS[name][0].encode()).decode()
    return f"""dn: mail={name}@example.com,jvd=example.com,{BASE}
objectClass: top
objectClass: JammMailAccount
mail: {name}@example.com
mailbox: {maildir or f"example.com/{name}/"}
homeDirectory: /home/vmail/domains
accountActive: {active}
cn: {name.title()} Example
givenName: {name.title()}
sn: Example
userPassword:: {stored}
"""


LDIF = f"""version: 1

# the domain
dn: jvd=example.com,{BASE}
objectClass: top
objectClass: JammVirtualDomain
jvd: example.com
accountActive: TRUE
editAccounts: TRUE

{account("anna")}
{account("bert", maildir="elsewhere/bert/")}
{account("cleo", active="FALSE")}
{account("dirk")}
dn: mail=gone@example.com,jvd=example.com,{BASE}
objectClass: JammMailAccount
mail: gone@example.com
userPassword: {{SSHA}}{salted("sha1", "x")}
delete: TRUE

dn: mail=nohash@example.com,jvd=example.com,{BASE}
objectClass: JammMailAccount
mail: nohash@example.com
userPassword: {{KERBEROS}}someone@REALM

dn: cn=postmaster,jvd=example.com,{BASE}
objectClass: top
objectClass: JammMailAlias
objectClass: JammPostmaster
cn: postmaster
mail: postmaster@example.com
maildrop: anna@example.com
roleOccupant: cn=postmaster,jvd=example.com,{BASE}
roleOccupant: mail=anna@example.com,jvd=example.com,
 {BASE}
accountActive: TRUE

dn: mail=abuse@example.com,jvd=example.com,{BASE}
objectClass: top
objectClass: JammMailAlias
mail: abuse@example.com
maildrop: postmaster
accountActive: TRUE

dn: mail=team@example.com,jvd=example.com,{BASE}
objectClass: JammMailAlias
mail: team@example.com
maildrop: anna@example.com
maildrop: bert
accountActive: FALSE

dn: mail=@example.com,jvd=example.com,{BASE}
objectClass: JammMailAlias
mail: @example.com
maildrop: anna@example.com
"""


@pytest.fixture
def ldif(tmp_path, db):
    path = tmp_path / "tree.ldif"
    path.write_text(LDIF)
    return path


def test_ldif_entries_become_mailboxes_and_aliases(ldif):
    report = LdifImporter(ldif).run(progress=False)
    assert report.count("mailbox", "created") == 4 and report.count("alias", "created") == 4
    assert lookup("lookup_aliases_v1", "address", "team@example.com") == {
        "address": "team@example.com",
        "domain": "example.com",
        "local_part": "team",
        "destinations": "anna@example.com, bert@example.com",
        "active": 0,
        "is_catchall": 0,
    }
    assert lookup("lookup_aliases_v1", "address", "@example.com")["is_catchall"] == 1


def test_ldif_hashes_log_in_as_they_are_and_an_inactive_account_does_not(ldif):
    LdifImporter(ldif).run(progress=False)
    assert Mailbox.objects.get(local_part="dirk").password.startswith("{LDAP-MD5}")  # LDAP's {MD5}
    for name, (_stored, password) in PASSWORDS.items():
        assert login_ok(f"{name}@example.com", password) == (name != "cleo"), name
    assert lookup("lookup_mailboxes_v1", "address", "cleo@example.com")["active"] == 0


def test_ldif_postmaster_entries_become_admin_grants(ldif):
    LdifImporter(ldif).run(progress=False)
    grant = AdminGrant.objects.get(admin__address="anna@example.com")
    assert list(grant.domains.values_list("name", flat=True)) == ["example.com"]


def test_ldif_refused_entries_name_the_reason(ldif):
    reasons = {f.key: f.reason for f in LdifImporter(ldif).run(progress=False).failures}
    assert "delete: TRUE" in reasons["gone@example.com"]
    assert "KERBEROS" in reasons["nohash@example.com"]


def test_ldif_notes_a_maildir_that_moves(ldif):
    report = LdifImporter(ldif).run(progress=False)
    assert report.notes == ["bert@example.com: the old maildir was elsewhere/bert/; here it is example.com/bert/"]


def test_ldif_import_run_again_changes_nothing(ldif):
    LdifImporter(ldif).run(progress=False)
    before = table_snapshot()
    assert LdifImporter(ldif).run(progress=False).changed == 0
    assert table_snapshot() == before  # every row of every table, the audit log's too


def test_ldif_command_and_parser(ldif):
    out = StringIO()
    call_partial("import_ldif", str(ldif), "--no-progress", stdout=out, stderr=StringIO())
    assert "grants: 1 created" in out.getvalue()
    entries = parse_ldif("dn: cn=a\ndescription:: w6TDtsO8\nlong: ab\n cd\n\n")
    assert entries == [{"dn": ["cn=a"], "description": ["\u00e4\u00f6\u00fc"], "long": ["abcd"]}]


LATIN1 = f"""dn: jvd=example.com,{BASE}
objectClass: JammVirtualDomain
jvd: example.com

dn: mail=juergen@example.com,jvd=example.com,{BASE}
objectClass: JammMailAccount
mail: juergen@example.com
givenName: J\u00fcrgen
sn: M\u00fcller
userPassword: {PASSWORDS["anna"][0]}

""".encode("latin-1")


def test_ldif_in_latin1_without_encoding_is_refused_whole_naming_the_line(ldif):
    ldif.write_bytes(LATIN1)
    before = table_snapshot()
    with pytest.raises(CommandError, match=r"line 8: byte 0xfc is not valid UTF-8"):
        call_command("import_ldif", str(ldif), stdout=StringIO(), stderr=StringIO())
    assert table_snapshot() == before


def test_ldif_in_latin1_with_its_encoding_keeps_the_names(ldif):
    ldif.write_bytes(LATIN1)
    call_command("import_ldif", str(ldif), "--encoding=latin-1", stdout=StringIO(), stderr=StringIO())
    juergen = Mailbox.objects.get(local_part="juergen")
    assert (juergen.first_name, juergen.last_name) == ("J\u00fcrgen", "M\u00fcller")


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


DOMAIN = f"""dn: jvd=example.com,{BASE}
objectClass: JammVirtualDomain
jvd: example.com

"""


def test_ldif_bare_maildrop_naming_an_entry_of_the_file_is_that_address(ldif):
    LdifImporter(ldif).run(progress=False)
    assert lookup("lookup_aliases_v1", "address", "abuse@example.com")["destinations"] == "postmaster@example.com"


def test_ldif_bare_maildrop_that_names_nothing_in_the_file_is_reported_with_its_line(ldif):
    text = (
        DOMAIN
        + account("anna")
        + f"""
dn: cn=postmaster,jvd=example.com,{BASE}
objectClass: top
objectClass: JammPostmaster
objectClass: JammMailAlias
cn: postmaster
mail: postmaster@example.com
maildrop: postmaster
roleOccupant: cn=postmaster,jvd=example.com,{BASE}
accountActive: TRUE

dn: mail=abuse@example.com,jvd=example.com,{BASE}
objectClass: top
objectClass: JammMailAlias
mail: abuse@example.com
maildrop: postmaster
accountActive: TRUE

dn: mail=team@example.com,jvd=example.com,{BASE}
objectClass: JammMailAlias
mail: team@example.com
maildrop: anna
maildrop: root

"""
    )
    ldif.write_text(text)
    report = LdifImporter(ldif).run(progress=False)
    failed = {f.key: (f.where, f.reason) for f in report.failures}
    assert failed["postmaster@example.com"][0] == f"line {line_of(text, 'dn: cn=postmaster')}"
    assert "maildrop 'postmaster' has no domain" in failed["postmaster@example.com"][1]
    assert failed["abuse@example.com"][0] == f"line {line_of(text, 'dn: mail=abuse')}"
    assert failed["team@example.com"][0] == f"line {line_of(text, 'dn: mail=team')}"
    assert "root@example.com is not an account or alias imported from this file" in failed["team@example.com"][1]
    assert report.count("alias", "created") == 0


def test_ldif_postmaster_occupant_that_is_no_account_of_the_file_is_reported(ldif):
    text = (
        DOMAIN
        + f"""dn: cn=postmaster,jvd=example.com,{BASE}
objectClass: top
objectClass: JammPostmaster
objectClass: JammMailAlias
mail: postmaster@example.com
maildrop: postmaster@example.net
roleOccupant: cn=admin,{BASE}

"""
    )
    ldif.write_text(text)
    [failure] = LdifImporter(ldif).run(progress=False).failures
    assert (failure.kind, failure.where) == ("grant", f"line {line_of(text, 'dn: cn=postmaster')}")
    assert f"roleOccupant cn=admin,{BASE} is not a mail account of this file: no admin grant made" == failure.reason
    assert not AdminGrant.objects.exists()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("mail anna@example.com", "not an LDIF line"),
        ("description:: w6TDtsO8!", "not valid base64"),
        ("description:: /w==", "not UTF-8 text"),
        ("\n continued", "a continuation line (it starts with a space) follows no line"),
    ],
)
def test_ldif_parse_errors_name_their_line(ldif, bad, reason):
    text = DOMAIN + account("anna").replace("sn: Example\n", f"sn: Example\n{bad}\n") + "\n"
    ldif.write_text(text)
    line = line_of(text, bad.strip())
    with pytest.raises(CommandError, match=rf"tree.ldif: line {line}: .*{re.escape(reason)}"):
        call_command("import_ldif", str(ldif), stdout=StringIO(), stderr=StringIO())


BERT = account("bert")


@pytest.mark.parametrize(
    ("tail", "reason"),
    [
        (BERT[: BERT.index("userPassword")], "it has no userpassword"),  # cut at a line end
        (BERT[: BERT.index("sn: Example") + 6], "its last line has no line end"),  # cut inside a line
        (f"dn: mail=bert@example.com,jvd=example.com,\n {BASE}\n", "it ends with a continuation line"),
    ],
)
def test_ldif_cut_in_the_middle_of_an_entry_imports_nothing(ldif, tail, reason):
    text = DOMAIN + account("anna") + "\n" + tail
    ldif.write_text(text)
    before = table_snapshot()
    start = line_of(text, "dn: mail=bert")
    with pytest.raises(CommandError, match=rf"line {start}: the last entry .* {reason}: the file looks cut short"):
        call_command("import_ldif", str(ldif), stdout=StringIO(), stderr=StringIO())
    assert table_snapshot() == before


def test_routing_after_the_import_is_the_jamm_trees_address_by_address(ldif):
    """What Postfix did with the Jamm tree: accounts, aliases (an inactive one unused), the catch-all."""
    LdifImporter(ldif).run(progress=False)
    expected = {
        "anna@example.com": {"anna@example.com"},
        "bert@example.com": {"bert@example.com"},
        "postmaster@example.com": {"anna@example.com"},
        "team@example.com": {"anna@example.com"},  # switched off: the catch-all takes it
        "unknown@example.com": {"anna@example.com"},
    }
    for address, mailboxes in expected.items():
        routed = trace(address)
        assert (set(routed.mailboxes), set(routed.external)) == (mailboxes, set()), (address, routed.steps)
