"""Whether the v2 lookup tables say what their source queries say (tests/conftest.py runs this
after every test that used the database, whatever it wrote through)."""

from django.db import connection

from mailserver import lookup


def out_of_step() -> dict[str, dict]:
    return lookup.out_of_step(connection)
