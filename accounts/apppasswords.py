"""App passwords: one password per mail program, for IMAP, POP3, SMTP submission and ManageSieve.

The server draws each one (``<key id>-<secret>``, shown once in groups of four), so it has 140 bits
of entropy beyond its public key id and is stored as a fast salted hash (``passwords.hash_fast``).
Dovecot's passdb (deploy/dovecot/directory.lua) reads the one row whose ``key_id`` the typed
password starts with, so a login costs the same with one app password or fifty, and checks that the
protocol asking is one the password allows. Where the mailbox's domain requires app passwords
(``Domain.require_app_passwords``) the main password no longer logs in mail programs; it still
logs in to the panel, which never accepts an app password.

Who may create one: the account itself (``permissions.can_create_app_password``); who may revoke
one: the account and whoever may manage it (``permissions.can_revoke_app_password``). Every
creation and revocation is in the audit log; a revoked password is refused as soon as Dovecot's
auth cache forgets it (``auth_cache_ttl``, or at once after ``doveadm auth cache flush``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from accounts.models import APP_PASSWORD_PROTOCOLS, AppPassword, Mailbox
from mailadmin import permissions
from mailadmin.audit import record
from mailadmin.forms import has_control_chars
from mailadmin.lib import passwords
from mailadmin.lib.drawn import draw, save_with_fresh_key
from mailadmin.permissions import require

MAX_PER_MAILBOX = 50
NAME_MAX = 64
# 36 characters of base32 (lower case): 8 of key id, 28 of secret (140 bits), shown in groups of four.
KEY_CHARS, SECRET_CHARS = 8, 28
PROTOCOL_LABELS = {"imap": "IMAP", "pop3": "POP3", "smtp": "SMTP (sending)", "sieve": "ManageSieve (filters)"}


def _draw() -> tuple[str, str]:
    """(key id, the password as shown)."""
    raw = draw(KEY_CHARS + SECRET_CHARS)
    return raw[:KEY_CHARS], "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def canonical(typed: str) -> str:
    """The form that is hashed and that Dovecot's script rebuilds from what a mail program sends:
    lower case, dashes and spaces dropped (so ``ABCD EFGH ...`` typed by hand works too)."""
    return "".join(ch for ch in typed.lower() if ch not in " -\t")


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": gettext("Give the app password a name (the program or device it is for).")})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": gettext("A name is at most %(n)s characters.") % {"n": NAME_MAX}})
    if has_control_chars(name):
        raise ValidationError({"name": gettext("Use a single line without control characters.")})
    return name


def clean_protocols(protocols) -> list[str]:
    chosen = [p for p in APP_PASSWORD_PROTOCOLS if p in set(protocols or ())]
    unknown = sorted(set(protocols or ()) - set(APP_PASSWORD_PROTOCOLS))
    if unknown:
        text = gettext("Unknown protocol %(unknown)s: use %(known)s.")
        known = ", ".join(APP_PASSWORD_PROTOCOLS)
        raise ValidationError({"protocols": text % {"unknown": ", ".join(map(str, unknown)), "known": known}})
    if not chosen:
        raise ValidationError({"protocols": gettext("Choose at least one protocol the app password may log in to.")})
    return chosen


def of(mailbox) -> list[AppPassword]:
    return list(AppPassword.objects.filter(mailbox=mailbox).order_by("name"))


def get(mailbox, name: str) -> AppPassword:
    found = AppPassword.objects.filter(mailbox=mailbox, name=(name or "").strip()).first()
    if found is None:
        text = gettext("%(account)s has no app password named %(name)r.")
        raise ValidationError({"name": text % {"account": mailbox, "name": name}})
    return found


def _snapshot(app_password: AppPassword) -> dict:
    return {"name": app_password.name, "protocols": app_password.protocols}


def create(*, acting_user, mailbox, name: str, protocols, origin: str) -> tuple[AppPassword, str]:
    """Draw a new app password for ``mailbox``: returns it and the password as shown, the only time
    it exists in clear. The command line (``acting_user=None``) may create one for any mailbox."""
    require(
        acting_user is None or permissions.can_create_app_password(acting_user, mailbox),
        gettext("Only the account itself creates its app passwords."),
    )
    name, chosen = clean_name(name), clean_protocols(protocols)
    with transaction.atomic():
        # The mailbox's row, locked: two parallel creations cannot both pass the count below.
        Mailbox.objects.select_for_update().filter(pk=mailbox.pk).values_list("pk", flat=True).first()
        existing = AppPassword.objects.filter(mailbox=mailbox)
        if existing.filter(name=name).exists():
            raise ValidationError(
                {"name": gettext("There is already an app password named %(name)r.") % {"name": name}}
            )
        if existing.count() >= MAX_PER_MAILBOX:
            text = gettext("A mailbox has at most %(n)s app passwords: revoke one it no longer needs first.")
            raise ValidationError(text % {"n": MAX_PER_MAILBOX})
        shown = ""

        def build():
            nonlocal shown
            key_id, shown = _draw()
            return AppPassword(
                mailbox=mailbox,
                name=name,
                key_id=key_id,
                password=passwords.hash_fast(canonical(shown)),
                **{p: p in chosen for p in APP_PASSWORD_PROTOCOLS},
            )

        app_password = save_with_fresh_key(
            build,
            name_taken=lambda: AppPassword.objects.filter(mailbox=mailbox, name=name).exists(),
            taken=gettext("There is already an app password of that name."),
            failed=gettext("Could not draw a new app password; try again."),
        )
        record(
            acting_user=acting_user,
            origin=origin,
            action="app_password.create",
            obj=app_password,
            domain=mailbox.domain,
            after=_snapshot(app_password),
        )
    return app_password, shown


@transaction.atomic
def revoke(*, acting_user, app_password: AppPassword, origin: str) -> None:
    """Delete an app password: by the account itself or whoever may manage it (never a higher rank)."""
    mailbox = app_password.mailbox
    require(
        acting_user is None or permissions.can_revoke_app_password(acting_user, mailbox),
        gettext("You may not revoke that account's app passwords."),
    )
    deleted, _ = AppPassword.objects.filter(pk=app_password.pk).delete()
    if not deleted:
        raise ValidationError(gettext("That app password was revoked already."), code="gone")
    record(
        acting_user=acting_user,
        origin=origin,
        action="app_password.revoke",
        obj=app_password,
        domain=mailbox.domain,
        before=_snapshot(app_password),
    )
