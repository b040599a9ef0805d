"""The project's own migrations that carry data: django-admin's log into the audit log."""

import importlib
import json

import pytest
from django.apps import apps
from django.db import connection

from mailadmin.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db


def test_django_admin_is_gone(client, personas):
    client.force_login(personas.superuser)
    assert client.get("/django-admin/").status_code == 404
    assert client.get("/django-admin/accounts/mailbox/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_an_old_django_admin_log_is_carried_into_the_audit_log_and_dropped():
    personas = factories.make_personas()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE django_admin_log (id INTEGER PRIMARY KEY, action_time TIMESTAMP NOT NULL, "
            "user_id BIGINT NULL, content_type_id INTEGER NULL, object_id TEXT NULL, "
            "object_repr VARCHAR(200) NOT NULL, action_flag SMALLINT NOT NULL, change_message TEXT NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO django_admin_log VALUES (1, '2024-05-06 07:08:09', %s, NULL, '3', 'user@example.org', 2, %s)",
            [personas.superuser.pk, json.dumps([{"changed": {"fields": ["Password"]}}])],
        )
    migration = importlib.import_module("mailadmin.migrations.0005_drop_django_admin_log")
    with connection.schema_editor() as editor:
        migration.carry_admin_log(apps, editor)
    assert "django_admin_log" not in connection.introspection.table_names()
    entry = AuditEntry.objects.get(action="django_admin.change")
    assert (entry.actor_id, entry.origin) == (personas.superuser.pk, "django-admin")
    assert entry.object_repr == "user@example.org"
    assert entry.created.isoformat() == "2024-05-06T07:08:09+00:00" and "Password" in entry.after["change_message"]
