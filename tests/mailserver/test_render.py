"""`manage.py render_mailconfig` writes configurations that Exim and Dovecot accept, for every database."""

# ruff: noqa: S603, S607 - these tests start the mail servers and their tools by design

from __future__ import annotations

import io
import json
import subprocess

import pytest
from django.core.management import CommandError, call_command

from mailserver import config as mailconfig
from mailserver import lookup

pytestmark = pytest.mark.mailstack

DATABASES = {
    "mysql": mailconfig.Database(vendor="mysql", name="mailadmin", socket="/run/mysqld/mysqld.sock"),
    "mysql-tcp": mailconfig.Database(vendor="mysql", name="mailadmin", host="db.example.org", port="3307"),
    "postgresql": mailconfig.Database(vendor="postgresql", name="mailadmin", host="localhost", port="5432"),
    # a socket of a cluster on another port: both servers must reach that cluster, not 5432's
    "postgresql-socket": mailconfig.Database.from_settings_dict(
        {"ENGINE": "django.db.backends.postgresql", "NAME": "mailadmin", "HOST": "/run/postgresql", "PORT": "5433"}
    ),
    "sqlite": mailconfig.Database(vendor="sqlite", name="/var/lib/mailadmin/mailadmin.sqlite3"),
}
SECRETS = {"LOOKUP_EXIM_PASSWORD": "exim-Secret1", "LOOKUP_DOVECOT_PASSWORD": "dovecot-Secret2"}


@pytest.mark.parametrize("kind", sorted(DATABASES))
def test_rendered_files_pass_exim_and_dovecot_syntax_checks(tmp_path, kind):
    mailconfig.render(tmp_path, {**SECRETS, "MAIL_DOVECOT_CONFIG_DIR": str(tmp_path / "dovecot")}, DATABASES[kind])
    exim = tmp_path / "exim4" / "exim4.conf"
    result = subprocess.run(["exim", "-bV", "-C", str(exim)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run(
        ["doveconf", "-n", "-c", str(tmp_path / "dovecot" / "dovecot.conf")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "quota_full_tempfail = yes" in result.stdout
    script = tmp_path / "dovecot" / "directory.lua"
    sql = script.read_text()
    assert "lookup_logins_v2" in sql and "@@" not in sql.replace("@@...@@", "")
    if kind != "sqlite":
        assert 'local USER, PASSWORD = "mail_dovecot", "dovecot-Secret2"' in sql
        assert 'database = "mailadmin"' in sql
    text = exim.read_text()
    queries = [line for line in text.splitlines() if "SELECT" in line and not line.lstrip().startswith("#")]
    assert queries and not [q for q in queries if "lookup_dovecot_users_v1" in q or "lookup_logins_v2" in q], (
        "Exim never reads hashes"
    )
    assert "lookup_addresses_v2" in text and "_v1" not in text, "the shipped configuration reads contract v2"
    joined = " ".join(text.replace("\\\n", " ").split())
    assert lookup.VACATION_TODAY in joined, "Exim and trace decide the vacation reply alike"
    assert "dovecot-Secret2" not in text and "exim-Secret1" not in sql
    assert exim.stat().st_mode & 0o077 == 0o040 and script.stat().st_mode & 0o007 == 0


def test_postgresql_socket_keeps_its_port_for_both_servers(tmp_path):
    mailconfig.render(tmp_path, SECRETS, DATABASES["postgresql-socket"])
    exim = (tmp_path / "exim4" / "exim4.conf").read_text()
    assert "LOOKUP_PGSQL_SERVERS = (/run/postgresql/.s.PGSQL.5433)/mailadmin/" in exim
    script = (tmp_path / "dovecot" / "directory.lua").read_text()
    assert '{ database = "mailadmin", host = "", port = 5433, socket = "/run/postgresql" }' in script


@pytest.mark.parametrize(
    ("primary", "replicas", "servers", "lua"),
    [
        (
            "mysql-tcp",
            "mysql://x@127.0.0.1:3308/mailadmin, mysql://x@/mailadmin?unix_socket=/run/mysqld/replica.sock",
            "127.0.0.1::3308/mailadmin/mail_exim/exim-Secret1 : localhost(/run/mysqld/replica.sock)/mailadmin/"
            "mail_exim/exim-Secret1 : db.example.org::3307/mailadmin/mail_exim/exim-Secret1",
            ['host = "127.0.0.1", port = 3308', 'socket = "/run/mysqld/replica.sock"', 'host = "db.example.org"'],
        ),
        (
            "postgresql",
            "postgres://x@replica.example.org:5433/mailadmin",
            "replica.example.org::5433/mailadmin/mail_exim/exim-Secret1 : localhost::5432/mailadmin/"
            "mail_exim/exim-Secret1",
            ['host = "replica.example.org", port = 5433', 'host = "localhost", port = 5432'],
        ),
    ],
)
def test_replicas_are_read_first_and_the_primary_written_and_asked_before_refusing(
    tmp_path, primary, replicas, servers, lua
):
    overrides = {
        **SECRETS,
        "LOOKUP_GREYLIST_PASSWORD": "grey-Secret3",
        "MAIL_LOOKUP_REPLICA_URLS": replicas,
        "MAIL_DOVECOT_CONFIG_DIR": str(tmp_path / "dovecot"),
    }
    mailconfig.render(tmp_path, overrides, DATABASES[primary])
    exim = tmp_path / "exim4" / "exim4.conf"
    result = subprocess.run(["exim", "-bV", "-C", str(exim)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    text = exim.read_text()
    assert f"_SERVERS = {servers}\n" in text
    where = servers.rsplit(" : ", 1)[-1].rsplit("/", 2)[0]  # the primary's "host/database"
    driver = "mysql" if DATABASES[primary].vendor == "mysql" else "pgsql"
    assert f"PRIMARY_DRIVER = {driver},servers={where}/mail_exim/exim-Secret1\n" in text
    assert f"GREYLIST_DRIVER = {driver},servers={where}/mail_greylist/grey-Secret3\n" in text
    script = (tmp_path / "dovecot" / "directory.lua").read_text()
    positions = [script.index(entry) for entry in lua]
    assert positions == sorted(positions), "directory.lua tries the servers in the order given, the primary last"
    result = subprocess.run(
        ["doveconf", "-n", "-c", str(tmp_path / "dovecot" / "dovecot.conf")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_without_replicas_nothing_is_asked_twice(tmp_path):
    mailconfig.render(tmp_path, {**SECRETS, "LOOKUP_GREYLIST_PASSWORD": "grey-Secret3"}, DATABASES["mysql"])
    text = (tmp_path / "exim4" / "exim4.conf").read_text()
    assert "PRIMARY_DRIVER =" not in text
    result = subprocess.run(
        ["exim", "-C", str(tmp_path / "exim4" / "exim4.conf"), "-bP", "macros"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "REPLICA_BEHIND" not in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("primary", "replicas", "message"),
    [
        ("postgresql", "mysql://x@127.0.0.1/mailadmin", "not a replica of the postgresql primary"),
        ("sqlite", "sqlite:////var/lib/other.sqlite3", "not a replica of the sqlite primary"),
        ("mysql", "mysql://x@127.0.0.1/mail'); DROP TABLE x; --", "replica 1 NAME"),
        ("mysql", "mysql://x@evil host:3306/mailadmin", "replica 1 HOST"),
        ("postgresql", "postgres://x@127.0.0.1:70000/mailadmin", "replica 1 PORT|not a database URL"),
    ],
)
def test_replica_urls_that_cannot_be_rendered_are_refused_by_name(primary, replicas, message):
    with pytest.raises(mailconfig.ConfigError, match=message):
        mailconfig.values({**SECRETS, "MAIL_LOOKUP_REPLICA_URLS": replicas}, DATABASES[primary])


def test_postgresql_lookups_use_escape_string_literals(tmp_path):
    mailconfig.render(tmp_path, SECRETS, DATABASES["postgresql"])
    text = (tmp_path / "exim4" / "exim4.conf").read_text()
    assert "LOOKUP_STR = E" in text and "LOOKUP_QUOTE = quote_pgsql" in text


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOOKUP_EXIM_PASSWORD", "pa/ss:word", "LOOKUP_EXIM_PASSWORD"),
        ("MAIL_STORE", "/var/vmail'; DROP", "MAIL_STORE"),
        ("MAIL_SMTP_PORT", "seventy", "MAIL_SMTP_PORT"),
        ("MAIL_CLAMD", "127.0.0.1", "MAIL_CLAMD"),
        ("MAIL_NO_SUCH_SETTING", "1", "Unknown setting"),
        ("VACATION_DEFAULT_SUBJECT", "Away\nBcc: victim@elsewhere.test", "VACATION_DEFAULT_SUBJECT"),
        ("MAIL_DOVECOT_LOGIN_MODE", "fast\n}\nservice imap {", "MAIL_DOVECOT_LOGIN_MODE"),
        ("MAIL_DOVECOT_LOGIN_PROCESSES", "0", "MAIL_DOVECOT_LOGIN_PROCESSES"),
        ("MAIL_DOVECOT_LOGIN_PROCESSES", "2\nservice_count = 0", "MAIL_DOVECOT_LOGIN_PROCESSES"),
        ("MAIL_ROUTE_FROM_RCPT_SECONDS", "60}}{yes}}", "MAIL_ROUTE_FROM_RCPT_SECONDS"),
        ("MAIL_ROUTE_FROM_RCPT_SECONDS", "-1", "MAIL_ROUTE_FROM_RCPT_SECONDS"),
        ("MAIL_ROUTE_FROM_RCPT_SECONDS", "86400", "MAIL_ROUTE_FROM_RCPT_SECONDS"),
    ],
)
def test_values_that_would_break_a_file_are_refused_by_name(name, value, message):
    with pytest.raises(mailconfig.ConfigError, match=message):
        mailconfig.values({**SECRETS, name: value}, DATABASES["mysql"])


@pytest.mark.parametrize(("seconds", "router"), [(60, True), (0, False)])
def test_routing_from_the_rcpt_row_is_a_router_of_its_own_that_zero_leaves_out(tmp_path, seconds, router):
    """The delivery after reception may route a plain mailbox by its RCPT's row; with 0 Exim has no
    such router (and the RCPT ACL keeps no list), so every delivery asks the directory."""
    mailconfig.render(tmp_path, {**SECRETS, "MAIL_ROUTE_FROM_RCPT_SECONDS": seconds}, DATABASES["mysql"])
    conf = tmp_path / "exim4" / "exim4.conf"
    routers = subprocess.run(["exim4", "-C", str(conf), "-bP", "router_list"], capture_output=True, text=True)
    assert routers.returncode == 0, routers.stderr
    assert ("received_mailbox" in routers.stdout.split()) is router, routers.stdout
    if router:
        option = ["exim4", "-C", str(conf), "-bP", "router", "received_mailbox"]
        shown = subprocess.run(option, capture_output=True, text=True).stdout
        assert "{<{$message_age}{60}}" in shown, shown
        assert routers.stdout.split()[0] == "received_mailbox", "it must come before every router that asks"


def test_default_vacation_text_is_literal_in_exim(tmp_path):
    values = mailconfig.values(
        {**SECRETS, "VACATION_DEFAULT_BODY": "Costs ${run{/bin/true}} and \\ more\nSecond line"}, DATABASES["mysql"]
    )
    assert values["VACATION_DEFAULT_BODY"] == "Costs \\$\\{run\\{/bin/true\\}\\} and \\\\ more\\nSecond line"


def test_the_default_vacation_text_has_a_branch_per_language_that_translates_it():
    """The shipped default in every language of the catalogues, chosen by the row's language; a
    text of the operator's own that the catalogues do not hold is the one text for all, still
    literal (a translation is quoted the same way as the text it translates)."""
    shipped = mailconfig.values(SECRETS, DATABASES["mysql"])
    assert shipped["VACATION_DEFAULT_SUBJECT"] == "Out of office"
    choice = shipped["VACATION_SUBJECT_IN_LANGUAGE"]
    assert choice == (
        "${if eq{VACATION_LANGUAGE}{de}{Abwesend}{${if eq{VACATION_LANGUAGE}{fr}{Absent du bureau}{Out of office}}}}"
    )
    assert "{Ich bin nicht da und lese Ihre Nachricht, wenn ich zurück bin.}" in shipped["VACATION_BODY_IN_LANGUAGE"]
    own = mailconfig.values({**SECRETS, "VACATION_DEFAULT_BODY": "Back on ${run{x}}"}, DATABASES["mysql"])
    assert own["VACATION_BODY_IN_LANGUAGE"] == own["VACATION_DEFAULT_BODY"] == "Back on \\$\\{run\\{x\\}\\}"


def test_command_takes_lookup_users_json_and_overrides(tmp_path, settings):
    settings.MAIL_LOOKUP_DATABASE_URL = "mysql://x@localhost/maildir?unix_socket=/run/mysqld/mysqld.sock"
    credentials = tmp_path / "users.json"
    credentials.write_text(
        json.dumps(
            {
                "exim": {"user": "mail_exim", "password": "Exim1pw"},
                "dovecot": {"user": "mail_dovecot", "password": "Dove2pw"},
            }
        )
    )
    out = io.StringIO()
    call_command(
        "render_mailconfig",
        str(tmp_path / "out"),
        "--credentials",
        str(credentials),
        "--set",
        "HOSTNAME=mx.example.net",
        "--set",
        "MAIL_SUBMISSION_PORT=2587",
        stdout=out,
    )
    text = (tmp_path / "out" / "exim4" / "exim4.conf").read_text()
    assert "LOOKUP_MYSQL_SERVERS = localhost(/run/mysqld/mysqld.sock)/maildir/mail_exim/Exim1pw" in text
    assert "MAIN_HOSTNAME = mx.example.net" in text and "PORT_SUBMISSION = 2587" in text
    script = (tmp_path / "out" / "dovecot" / "directory.lua").read_text()
    assert '"mail_dovecot", "Dove2pw"' in script and 'database = "maildir"' in script
    with pytest.raises(CommandError, match="MAIL_SMTP_PORT"):
        call_command("render_mailconfig", str(tmp_path / "bad"), "--set", "SMTP_PORT=0", stdout=io.StringIO())


@pytest.mark.parametrize("name", ["VACATION_DEFAULT_SUBJECT", "MAIL_WELCOME_SUBJECT", "MAIL_WELCOME_FROM"])
def test_settings_that_become_headers_refuse_line_breaks(name):
    """A line break in a value that becomes a header of generated mail stops the panel at start."""
    import os
    import sys

    env = {**os.environ, name: "Hello\r\nBcc: victim@elsewhere.test"}
    result = subprocess.run([sys.executable, "manage.py", "check"], capture_output=True, text=True, env=env)
    assert result.returncode != 0 and f"{name}: a header value must be one line" in result.stderr


@pytest.mark.parametrize(
    ("mode", "login", "reuse"), [("performance", ("0", "4"), "100"), ("security", ("1", "0"), "1")]
)
def test_dovecot_login_mode_sets_its_processes(tmp_path, mode, login, reuse):
    overrides = {**SECRETS, "MAIL_DOVECOT_CONFIG_DIR": str(tmp_path / "dovecot")}
    overrides |= {"MAIL_DOVECOT_LOGIN_MODE": mode, "MAIL_DOVECOT_LOGIN_PROCESSES": 4}
    mailconfig.render(tmp_path, overrides, DATABASES["mysql"])
    result = subprocess.run(
        ["doveconf", "-c", str(tmp_path / "dovecot" / "dovecot.conf"), "-h", "service/imap-login/service_count"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stdout.strip() == login[0], result.stderr
    for key, want in (("service/imap-login/process_min_avail", login[1]), ("service/imap/service_count", reuse)):
        out = subprocess.run(
            ["doveconf", "-c", str(tmp_path / "dovecot" / "dovecot.conf"), "-h", key], capture_output=True, text=True
        )
        assert out.stdout.strip() == want, (key, out.stdout, out.stderr)


def test_dovecot_script_knows_the_protocols_the_directory_stores(tmp_path):
    """The Lua script maps Dovecot's services onto the directory's protocol columns; a protocol
    added on one side only would let that service past every switch or refuse it always."""
    import re

    from accounts.models import APP_PASSWORD_PROTOCOLS, PROTOCOL_FIELDS

    mailconfig.render(tmp_path, {**SECRETS, "MAIL_DOVECOT_CONFIG_DIR": str(tmp_path / "dovecot")}, DATABASES["sqlite"])
    script = (tmp_path / "dovecot" / "directory.lua").read_text()
    table = re.search(r"local PROTOCOL_OF = \{([^}]*)\}", script).group(1)
    mapping = dict(re.findall(r'(\w+) = "(\w+)"', table))
    protocols = set(APP_PASSWORD_PROTOCOLS)
    assert set(mapping.values()) == protocols
    assert {field.removeprefix("allow_") for field in PROTOCOL_FIELDS} == protocols
    assert protocols <= set(lookup.V2_TABLES["lookup_logins_v2"])
    assert protocols <= set(lookup.V2_VIEWS["lookup_app_passwords_v2"])
    # every protocol is reached by the Dovecot service of its own name, submission by Exim's "smtp"
    assert all(mapping[p] == p for p in protocols) and mapping["submission"] == "smtp"
