"""Reading the tables of an old system: from its live database, or from a dump file.

``open_source(text)`` takes a database URL (``mysql://user:pw@host/db``,
``mysql://root@localhost/db?unix_socket=/run/mysqld/mysqld.sock``,
``postgres://user@host/db``) or the path of a SQL dump. Both give ``table(name)``:
a list of rows as dicts, or None when the table does not exist.

Dumps are parsed here, not loaded into a scratch server: no server of the old
kind, no privileges and no clean-up are needed, and a dump is never executed.
The parser reads what ``mysqldump``/``mariadb-dump`` write (``CREATE TABLE`` and
extended ``INSERT``s, with or without column lists, backslash escapes) and what
``pg_dump`` writes (``COPY ... FROM stdin`` blocks, or ``INSERT``s with
``--inserts``/``--column-inserts``). Other statements are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

import environ

from imports.base import SourceError, read_text
from mailadmin.lib.numbers import NumberError, parse_int


def open_source(text: str, encoding: str | None = None):
    if "://" in text:
        return LiveDatabase(text)
    path = Path(text)
    if not path.is_file():
        raise SourceError(f"{text} is neither a database URL nor a dump file.")
    return DumpFile(path, encoding)


class LiveDatabase:
    def __init__(self, url: str):
        config = environ.Env.db_url_config(url)
        engine = config["ENGINE"]
        self.label = re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", url)  # never show a password
        try:
            if "mysql" in engine:
                import MySQLdb

                kwargs = {"user": config.get("USER") or "root", "db": config["NAME"], "charset": "utf8mb4"}
                if config.get("PASSWORD"):
                    kwargs["passwd"] = config["PASSWORD"]
                if config.get("HOST"):
                    kwargs["host"] = config["HOST"]
                if config.get("PORT"):
                    kwargs["port"] = int(config["PORT"])
                if config.get("OPTIONS", {}).get("unix_socket"):
                    kwargs["unix_socket"] = config["OPTIONS"]["unix_socket"]
                self.conn, self.quote, self.vendor = MySQLdb.connect(**kwargs), "`", "mysql"
            elif "postgres" in engine:
                import psycopg

                self.conn = psycopg.connect(
                    dbname=config["NAME"],
                    user=config.get("USER") or None,
                    password=config.get("PASSWORD") or None,
                    host=config.get("HOST") or None,
                    port=config.get("PORT") or None,
                )
                self.quote, self.vendor = '"', "postgresql"
            else:
                raise SourceError(f"Unsupported source database {engine}; use MySQL/MariaDB or PostgreSQL.")
        except SourceError:
            raise
        except Exception as exc:  # the drivers' own error classes differ
            raise SourceError(f"Cannot connect to {self.label}: {exc}") from None

    def table(self, name: str) -> list[dict] | None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise SourceError(f"Bad table name {name!r}.")
        cursor = self.conn.cursor()
        try:
            cursor.execute(f"SELECT * FROM {self.quote}{name}{self.quote}")
        except Exception:  # no such table
            self.conn.rollback()
            return None
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        cursor.close()
        return rows

    def close(self):
        self.conn.close()


# The encodings dumps declare (mysqldump: SET NAMES; pg_dump: client_encoding), as Python names.
# MySQL's "latin1" is Windows-1252; PostgreSQL's LATIN1 is ISO 8859-1.
_DECLARED = {"utf8": "utf-8", "utf8mb4": "utf-8", "utf8mb3": "utf-8", "latin1": "cp1252", "win1252": "cp1252"}


def declared_encoding(head: bytes) -> str | None:
    """The encoding a dump declares near its start, as a Python codec name (None: not declared)."""
    text = head.decode("ascii", errors="replace")
    match = re.search(r"SET\s+NAMES\s+'?(\w+)", text, re.I) or re.search(r"client_encoding\s*=\s*'(\w+)'", text, re.I)
    if match is None:
        return None
    name = match.group(1).lower()
    if name == "latin1" and "client_encoding" in match.group(0).lower():
        return "latin-1"
    return _DECLARED.get(name, name)


class DumpFile:
    def __init__(self, path: Path, encoding: str | None = None):
        self.label = str(path)
        with open(path, "rb") as handle:
            declared = declared_encoding(handle.read(20000))
        text = read_text(path, encoding or declared)
        self.tables = parse_dump(text)

    def table(self, name: str) -> list[dict] | None:
        return self.tables.get(name.lower())

    def close(self):
        pass


# --- the dump parser -------------------------------------------------------------------

_NAME = r'(?:`[^`]+`|"[^"]+"|[A-Za-z_][\w$]*)'
_QUALIFIED = re.compile(rf"\s*((?:{_NAME}\.)?{_NAME})\s*", re.S)
_CONSTRAINT_WORDS = {"primary", "key", "unique", "constraint", "index", "foreign", "check", "fulltext", "spatial"}


def parse_dump(text: str) -> dict[str, list[dict]]:
    """Rows of every table a dump fills: {table name: [row dict, ...]}.

    A dump that is not whole is refused (SourceError naming the line): one that ends inside a
    statement, a string or a COPY block, and a mysqldump or pg_dump file without the line its
    tool writes last (cut short exactly between two statements).
    """
    head = text[:2000].lower()
    mysql_style = "`" in text[:20000] or "mysqldump" in head or "mariadb dump" in head
    columns: dict[str, list[str]] = {}
    tables: dict[str, list[dict]] = {}
    pg_style = "-- postgresql database dump" in head
    for statement, copy_lines, line in _statements(text, backslashes=mysql_style, hash_comments=not pg_style):
        kind = statement.lstrip()[:20].lower()
        if kind.startswith("create table"):
            name, cols = _create_table(statement)
            columns[name] = cols
            tables.setdefault(name, [])
        elif kind.startswith("insert into"):
            try:
                name, cols, rows = _insert(statement, backslashes=mysql_style)
            except SourceError as exc:
                raise SourceError(f"line {line}: {exc}") from None
            cols = cols or columns.get(name)
            if cols is None:
                raise SourceError(f"INSERT into {name} before its CREATE TABLE and without a column list.")
            tables.setdefault(name, []).extend(_row(name, cols, row) for row in rows)
        elif kind.startswith("copy ") and copy_lines is not None:
            name, cols = _copy_head(statement)
            cols = cols or columns.get(name, [])
            tables.setdefault(name, []).extend(_row(name, cols, _copy_row(line)) for line in copy_lines)
    tail = text[-2000:].lower()
    lines = text.count("\n") + 1
    if re.search(r"^-- (mysql|mariadb) dump", head, re.M) and "-- dump completed" not in tail:
        raise SourceError(f"line {lines}: the dump ends without mysqldump's 'Dump completed' line: it was cut short.")
    if pg_style and "-- postgresql database dump complete" not in tail:
        raise SourceError(f"line {lines}: the dump ends without pg_dump's 'dump complete' line: it was cut short.")
    return tables


def _row(table: str, columns: list[str], values: list) -> dict:
    if len(values) != len(columns):
        raise SourceError(f"{table}: a row has {len(values)} values for {len(columns)} columns: {values!r:.200}")
    return dict(zip(columns, values, strict=True))


def _unquote_name(name: str) -> str:
    last = re.findall(_NAME, name)[-1]  # drop a schema prefix
    return last.strip('`"').lower()


_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


def _line_of(text: str, i: int) -> int:
    return text.count("\n", 0, i) + 1


class _Lines:
    """Line numbers of increasing positions, counted once (a dump may have millions of lines)."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def at(self, i: int) -> int:
        self.line += self.text.count("\n", self.pos, i)
        self.pos = i
        return self.line


def _statements(text: str, *, backslashes: bool, hash_comments: bool = True):
    """Yield (statement, copy data lines or None, its first line), skipping comments; quotes respected.

    Comments: ``-- ...`` and ``/* ... */``, and ``# ...`` (MySQL's, as hand-written scripts
    use them): anywhere but in a pg_dump file (there at the start of a line only). Dollar-quoted
    bodies (``$$ ... $$``, ``$fn$ ... $fn$``: pg_dump's functions) are skipped whole. A line that starts
    with a backslash between statements is a psql meta-command (pg_dump 15.14 and later write
    its restrict and unrestrict commands): skipped too.
    """
    i, n = 0, len(text)
    buf: list[str] = []
    start, started = 0, False
    lines = _Lines(text)
    while i < n:
        ch = text[i]
        if (
            ch == "-"
            and text.startswith("--", i)
            or (ch == "#" and (hash_comments or not text[text.rfind("\n", 0, i) + 1 : i].strip()))
            or (ch == "\\" and not started)  # a psql meta-command line (pg_dump's \restrict, \unrestrict)
        ):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise SourceError(f"line {_line_of(text, i)}: the dump ends inside a /* comment */: it was cut short.")
            i = end + 2
            continue
        if not started and not ch.isspace():
            start, started = i, True
        if ch in "'`\"":
            j = _skip_quoted(text, i, backslashes=backslashes and ch == "'")
            buf.append(text[i:j])
            i = j
            continue
        if ch == "$" and not backslashes and (tag := _DOLLAR.match(text, i)):
            end = text.find(tag.group(0), tag.end())
            if end < 0:
                raise SourceError(
                    f"line {_line_of(text, i)}: the dump ends inside a {tag.group(0)} body: it was cut short."
                )
            buf.append(text[i : end + len(tag.group(0))])
            i = end + len(tag.group(0))
            continue
        if ch == ";":
            statement = "".join(buf).strip()
            buf, i, started = [], i + 1, False
            if statement.lower().startswith("copy ") and "from stdin" in statement.lower():
                end = text.find("\n\\.", i)
                if end < 0:
                    raise SourceError(f"line {_line_of(text, i)}: the COPY block has no end (\\.): it was cut short.")
                block = text[i:end]
                i = end + 3
                yield statement, [line for line in block.split("\n") if line], lines.at(start)
            elif statement:
                yield statement, None, lines.at(start)
            continue
        buf.append(ch)
        i += 1
    if "".join(buf).strip():
        raise SourceError(f"line {_line_of(text, start)}: the last statement has no end (;): the dump was cut short.")


def _skip_quoted(text: str, i: int, *, backslashes: bool) -> int:
    """The index after the quoted token starting at ``i``."""
    quote, j, n = text[i], i + 1, len(text)
    while j < n:
        ch = text[j]
        if backslashes and ch == "\\":
            j += 2
            continue
        if ch == quote:
            if j + 1 < n and text[j + 1] == quote:  # doubled quote
                j += 2
                continue
            return j + 1
        j += 1
    raise SourceError(f"line {_line_of(text, i)}: the dump ends inside a quoted string: it was cut short.")


def _create_table(statement: str) -> tuple[str, list[str]]:
    match = re.match(r"\s*create\s+table\s+(?:if\s+not\s+exists\s+)?", statement, re.I)
    name_match = _QUALIFIED.match(statement, match.end())
    name = _unquote_name(name_match.group(1))
    body = statement[statement.index("(", name_match.end()) + 1 : statement.rindex(")")]
    cols = []
    for part in _split_top(body):
        first = part.strip().split(None, 1)[0] if part.strip() else ""
        if first and first.strip('`"').lower() not in _CONSTRAINT_WORDS:
            cols.append(first.strip('`"'))
    return name, cols


def _split_top(body: str) -> list[str]:
    """Split on commas outside brackets and quotes."""
    parts, depth, buf, i = [], 0, [], 0
    while i < len(body):
        ch = body[i]
        if ch in "'`\"":
            j = _skip_quoted(body, i, backslashes=ch == "'")
            buf.append(body[i:j])
            i = j
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(buf))
            buf = []
            i += 1
            continue
        buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


def _insert(statement: str, *, backslashes: bool) -> tuple[str, list[str] | None, list[list]]:
    match = re.match(r"\s*insert\s+(?:ignore\s+)?into\s+", statement, re.I)
    name_match = _QUALIFIED.match(statement, match.end())
    name = _unquote_name(name_match.group(1))
    rest = statement[name_match.end() :]
    cols = None
    if rest.lstrip().startswith("("):
        close = rest.index(")")
        cols = [c.strip().strip('`"') for c in rest[rest.index("(") + 1 : close].split(",")]
        rest = rest[close + 1 :]
    values = re.match(r"\s*values\s*", rest, re.I)
    if values is None:
        raise SourceError(f"Cannot read an INSERT into {name} (only VALUES lists are supported).")
    try:
        return name, cols, _tuples(rest[values.end() :], backslashes=backslashes)
    except SourceError as exc:
        raise SourceError(f"INSERT into {name}: {exc}") from None


_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


def _tuples(text: str, *, backslashes: bool) -> list[list]:
    rows, row, i, n = [], None, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "(":
            row = []
            i += 1
        elif ch == ")":
            rows.append(row)
            row = None
            i += 1
        elif ch in ", \t\r\n":
            i += 1
        elif row is None:
            raise SourceError(f"unexpected {text[i : i + 30]!r} after a row of values (a ';' missing?)")
        elif ch == "'" or (ch in "Ee" and text.startswith("'", i + 1)):
            escaped = backslashes or ch != "'"
            start = i + (ch != "'")
            j = _skip_quoted(text, start, backslashes=escaped)
            row.append(_unescape(text[start + 1 : j - 1], escaped))
            i = j
        else:
            match = re.match(r"[^,)\s]+", text[i:])
            token = match.group(0)
            row.append(_literal(token))
            i += len(token)
    return rows


def _unescape(body: str, backslashes: bool) -> str:
    body = body.replace("''", "'")
    if not backslashes:
        return body
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body, flags=re.S)


def _literal(token: str):
    low = token.lower()
    if low == "null":
        return None
    if low in ("true", "false"):
        return low == "true"
    try:
        return parse_int(token)  # the digits 0-9 only: a dump's numbers are ASCII
    except NumberError:
        return token


def _copy_head(statement: str) -> tuple[str, list[str] | None]:
    name_match = _QUALIFIED.match(statement, re.match(r"\s*copy\s+", statement, re.I).end())
    name = _unquote_name(name_match.group(1))
    rest = statement[name_match.end() :]
    if rest.lstrip().startswith("("):
        inner = rest[rest.index("(") + 1 : rest.index(")")]
        return name, [c.strip().strip('"') for c in inner.split(",")]
    return name, None


def _copy_row(line: str) -> list:
    """One line of COPY text format: tab-separated, \\N for NULL, backslash escapes."""
    return [
        None if field == "\\N" else re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), field)
        for field in line.split("\t")
    ]
