"""Writing the audit log; services call ``record`` inside their transaction."""

from __future__ import annotations

from django.forms.models import model_to_dict

from mailadmin.models import AuditEntry

# Never written to the log, whatever the object.
_SECRET_FIELDS = {"password", "last_login"}


def snapshot(obj) -> dict | None:
    """The fields of a model instance as JSON-safe values, secrets left out."""
    if obj is None:
        return None
    data = model_to_dict(obj)
    result = {}
    for key, value in data.items():
        if key in _SECRET_FIELDS:
            continue
        if isinstance(value, list):
            value = [getattr(v, "pk", v) for v in value]
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "pk"):
            value = value.pk
        result[key] = value
    return result


def record(*, acting_user, origin: str, action: str, obj, domain=None, before=None, after=None) -> AuditEntry:
    """Write one entry. ``domain`` is the Domain the change belongs to: the entry is linked to that
    record (its admins see it) and keeps its name; a domain just deleted leaves only its name."""
    return AuditEntry.objects.create(
        actor=acting_user if getattr(acting_user, "pk", None) else None,
        actor_label=str(acting_user) if acting_user is not None else "system",
        origin=origin[:100],
        action=action,
        object_type=type(obj).__name__.lower(),
        object_repr=str(obj)[:300],
        domain=domain if getattr(domain, "pk", None) else None,
        domain_name=domain.name if domain is not None else "",
        before=before,
        after=after,
    )
