"""A scratch source database of an old system for the importer tests."""

import pytest

MYSQL_SOCKET = "/run/mysqld/mysqld.sock"


class LegacyDatabase:
    """A scratch source database of an old system, made and dropped by a fixture."""

    def __init__(self, vendor: str, name: str):
        self.vendor, self.name = vendor, name
        if vendor == "mysql":
            import MySQLdb

            admin = MySQLdb.connect(user="root", unix_socket=MYSQL_SOCKET, charset="utf8mb4")
            admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
            admin.close()
            self.conn = MySQLdb.connect(user="root", unix_socket=MYSQL_SOCKET, db=name, charset="utf8mb4")
            self.url = f"mysql://root@localhost/{name}?unix_socket={MYSQL_SOCKET}"
        else:
            import psycopg

            with psycopg.connect(user="postgres", host="localhost", dbname="postgres", autocommit=True) as admin:
                admin.execute(f"CREATE DATABASE {name}")
            self.conn = psycopg.connect(user="postgres", host="localhost", dbname=name, autocommit=True)
            self.url = f"postgres://postgres@localhost/{name}"

    def run(self, sql: str, rows: list[tuple] = ()) -> None:
        cursor = self.conn.cursor()
        if rows:
            cursor.executemany(sql, rows)
        else:
            for statement in [s for s in sql.split(";") if s.strip()]:
                cursor.execute(statement)
        if self.vendor == "mysql":
            self.conn.commit()

    def dump(self, path) -> str:
        """The database as its own dump tool writes it (mysqldump / pg_dump)."""
        import subprocess

        if self.vendor == "mysql":
            command = ["mysqldump", "-uroot", f"--socket={MYSQL_SOCKET}", self.name]
        else:
            command = ["pg_dump", "-U", "postgres", "-h", "localhost", self.name]
        with open(path, "wb") as out:
            subprocess.run(command, stdout=out, check=True)  # noqa: S603
        return str(path)

    def drop(self) -> None:
        self.conn.close()
        if self.vendor == "mysql":
            import MySQLdb

            admin = MySQLdb.connect(user="root", unix_socket=MYSQL_SOCKET)
            admin.cursor().execute(f"DROP DATABASE IF EXISTS {self.name}")
            admin.close()
        else:
            import psycopg

            with psycopg.connect(user="postgres", host="localhost", dbname="postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


@pytest.fixture
def legacy_db():
    """Factory of scratch source databases: legacy_db("mysql", "vmail") -> LegacyDatabase."""
    import secrets

    made = []

    def make(vendor: str, kind: str) -> LegacyDatabase:
        made.append(LegacyDatabase(vendor, f"legacy_{kind}_{secrets.token_hex(4)}"))
        return made[-1]

    yield make
    for database in made:
        database.drop()


def call_partial(*args, **kwargs):
    """call_command for an import some of whose rows are refused: it prints its whole report and
    then ends with exit status 3 (imports.command.PARTIAL), the refusals counted in the message."""
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=r"item\(s\) failed; the others were") as ended:
        call_command(*args, **kwargs)
    assert ended.value.returncode == 3
    return ended.value
