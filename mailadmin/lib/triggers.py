"""Row triggers written for MariaDB/MySQL, PostgreSQL and SQLite alike.

Django-agnostic. The tables the database keeps by triggers (the lookup tables of contract v2,
``mailserver.lookup``; the domains' totals, ``accounts.totals``) say what each trigger does as SQL
statements over ``NEW`` and ``OLD``; this module writes them out in each database's dialect:
a PL/pgSQL function and its trigger on PostgreSQL, a ``BEGIN ... END`` body elsewhere (MariaDB's
``CREATE OR REPLACE`` leaves no moment without the trigger). A ``guard`` is a condition over ``NEW``
and ``OLD`` under which the trigger runs at all: PostgreSQL's and SQLite's ``WHEN``, an ``IF``
around MariaDB's body (which has no ``WHEN``).
"""

from __future__ import annotations

# NULL-safe "differs": a NULL is a value like any other (a superuser without a domain, a limit left empty).
_DIFFERENT = {
    "postgresql": "OLD.{c} IS DISTINCT FROM NEW.{c}",
    "mysql": "NOT (OLD.{c} <=> NEW.{c})",
    "sqlite": "OLD.{c} IS NOT NEW.{c}",
}


def changed(vendor: str, columns) -> str:
    """A guard true when any of ``columns`` differs between ``OLD`` and ``NEW``."""
    return " OR ".join(_DIFFERENT[vendor].format(c=column) for column in columns)


def create_trigger(vendor: str, name: str, table: str, event: str, body: list[str], guard: str = "") -> list[str]:
    """The statements that create trigger ``name`` AFTER ``event`` ON ``table`` FOR EACH ROW, running
    the statements of ``body`` (when ``guard`` holds, if one is given)."""
    statements = "".join(f"{s};\n" for s in body)
    if vendor == "postgresql":
        when = f" WHEN ({guard})" if guard else ""
        return [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
            f"{statements}RETURN NULL;\nEND\n$$",
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when} EXECUTE FUNCTION {name}()",
        ]
    if vendor == "mysql":
        statements = f"IF {guard} THEN\n{statements}END IF;\n" if guard else statements
        return [f"CREATE OR REPLACE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN\n{statements}END"]
    when = f" WHEN {guard}" if guard else ""
    return [f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when} BEGIN\n{statements}END"]


def drop_trigger(vendor: str, name: str, table: str) -> list[str]:
    """The statements that drop trigger ``name`` of ``table`` (and its function), if it exists."""
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
    return [f"DROP TRIGGER IF EXISTS {name}"]
