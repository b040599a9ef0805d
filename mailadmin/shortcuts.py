"""Helpers the panel's views share: the client address, service calls, a service's errors on a form.

(The fetch-and-check helpers, ``get_*_for``, live with their models: ``domains.shortcuts``,
``accounts.shortcuts``, ``aliases.shortcuts``.)
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from mailadmin.lib.addresses import AddressError, normalize_address
from mailadmin.lib.clients import client_address
from mailadmin.permissions import require  # noqa: F401 - the views take it from here


def client_ip(request) -> str | None:
    """The client's own address, or None when it is not known (``mailadmin.lib.clients``).

    django-axes counts login failures per client only when this is known.
    """
    return client_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        trusted=settings.TRUSTED_PROXIES,
        direct=settings.CLIENTS_CONNECT_DIRECTLY,
    )


def origin(request) -> str:
    """What the audit log records as where a panel change came from: the client, else the connection."""
    return client_ip(request) or request.META.get("REMOTE_ADDR") or "unknown"


def login_username(request, credentials) -> str:
    """The canonical address for django-axes, so Foo@Example.ORG and foo@example.org share a counter."""
    raw = (credentials or {}).get("username") if credentials else None
    if raw is None and request is not None:
        raw = request.POST.get("username", "")
    raw = (raw or "")[:254]
    try:
        return normalize_address(raw)
    except AddressError:
        return raw.strip().lower()


def add_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has one, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            name = field if field in form.fields else None
            for error in errors:
                for message in error.messages:
                    label = "" if name or field == NON_FIELD_ERRORS else f"{field.replace('_', ' ')}: "
                    form.add_error(name, f"{label}{message}")
    else:
        for message in exc.messages:
            form.add_error(None, message)


def call_service(form, service, /, **kwargs):
    """Call ``service``; a ValidationError goes onto ``form`` and the result is None."""
    try:
        return service(**kwargs)
    except ValidationError as exc:
        add_errors(form, exc)
        return None
