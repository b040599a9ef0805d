"""manage.py lookup_users create|drop: the two read-only database users of the mail servers,
and greylisting's, through which Exim writes the triplets.

Exim's user may SELECT every lookup view except the ones with password hashes;
Dovecot's may SELECT every lookup view, and write one column: an app password's last use
(``lookup.COLUMN_GRANTS``). Neither may read a base table: the
views run with their definer's (the migrating user's) rights, which is how
MariaDB/MySQL and PostgreSQL views work, so the definer must keep its rights.
Greylisting's user may read, add and change rows of one table (``lookup.GREYLIST_TABLE``) and
nothing else: not a view, not a hash.

Running ``create`` again sets new passwords and re-grants: it is idempotent.
Passwords are generated and printed once, or read from stdin (three lines: Exim's,
Dovecot's, then greylisting's) with ``--passwords-stdin``.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.services import generate_password
from mailadmin.cli import VerbCommand
from mailserver.lookup import COLUMN_GRANTS, DOVECOT_VIEWS, EXIM_VIEWS, GREYLIST_TABLE

# A user's table rights beyond its views: greylisting's user reads and writes its one table.
WRITES = "SELECT, INSERT, UPDATE"

_ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,31}$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.:%_-]{1,255}$")


def check_role(name: str, field: str) -> str:
    if not _ROLE_RE.match(name or ""):
        raise ValidationError(
            {
                field: _(
                    "'%(name)s' is not a valid user name: lower-case letters, digits and _, "
                    "at most 32, not starting with a digit."
                )
                % {"name": name}
            }
        )
    return name


def _column_grants(views: list[str]) -> list[tuple[str, list[str], list[str]]]:
    """The column rights that come with reading ``views`` (``lookup.COLUMN_GRANTS``)."""
    return [COLUMN_GRANTS[view] for view in views if view in COLUMN_GRANTS]


def create_mysql(
    cursor, database: str, users: dict[str, tuple[str, list[str]]], host: str, writers: dict[str, str] | None = None
) -> None:
    """Create (or reset) ``users`` (name -> (password, views)) and ``writers`` (name -> password:
    greylisting's, which writes GREYLIST_TABLE only)."""
    q = connection.ops.quote_name
    for user, password in (writers or {}).items():
        cursor.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", [user, host, password])
        cursor.execute("ALTER USER %s@%s IDENTIFIED BY %s", [user, host, password])
        cursor.execute("REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s", [user, host])
        cursor.execute(f"GRANT {WRITES} ON {q(database)}.{q(GREYLIST_TABLE)} TO %s@%s", [user, host])
    for user, (password, views) in users.items():
        cursor.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", [user, host, password])
        cursor.execute("ALTER USER %s@%s IDENTIFIED BY %s", [user, host, password])
        cursor.execute("REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s", [user, host])
        for view in views:
            cursor.execute(f"GRANT SELECT ON {q(database)}.{q(view)} TO %s@%s", [user, host])
        for table, read, write in _column_grants(views):
            cursor.execute(
                f"GRANT SELECT ({', '.join(map(q, read))}), UPDATE ({', '.join(map(q, write))}) "
                f"ON {q(database)}.{q(table)} TO %s@%s",
                [user, host],
            )


def _postgresql_role(cursor, database: str, user: str, password: str) -> None:
    q = connection.ops.quote_name
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [user])
    verb = "ALTER" if cursor.fetchone() else "CREATE"
    cursor.execute(f"{verb} ROLE {q(user)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %s", [password])
    cursor.execute(f"GRANT CONNECT ON DATABASE {q(database)} TO {q(user)}")
    cursor.execute(f"GRANT USAGE ON SCHEMA public TO {q(user)}")
    cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {q(user)}")


def create_postgresql(
    cursor, database: str, users: dict[str, tuple[str, list[str]]], writers: dict[str, str] | None = None
) -> None:
    q = connection.ops.quote_name
    for user, password in (writers or {}).items():
        _postgresql_role(cursor, database, user, password)
        cursor.execute(f"GRANT {WRITES} ON {q(GREYLIST_TABLE)} TO {q(user)}")
    for user, (password, views) in users.items():
        _postgresql_role(cursor, database, user, password)
        for view in views:
            cursor.execute(f"GRANT SELECT ON {q(view)} TO {q(user)}")
        for table, read, write in _column_grants(views):
            cursor.execute(
                f"GRANT SELECT ({', '.join(map(q, read))}), UPDATE ({', '.join(map(q, write))}) "
                f"ON {q(table)} TO {q(user)}"
            )


def drop_users(cursor, vendor: str, database: str, users: list[str], host: str) -> None:
    q = connection.ops.quote_name
    for user in users:
        if vendor == "mysql":
            cursor.execute("DROP USER IF EXISTS %s@%s", [user, host])
            continue
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [user])
        if cursor.fetchone():
            cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {q(user)}")
            cursor.execute(f"REVOKE ALL ON SCHEMA public FROM {q(user)}")
            cursor.execute(f"REVOKE ALL ON DATABASE {q(database)} FROM {q(user)}")
            cursor.execute(f"DROP ROLE {q(user)}")


class Command(VerbCommand):
    help = gettext_lazy(
        "Create (or drop) the read-only database users that Exim and Dovecot log in as, and the one "
        "Exim writes greylisting's table as."
    )
    verbs = {
        "create": gettext_lazy("create the users or reset their passwords and grants"),
        "drop": gettext_lazy("drop the three users"),
    }

    def _common(self, parser):
        parser.add_argument("--exim-user", default=settings.LOOKUP_EXIM_USER)
        parser.add_argument("--dovecot-user", default=settings.LOOKUP_DOVECOT_USER)
        parser.add_argument(
            "--greylist-user",
            default=settings.LOOKUP_GREYLIST_USER,
            help=_("the user Exim writes greylisting's table as"),
        )
        parser.add_argument(
            "--client-host",
            default="localhost",
            help=_("MariaDB/MySQL: the host part of the accounts (default localhost)"),
        )

    def args_create(self, parser):
        self._common(parser)
        parser.add_argument(
            "--passwords-stdin",
            action="store_true",
            help=_("read three lines from stdin: Exim's password, Dovecot's, then greylisting's"),
        )

    args_drop = _common

    def _target(self, options) -> tuple[str, str, str, str, str]:
        exim = check_role(options["exim_user"], "exim_user")
        dovecot = check_role(options["dovecot_user"], "dovecot_user")
        greylist = check_role(options["greylist_user"], "greylist_user")
        if len({exim, dovecot, greylist}) < 3:
            raise ValidationError(
                _(
                    "Exim, Dovecot and greylisting need three different users "
                    "(only Dovecot's may read hashes, only greylisting's may write)."
                )
            )
        if not _HOST_RE.match(options["client_host"]):
            raise ValidationError({"client_host": _("Not a host name, address or pattern.")})
        vendor = connection.vendor
        if vendor not in ("mysql", "postgresql"):
            raise ValidationError(
                _(
                    "SQLite has no database users: let Exim and Dovecot read the database file "
                    "(group read permission) as deploy/README.md describes."
                )
            )
        return vendor, exim, dovecot, greylist, connection.settings_dict["NAME"]

    def verb_create(self, options):
        vendor, exim, dovecot, greylist, database = self._target(options)
        if options["passwords_stdin"]:
            labels = (_("Exim password"), _("Dovecot password"), _("greylisting password"))
            passwords = [self.read_secret(label) for label in labels]
            if not all(passwords):
                raise ValidationError(_("Empty passwords are not allowed."))
        else:
            passwords = [generate_password(24) for _ in range(3)]
        exim_pw, dovecot_pw, greylist_pw = passwords
        users = {exim: (exim_pw, EXIM_VIEWS), dovecot: (dovecot_pw, DOVECOT_VIEWS)}
        with connection.cursor() as cursor:
            if vendor == "mysql":
                create_mysql(cursor, database, users, options["client_host"], {greylist: greylist_pw})
            else:
                create_postgresql(cursor, database, users, {greylist: greylist_pw})
        result = {
            "database": database,
            "exim": {"user": exim, "views": EXIM_VIEWS},
            "dovecot": {"user": dovecot, "views": DOVECOT_VIEWS},
            "greylist": {"user": greylist, "writes": [GREYLIST_TABLE]},
        }
        if not options["passwords_stdin"]:
            for key, password in zip(("exim", "dovecot", "greylist"), passwords, strict=True):
                result[key]["password"] = password
        return result

    def verb_drop(self, options):
        vendor, exim, dovecot, greylist, database = self._target(options)
        with connection.cursor() as cursor:
            drop_users(cursor, vendor, database, [exim, dovecot, greylist], options["client_host"])
        return {"dropped": [exim, dovecot, greylist]}
