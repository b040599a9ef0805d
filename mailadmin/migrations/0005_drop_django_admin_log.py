"""Django's admin site is gone (it changed mailboxes without an audit entry); keep what it logged.

Where an earlier install had ``django.contrib.admin``, each row of its log becomes
an audit entry (``django_admin.add|change|delete``, from "django-admin") and its
table is dropped: it held foreign keys to mailboxes that nothing maintains any more.
"""

from datetime import UTC

from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

TABLE = "django_admin_log"
ACTIONS = {1: "add", 2: "change", 3: "delete"}
ORIGIN = "django-admin"


def carry_admin_log(apps, schema_editor):
    connection = schema_editor.connection
    if TABLE not in connection.introspection.table_names():
        return
    AuditEntry = apps.get_model("mailadmin", "AuditEntry")
    Mailbox = apps.get_model("accounts", "Mailbox")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT log.action_time, log.user_id, log.object_repr, log.action_flag, log.change_message, ct.model "
            f"FROM {TABLE} log LEFT JOIN django_content_type ct ON ct.id = log.content_type_id ORDER BY log.id"
        )
        rows = cursor.fetchall()
    addresses = dict(Mailbox.objects.values_list("pk", "address"))
    # MySQL cannot roll DDL back, so this runs outside a transaction there: a run cut short is
    # repeated in full, without copying anything twice.
    AuditEntry.objects.filter(origin=ORIGIN).delete()
    for when, user_id, object_repr, flag, message, model in rows:
        entry = AuditEntry.objects.create(
            actor_id=user_id if user_id in addresses else None,
            actor_label=addresses.get(user_id, f"deleted account {user_id}"),
            origin=ORIGIN,
            action=f"django_admin.{ACTIONS.get(flag, flag)}",
            object_type=(model or "")[:64],
            object_repr=(object_repr or "")[:300],
            after={"change_message": message} if message else None,
        )
        AuditEntry.objects.filter(pk=entry.pk).update(created=_aware(when))
    schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(TABLE)}")


def _aware(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):  # SQLite and MySQL keep UTC without a zone
        value = value.replace(tzinfo=UTC)
    return value


class Migration(migrations.Migration):
    dependencies = [
        ("mailadmin", "0004_audit_entry_domain"),
        ("accounts", "0004_archive_domain"),
    ]

    operations = [migrations.RunPython(carry_admin_log, migrations.RunPython.noop, atomic=False)]
