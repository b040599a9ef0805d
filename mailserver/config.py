"""Rendering the shipped Exim and Dovecot configuration from the project's settings.

The templates live in ``deploy/exim/`` and ``deploy/dovecot/`` and hold no logic:

- Exim's numbered files are concatenated into one ``exim4.conf``, preceded by a block of
  macros (``NAME = value``) computed here; the templates use only those macros and
  Exim's own ``.ifdef``.
- Dovecot's files use ``@@NAME@@`` placeholders, replaced by the same values.

Every value is computed and checked here (``values()``), so a value that would break
the syntax of either file (a password with ``/``, a path with a quote) is refused with
a message naming the setting instead of producing a subtly wrong configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import environ
from django.conf import settings

DEPLOY_DIR = Path(settings.BASE_DIR) / "deploy"
VENDORS = ("mysql", "postgresql", "sqlite")
_SAFE_WORD = re.compile(r"^[A-Za-z0-9._+=@-]*$")
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._/%+@-]*$")
_PLACEHOLDER = re.compile(r"@@([A-Z0-9_]+)@@")

# Settings the command accepts with --set NAME=VALUE (names without the MAIL_ prefix work too).
OVERRIDABLE = (
    "MAIL_HOSTNAME",
    "MAIL_STORE",
    "MAIL_STORE_USER",
    "MAIL_STORE_GROUP",
    "MAIL_LISTEN_ADDRESSES",
    "MAIL_SMTP_PORT",
    "MAIL_SUBMISSION_PORT",
    "MAIL_SMTPS_PORT",
    "MAIL_IMAP_PORT",
    "MAIL_IMAPS_PORT",
    "MAIL_POP3_PORT",
    "MAIL_POP3S_PORT",
    "MAIL_TLS_CERTIFICATE",
    "MAIL_TLS_PRIVATE_KEY",
    "MAIL_MESSAGE_SIZE_LIMIT",
    "MAIL_CLAMD",
    "MAIL_SPAMD",
    "MAIL_SPAM_TAG_SCORE",
    "MAIL_SPAM_REJECT_SCORE",
    "MAIL_SMARTHOST",
    "MAIL_EXIM_USER",
    "MAIL_EXIM_SPOOL_DIRECTORY",
    "MAIL_EXIM_LOG_FILE_PATH",
    "MAIL_VACATION_DIRECTORY",
    "MAIL_DKIM_DIRECTORY",
    "MAIL_DOVECOT_BASE_DIR",
    "MAIL_DOVECOT_STATE_DIR",
    "MAIL_DOVECOT_INSTANCE_NAME",
    "MAIL_DOVECOT_LOG_PATH",
    "MAIL_DOVECOT_CONFIG_DIR",
    "MAIL_DOVECOT_FIRST_VALID_UID",
    "MAIL_DOVECOT_AUTH_USER",
    "MAIL_DOVECOT_LOGIN_MODE",
    "MAIL_DOVECOT_LOGIN_PROCESSES",
    "MAIL_LOOKUP_TIMEOUT",
    "MAIL_AUTH_CACHE_TTL",
    "MAIL_AUTH_FAILURE_DELAY",
    "MAIL_AUTH_PENALTY",
    "MAIL_AUTH_FAILURE_LIMIT",
    "MAIL_ROUTE_FROM_RCPT_SECONDS",
    "MAIL_LOOKUP_DATABASE_URL",
    "MAIL_LOOKUP_REPLICA_URLS",
    "LOOKUP_EXIM_USER",
    "LOOKUP_EXIM_PASSWORD",
    "LOOKUP_DOVECOT_USER",
    "LOOKUP_DOVECOT_PASSWORD",
    "LOOKUP_GREYLIST_USER",
    "LOOKUP_GREYLIST_PASSWORD",
    "VACATION_DEFAULT_SUBJECT",
    "VACATION_DEFAULT_BODY",
    "MAIL_PANEL_USER",
    "MAIL_PANEL_DIRECTORY",
)


class ConfigError(ValueError):
    """A setting that cannot be rendered; the message names it."""


@dataclass(frozen=True)
class Database:
    vendor: str
    name: str
    host: str = ""
    port: str = ""
    socket: str = ""

    @classmethod
    def from_settings_dict(cls, sd: dict) -> Database:
        engine = sd["ENGINE"].rsplit(".", 1)[-1]
        vendor = {"mysql": "mysql", "postgresql": "postgresql", "sqlite3": "sqlite"}.get(engine)
        if vendor is None:
            raise ConfigError(f"Unsupported database engine {sd['ENGINE']}.")
        host, socket = sd.get("HOST") or "", (sd.get("OPTIONS") or {}).get("unix_socket", "")
        if vendor == "postgresql" and host.startswith("/"):
            host, socket = "", f"{host.rstrip('/')}/.s.PGSQL.{sd.get('PORT') or 5432}"
        if vendor == "mysql" and host.startswith("/"):
            host, socket = "", host
        if vendor == "mysql" and not host and not socket:
            socket = "/run/mysqld/mysqld.sock"
        return cls(vendor=vendor, name=str(sd["NAME"]), host=host, port=str(sd.get("PORT") or ""), socket=socket)


def current_database() -> Database:
    """The database the mail servers read: MAIL_LOOKUP_DATABASE_URL, else Django's own."""
    url = getattr(settings, "MAIL_LOOKUP_DATABASE_URL", "")
    if url:
        return Database.from_settings_dict(environ.Env.db_url_config(url))
    from django.db import connection

    return Database.from_settings_dict(connection.settings_dict)


def _setting(overrides: dict, name: str):
    return overrides[name] if name in overrides else getattr(settings, name)


def _word(name: str, value) -> str:
    value = str(value)
    if not _SAFE_WORD.match(value):
        raise ConfigError(f"{name}: '{value}' may only contain letters, digits and . _ + = @ -")
    return value


def _path(name: str, value) -> str:
    value = str(value)
    if not _SAFE_PATH.match(value):
        raise ConfigError(f"{name}: '{value}' must be an absolute path of letters, digits and . _ / % + @ -")
    return value


def _port(name: str, value) -> str:
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise ConfigError(f"{name}: '{value}' is not a port number.")
    return str(port)


def _count(name: str, value, most: int = 1_000_000, what: str = "a whole number") -> str:
    """A whole number (of events, of seconds) up to ``most``; 0 (off) renders as nothing, so the
    template's .ifdef skips it."""
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or int(text) > most:
        raise ConfigError(f"{name}: '{value}' is not {what} from 0 to {most}.")
    return "" if int(text) == 0 else str(int(text))


def _seconds(name: str, value) -> str:
    try:
        seconds = int(str(value).strip())
    except ValueError:
        seconds = 0
    if not 0 < seconds <= 300:
        raise ConfigError(f"{name}: '{value}' is not a number of seconds from 1 to 300.")
    return str(seconds)


def _score(name: str, value) -> str:
    """Spam scores as Exim's $spam_score_int (tenths)."""
    try:
        return str(round(float(value) * 10))
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: '{value}' is not a number.")


def _exim_text(value: str) -> str:
    """Text for an expanded Exim option, taken literally; newlines become \\n."""
    for ch in ("\\", "$", "{", "}"):
        value = value.replace(ch, "\\" + ch)
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n").strip()


def _one_line(name: str, value) -> str:
    """A value that becomes a header line of generated mail: no line break, no control character."""
    value = str(value)
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise ConfigError(f"{name}: a header value must be one line without control characters.")
    return value


def _vacation_texts(subject, body) -> dict[str, str]:
    """The default vacation reply in the server's language, and Exim expansions that choose it in
    the language of the mailbox's vacation (VACATION_LANGUAGE, 30-transports.conf) for each other
    language of the panel whose text differs (vacation.models.default_text: the catalogues'
    translation of the configured text; a text they do not hold stays as it is)."""
    from vacation.models import default_text

    texts = {code: default_text(code, subject=str(subject), body=str(body)) for code in dict(settings.LANGUAGES)}
    server = default_text("", subject=str(subject), body=str(body))
    found = {}
    for n, (key, name) in enumerate((("SUBJECT", "VACATION_DEFAULT_SUBJECT"), ("BODY", "VACATION_DEFAULT_BODY"))):
        escaped = {code: _exim_text(_one_line(name, t[n]) if n == 0 else t[n]) for code, t in texts.items()}
        default = _exim_text(_one_line(name, server[n]) if n == 0 else server[n])
        choice = default
        for code, text in reversed(escaped.items()):
            if text != default:
                if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", code):
                    raise ConfigError(f"LANGUAGES: {code!r} is not a language code Exim can compare.")
                choice = f"${{if eq{{VACATION_LANGUAGE}}{{{code}}}{{{text}}}{{{choice}}}}}"
        found[f"VACATION_DEFAULT_{key}"] = default
        found[f"VACATION_{key}_IN_LANGUAGE"] = choice
    return found


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _smarthost(value: str) -> str:
    """'host' or 'host:port' (or Exim's 'host::port') as a route_list entry."""
    match = re.match(r"^([A-Za-z0-9.-]+)(?:::?(\d+))?$", value)
    if value and not match:
        raise ConfigError(f"MAIL_SMARTHOST: '{value}' is not 'host' or 'host:port'.")
    if not value:
        return ""
    host, port = match.groups()
    return f"{host}::{_port('MAIL_SMARTHOST', port)}" if port else host


def _scanner(name: str, value: str) -> str:
    """'HOST PORT' or a socket path, as Exim's clamd/spamd options take them."""
    value = value.strip()
    if value.startswith("/"):
        return _path(name, value)
    parts = value.split()
    if len(parts) != 2:
        raise ConfigError(f"{name}: '{value}' is neither 'HOST PORT' nor a socket path.")
    return f"{_word(name, parts[0])} {_port(name, parts[1])}"


_CHECKED = {
    "HOSTNAME": _word, "STORE_USER": _word, "STORE_GROUP": _word, "MESSAGE_SIZE_LIMIT": _word,
    "EXIM_USER": _word, "DOVECOT_INSTANCE_NAME": _word, "DOVECOT_AUTH_USER": _word,
    "LOOKUP_TIMEOUT": _seconds,
    "SMTP_PORT": _port, "SUBMISSION_PORT": _port, "SMTPS_PORT": _port, "IMAP_PORT": _port,
    "IMAPS_PORT": _port, "POP3_PORT": _port, "POP3S_PORT": _port,
    "TLS_CERTIFICATE": _path, "TLS_PRIVATE_KEY": _path, "EXIM_SPOOL_DIRECTORY": _path,
    "EXIM_LOG_FILE_PATH": _path, "VACATION_DIRECTORY": _path, "DOVECOT_BASE_DIR": _path, "DKIM_DIRECTORY": _path,
    "DOVECOT_STATE_DIR": _path, "DOVECOT_CONFIG_DIR": _path, "PANEL_USER": _word, "PANEL_DIRECTORY": _path,
}  # fmt: skip


def values(overrides: dict | None = None, database: Database | None = None) -> dict[str, str]:
    """Every value the templates use, computed and checked."""
    o = {k if k in OVERRIDABLE else f"MAIL_{k}": v for k, v in (overrides or {}).items()}
    unknown = set(o) - set(OVERRIDABLE)
    if unknown:
        raise ConfigError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
    if "MAIL_LOOKUP_DATABASE_URL" in o and o["MAIL_LOOKUP_DATABASE_URL"]:
        database = Database.from_settings_dict(environ.Env.db_url_config(o["MAIL_LOOKUP_DATABASE_URL"]))
    db = database or current_database()
    s = lambda name: _setting(o, name)  # noqa: E731
    store = _path("MAIL_STORE", str(s("MAIL_STORE")).rstrip("/"))
    listen = s("MAIL_LISTEN_ADDRESSES")
    listen = [a.strip() for a in (listen.split(",") if isinstance(listen, str) else listen) if a.strip()]
    # Template value X comes from setting MAIL_X through the checker that keeps its file's syntax safe.
    v = {key: check(f"MAIL_{key}", s(f"MAIL_{key}")) for key, check in _CHECKED.items()}
    v |= {
        "STORE": store,
        "EXIM_LISTEN": " : ".join(_word("MAIL_LISTEN_ADDRESSES", a).replace(":", "::") for a in listen),
        "DOVECOT_LISTEN": ", ".join(_word("MAIL_LISTEN_ADDRESSES", a) for a in listen) or "*, ::",
        "CLAMD": _scanner("MAIL_CLAMD", s("MAIL_CLAMD")) if str(s("MAIL_CLAMD")).strip() else "",
        "SPAMD": _scanner("MAIL_SPAMD", s("MAIL_SPAMD")) if str(s("MAIL_SPAMD")).strip() else "",
        "SPAM_TAG_INT": _score("MAIL_SPAM_TAG_SCORE", s("MAIL_SPAM_TAG_SCORE")),
        "SPAM_REJECT_INT": _score("MAIL_SPAM_REJECT_SCORE", s("MAIL_SPAM_REJECT_SCORE")),
        "SMARTHOST": _smarthost(str(s("MAIL_SMARTHOST")).strip()),
        "DOVECOT_FIRST_VALID_UID": str(int(s("MAIL_DOVECOT_FIRST_VALID_UID"))),
        "AUTH_CACHE_TTL": str(s("MAIL_AUTH_CACHE_TTL")),
        "AUTH_FAILURE_DELAY": str(s("MAIL_AUTH_FAILURE_DELAY")),
        "AUTH_PENALTY_SOCKET_MODE": "0600" if _flag(s("MAIL_AUTH_PENALTY")) else "0",
        "AUTH_FAIL_LIMIT": _count("MAIL_AUTH_FAILURE_LIMIT", s("MAIL_AUTH_FAILURE_LIMIT")),
        "ROUTE_FROM_RCPT_SECONDS": _count(
            "MAIL_ROUTE_FROM_RCPT_SECONDS", s("MAIL_ROUTE_FROM_RCPT_SECONDS"), most=3600, what="a number of seconds"
        ),
    }
    v |= _vacation_texts(s("VACATION_DEFAULT_SUBJECT"), s("VACATION_DEFAULT_BODY"))
    v.update(_login_processes(s("MAIL_DOVECOT_LOGIN_MODE"), s("MAIL_DOVECOT_LOGIN_PROCESSES")))
    log_path = str(s("MAIL_DOVECOT_LOG_PATH"))
    v["DOVECOT_LOG_PATH"] = log_path if log_path == "syslog" else _path("MAIL_DOVECOT_LOG_PATH", log_path)
    for key in ("AUTH_CACHE_TTL", "AUTH_FAILURE_DELAY"):
        if not re.match(r"^\d+\s*[a-z]*$", v[key]):
            raise ConfigError(f"MAIL_{key}: '{v[key]}' is not a Dovecot time like '60 s'.")
    v["DOVECOT_AUTH_SOCKET"] = f"{v['DOVECOT_BASE_DIR']}/auth-client"
    v["DOVECOT_LMTP_SOCKET"] = f"{v['DOVECOT_BASE_DIR']}/lmtp"
    v.update(_database_values(db, s))
    return v


def _login_processes(mode, processes) -> dict[str, str]:
    """Dovecot's process settings for MAIL_DOVECOT_LOGIN_MODE (see mailadmin/settings.py)."""
    mode = str(mode).strip().lower()
    if mode not in ("performance", "security"):
        raise ConfigError(f"MAIL_DOVECOT_LOGIN_MODE: '{mode}' is not one of performance, security.")
    count = _count("MAIL_DOVECOT_LOGIN_PROCESSES", processes)
    if mode == "security":
        return {"LOGIN_SERVICE_COUNT": "1", "LOGIN_MIN_AVAIL": "0", "MAIL_SERVICE_COUNT": "1"}
    if not count or int(count) > 256:
        raise ConfigError("MAIL_DOVECOT_LOGIN_PROCESSES: from 1 to 256 (the mail host's CPU cores).")
    return {"LOGIN_SERVICE_COUNT": "0", "LOGIN_MIN_AVAIL": count, "MAIL_SERVICE_COUNT": "100"}


def _credentials(s, role: str) -> tuple[str, str]:
    user = _word(f"LOOKUP_{role}_USER", s(f"LOOKUP_{role}_USER"))
    password = str(s(f"LOOKUP_{role}_PASSWORD"))
    if not re.match(r"^[A-Za-z0-9._+=@-]*$", password):
        raise ConfigError(f"LOOKUP_{role}_PASSWORD may only contain letters, digits and . _ + = @ -")
    return user, password


def _server(db: Database, what: str) -> tuple[str, dict[str, str]]:
    """Where one database server is: Exim's server string before "/database/user/password", and
    the connection fields of directory.lua's SERVERS entry."""
    if db.vendor == "mysql":
        where = f"localhost({_path(f'{what} socket', db.socket)})" if db.socket else _word(f"{what} HOST", db.host)
        if db.port and not db.socket:
            where += f"::{_port(f'{what} PORT', db.port)}"
        port = "0" if db.socket else _port(f"{what} PORT", db.port or 3306)
        return where, {"host": "" if db.socket else db.host, "port": port, "socket": db.socket}
    if db.socket:
        # the socket is DIR/.s.PGSQL.PORT: both servers need the directory *and* the port
        directory, _, filename = _path(f"{what} socket", db.socket).rpartition("/")
        port = _port(f"{what} PORT", filename.rsplit(".", 1)[-1])
        return f"({db.socket})", {"host": "", "port": port, "socket": directory}
    host, port = _word(f"{what} HOST", db.host or "localhost"), _port(f"{what} PORT", db.port or 5432)
    return f"{host}::{port}", {"host": host, "port": port, "socket": ""}


def replica_databases(urls, primary: Database) -> list[Database]:
    """MAIL_LOOKUP_REPLICA_URLS (a list, or one comma-separated string) as servers of the primary's kind."""
    if isinstance(urls, str):
        urls = urls.split(",")
    replicas = []
    for url in (u.strip() for u in urls or ()):
        if not url:
            continue
        try:
            replica = Database.from_settings_dict(environ.Env.db_url_config(url))
        except (ConfigError, KeyError, ValueError) as exc:
            raise ConfigError(f"MAIL_LOOKUP_REPLICA_URLS: '{url}' is not a database URL ({exc}).") from None
        if replica.vendor != primary.vendor or replica.vendor == "sqlite":
            raise ConfigError(
                f"MAIL_LOOKUP_REPLICA_URLS: '{url}' is not a replica of the {primary.vendor} primary "
                "(replicas are MariaDB/MySQL or PostgreSQL servers of the primary's kind)."
            )
        replicas.append(replica)
    return replicas


def _lua_servers(entries: list[dict[str, str]]) -> str:
    """directory.lua's SERVERS table (every value already checked to be a safe word, path or port)."""
    items = [
        f'{{ database = "{e["database"]}", host = "{e["host"]}", port = {e["port"]}, socket = "{e["socket"]}" }}'
        for e in entries
    ]
    return "{\n  " + ",\n  ".join(items) + ",\n}"


def _database_values(db: Database, s) -> dict[str, str]:
    """The lookup driver, the quoting operator and the connection of each server.

    With replicas (MAIL_LOOKUP_REPLICA_URLS, nearest first), Exim and Dovecot read them in that
    order and the primary (the lookup database) last; what must be written or must be current
    is asked of the primary alone: greylisting's triplets (GREYLIST_DRIVER) and, before an
    address is refused as unknown, whether the primary knows it (PRIMARY_DRIVER, 10-acl.conf).
    """
    v = {"DB_VENDOR": db.vendor}
    if db.vendor == "sqlite":
        path = _path("database NAME", db.name)
        replica_databases(s("MAIL_LOOKUP_REPLICA_URLS"), db)  # (refuses any: SQLite has no replicas)
        v.update(EXIM_DRIVER="sqlite", EXIM_QUOTE="quote_sqlite", EXIM_STR="", EXIM_SQLITE_FILE=path)
        # (no users: Exim writes the triplets into the same file, which it may then write; deploy/README.md)
        v.update(GREYLIST_DRIVER="sqlite", GREYLIST_INSERT="INSERT INTO", GREYLIST_KEEP="ON CONFLICT DO NOTHING")
        v.update(LUA_DRIVER="sqlite3", LUA_USER="", LUA_PASSWORD="")
        v["LUA_SERVERS"] = _lua_servers([{"database": path, "host": "", "port": "0", "socket": ""}])
        return v
    replicas = replica_databases(s("MAIL_LOOKUP_REPLICA_URLS"), db)
    exim_user, exim_pw = _credentials(s, "EXIM")
    dovecot_user, dovecot_pw = _credentials(s, "DOVECOT")
    v.update(LUA_USER=dovecot_user, LUA_PASSWORD=dovecot_pw)
    if db.vendor == "mysql":
        v.update(EXIM_DRIVER="mysql", EXIM_QUOTE="quote_mysql", EXIM_STR="", LUA_DRIVER="mysql")
    else:
        # quote_pgsql escapes with backslashes: only an E'' literal reads them as escapes.
        v.update(EXIM_DRIVER="pgsql", EXIM_QUOTE="quote_pgsql", EXIM_STR="E", LUA_DRIVER="postgres")
    servers, lua = [], []
    for n, server in enumerate([*replicas, db]):
        what = "database" if server is db else f"replica {n + 1}"
        name = _word(f"{what} NAME", server.name)
        where, fields = _server(server, what)
        servers.append(f"{where}/{name}/{exim_user}/{exim_pw}")
        lua.append({"database": name, **fields})
    primary = servers[-1].rsplit("/", 2)[0]  # "where/name" of the primary
    # Exim tries the servers of its list in turn until one answers (a colon-separated list).
    v["EXIM_MYSQL_SERVERS" if db.vendor == "mysql" else "EXIM_PGSQL_SERVERS"] = " : ".join(servers)
    v["LUA_SERVERS"] = _lua_servers(lua)
    if replicas:
        v["PRIMARY_DRIVER"] = f"{v['EXIM_DRIVER']},servers={primary}/{exim_user}/{exim_pw}"
    # Greylisting's writes go to the primary as its own user (none configured: no greylisting).
    greylist_user, greylist_pw = _credentials(s, "GREYLIST")
    if greylist_pw:
        v["GREYLIST_DRIVER"] = f"{v['EXIM_DRIVER']},servers={primary}/{greylist_user}/{greylist_pw}"
        mysql = db.vendor == "mysql"
        v["GREYLIST_INSERT"] = "INSERT IGNORE INTO" if mysql else "INSERT INTO"
        v["GREYLIST_KEEP"] = "" if mysql else "ON CONFLICT DO NOTHING"
    return v


# Exim macro name -> value key. Only set values become macros, so templates can `.ifdef` them.
EXIM_MACROS = {
    "MAIN_HOSTNAME": "HOSTNAME",
    "MAIN_LISTEN": "EXIM_LISTEN",
    "PORT_SMTP": "SMTP_PORT",
    "PORT_SUBMISSION": "SUBMISSION_PORT",
    "PORT_TLS_ON_CONNECT": "SMTPS_PORT",
    "TLS_CERT_FILE": "TLS_CERTIFICATE",
    "TLS_KEY_FILE": "TLS_PRIVATE_KEY",
    "SIZE_LIMIT": "MESSAGE_SIZE_LIMIT",
    "CLAMD_ADDRESS": "CLAMD",
    "SPAMD_ADDRESS": "SPAMD",
    "SPAM_TAG_INT": "SPAM_TAG_INT",
    "SPAM_REJECT_INT": "SPAM_REJECT_INT",
    "SMARTHOST_ROUTE": "SMARTHOST",
    "RUN_AS_USER": "EXIM_USER",
    "SPOOL_DIR": "EXIM_SPOOL_DIRECTORY",
    "LOGFILE_PATH": "EXIM_LOG_FILE_PATH",
    "VACATION_ONCE_DIR": "VACATION_DIRECTORY",
    "DKIM_KEY_DIR": "DKIM_DIRECTORY",
    "AUTH_FAIL_LIMIT": "AUTH_FAIL_LIMIT",
    "RCPT_ROUTE_SECONDS": "ROUTE_FROM_RCPT_SECONDS",
    "VACATION_DEFAULT_SUBJECT": "VACATION_DEFAULT_SUBJECT",
    "VACATION_DEFAULT_TEXT": "VACATION_DEFAULT_BODY",
    "VACATION_SUBJECT_IN_LANGUAGE": "VACATION_SUBJECT_IN_LANGUAGE",
    "VACATION_TEXT_IN_LANGUAGE": "VACATION_BODY_IN_LANGUAGE",
    "DOVECOT_AUTH_SOCKET": "DOVECOT_AUTH_SOCKET",
    "DOVECOT_LMTP_SOCKET": "DOVECOT_LMTP_SOCKET",
    "LOOKUP_DRIVER": "EXIM_DRIVER",
    "LOOKUP_QUOTE": "EXIM_QUOTE",
    "LOOKUP_STR": "EXIM_STR",
    "LOOKUP_MYSQL_SERVERS": "EXIM_MYSQL_SERVERS",
    "LOOKUP_PGSQL_SERVERS": "EXIM_PGSQL_SERVERS",
    "LOOKUP_SQLITE_FILE": "EXIM_SQLITE_FILE",
    "GREYLIST_DRIVER": "GREYLIST_DRIVER",
    "PRIMARY_DRIVER": "PRIMARY_DRIVER",
    "GREYLIST_INSERT": "GREYLIST_INSERT",
    "GREYLIST_KEEP": "GREYLIST_KEEP",
}
# Macros that exist even when empty (the templates use them unconditionally).
_ALWAYS = {"LOOKUP_STR", "GREYLIST_KEEP"}


def _check_macro_names() -> None:
    names = list(EXIM_MACROS)
    for a in names:
        for b in names:
            if a != b and b.startswith(a):
                raise AssertionError(f"Exim macro {a} is a prefix of {b}")


_check_macro_names()


def render_exim(v: dict[str, str]) -> str:
    lines = [
        "# Exim configuration for the mail directory, rendered by `manage.py render_mailconfig`",
        f"# from deploy/exim/ (lookup contract v1, {v['DB_VENDOR']}). Do not edit: change the",
        "# settings or the templates and render again.",
        "",
    ]
    for macro, key in EXIM_MACROS.items():
        value = v.get(key, "")
        if value == "" and macro not in _ALWAYS:
            continue
        lines.append(f"{macro} = {value}")
    parts = ["\n".join(lines) + "\n"]
    for path in sorted((DEPLOY_DIR / "exim").glob("[0-9][0-9]-*.conf")):
        parts.append(path.read_text())
    return "\n".join(parts)


def _fill(text: str, v: dict[str, str], origin: str) -> str:
    def sub(match):
        key = match.group(1)
        if key not in v:
            raise ConfigError(f"{origin}: unknown placeholder @@{key}@@")
        return v[key]

    return _PLACEHOLDER.sub(sub, text)


def render_dovecot(v: dict[str, str]) -> dict[str, str]:
    """Relative path -> text of every Dovecot file."""
    base = DEPLOY_DIR / "dovecot"
    return {
        str(path.relative_to(base)): _fill(path.read_text(), v, str(path.relative_to(DEPLOY_DIR)))
        for path in sorted(base.rglob("*"))
        if path.is_file() and (path.suffix in (".conf", ".lua"))
    }


def render_systemd(v: dict[str, str]) -> dict[str, str]:
    """Unit name -> text of the panel's systemd units and timers (deploy/systemd/)."""
    base = DEPLOY_DIR / "systemd"
    return {
        path.name: _fill(path.read_text(), v, str(path.relative_to(DEPLOY_DIR)))
        for path in sorted(base.iterdir())
        if path.suffix in (".service", ".timer")
    }


def render(output: Path, overrides: dict | None = None, database: Database | None = None) -> list[Path]:
    """Write exim4/exim4.conf, dovecot/... and systemd/... under ``output``; return the files written."""
    v = values(overrides, database)
    output = Path(output)
    written = []
    exim = output / "exim4" / "exim4.conf"
    exim.parent.mkdir(parents=True, exist_ok=True)
    exim.write_text(render_exim(v))
    exim.chmod(0o640)
    written.append(exim)
    for rel, text in render_dovecot(v).items():
        path = output / "dovecot" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o640 if path.suffix == ".lua" else 0o644)  # the script holds a password
        written.append(path)
    for name, text in render_systemd(v).items():
        path = output / "systemd" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)
        written.append(path)
    return written
