"""Writes to domains, domain aliases and admin grants (the limits they keep: ``domains.limits``).

Every function takes keyword-only arguments and ``acting_user`` (a mailbox,
or None for the system and the command line run as root), runs in one
transaction, validates with ``full_clean`` and writes its audit row.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext, ngettext

from domains import limits
from domains.models import AdminGrant, Domain, DomainAlias, RelayRecipient
from mailadmin import permissions
from mailadmin.audit import record, snapshot
from mailadmin.lib.addresses import AddressError, normalize_address, normalize_domain, normalize_local_part
from mailadmin.lib.fields import UNSET, given
from mailadmin.permissions import require

DOMAIN_SETTINGS = (
    "description",
    "active",
    "logins_enabled",
    "default_may_relay",
    "default_allow_imap",
    "default_allow_pop3",
    "default_allow_smtp",
    "default_allow_sieve",
    "users_may_forward",
    "forward_outside",
    "require_two_factor",
    "require_app_passwords",
    "check_blocklists",
    "greylist",
    "greylist_delay",
    "greylist_window_hours",
    "greylist_expiry_days",
    "relay_host",
    "relay_port",
    "relay_verify",
    "max_mailboxes",
    "max_aliases",
    "max_quota_bytes",
    "default_quota_bytes",
    "max_message_bytes",
    "default_max_sent_per_hour",
    "default_max_recipients_per_hour",
)


def end_sessions_without_second_factor(admins) -> int:
    """End the panel sessions of those of ``admins`` (a queryset of mailboxes) who have no second
    factor: a requirement just switched on covers them, and a session they opened with a password
    alone would otherwise last until it expires. Their next login takes them to setting one up."""
    return admins.exclude(totpdevice__confirmed=True).update(session_epoch=F("session_epoch") + 1)


def _allowed(acting_user, predicate, *args) -> bool:
    return acting_user is None or predicate(acting_user, *args)


def domain_name_from(value: str, field: str = "name") -> str:
    try:
        return normalize_domain(value)
    except AddressError as exc:
        raise ValidationError({field: str(exc)}) from None


def get_domain(name: str) -> Domain:
    """The domain of that name, or a ValidationError (``Domain.objects.get_by_name``)."""
    return Domain.objects.get_by_name(name)


@transaction.atomic
def domain_create(
    *,
    acting_user,
    name: str,
    origin: str,
    description: str = UNSET,
    active: bool = UNSET,
    logins_enabled: bool = UNSET,
    default_may_relay: bool = UNSET,
    default_allow_imap: bool = UNSET,
    default_allow_pop3: bool = UNSET,
    default_allow_smtp: bool = UNSET,
    default_allow_sieve: bool = UNSET,
    users_may_forward: bool = UNSET,
    forward_outside: bool = UNSET,
    require_two_factor: bool = UNSET,
    require_app_passwords: bool = UNSET,
    check_blocklists: bool = UNSET,
    greylist: bool = UNSET,
    greylist_delay: int = UNSET,
    greylist_window_hours: int = UNSET,
    greylist_expiry_days: int = UNSET,
    relay_host: str = UNSET,
    relay_port: int = UNSET,
    relay_verify: str = UNSET,
    max_mailboxes: int = UNSET,
    max_aliases: int = UNSET,
    max_quota_bytes: int = UNSET,
    default_quota_bytes: int = UNSET,
    max_message_bytes: int = UNSET,
    default_max_sent_per_hour: int = UNSET,
    default_max_recipients_per_hour: int = UNSET,
) -> Domain:
    """Create a domain; the settings not given take the model's defaults."""
    fields = given(locals(), DOMAIN_SETTINGS)
    require(acting_user is None or permissions.is_superuser(acting_user), gettext("Only superusers create domains."))
    domain = Domain(name=domain_name_from(name), **fields)
    limits.lock_names()
    domain.full_clean()
    domain.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="domain.create",
        obj=domain,
        domain=domain,
        after=snapshot(domain),
    )
    return domain


@transaction.atomic
def domain_update(
    *,
    acting_user,
    domain: Domain,
    origin: str,
    description: str = UNSET,
    active: bool = UNSET,
    logins_enabled: bool = UNSET,
    default_may_relay: bool = UNSET,
    default_allow_imap: bool = UNSET,
    default_allow_pop3: bool = UNSET,
    default_allow_smtp: bool = UNSET,
    default_allow_sieve: bool = UNSET,
    users_may_forward: bool = UNSET,
    forward_outside: bool = UNSET,
    require_two_factor: bool = UNSET,
    require_app_passwords: bool = UNSET,
    check_blocklists: bool = UNSET,
    greylist: bool = UNSET,
    greylist_delay: int = UNSET,
    greylist_window_hours: int = UNSET,
    greylist_expiry_days: int = UNSET,
    relay_host: str = UNSET,
    relay_port: int = UNSET,
    relay_verify: str = UNSET,
    max_mailboxes: int = UNSET,
    max_aliases: int = UNSET,
    max_quota_bytes: int = UNSET,
    default_quota_bytes: int = UNSET,
    max_message_bytes: int = UNSET,
    default_max_sent_per_hour: int = UNSET,
    default_max_recipients_per_hour: int = UNSET,
) -> Domain:
    """Change the settings, flags or limits given: superusers only (admins never change their limits)."""
    fields = given(locals(), DOMAIN_SETTINGS)
    require(
        acting_user is None or permissions.is_superuser(acting_user),
        gettext("Only superusers change a domain's settings and limits."),
    )
    domain = Domain.objects.select_for_update().get(pk=domain.pk)
    before = snapshot(domain)
    newly_required = fields.get("require_two_factor") and not domain.require_two_factor
    for key, value in fields.items():
        setattr(domain, key, value)
    domain.full_clean()
    limits.check_limits_hold(domain)
    domain.save()
    if newly_required:
        end_sessions_without_second_factor(get_user_model().objects.filter(grant__domains=domain))
    record(
        acting_user=acting_user,
        origin=origin,
        action="domain.update",
        obj=domain,
        domain=domain,
        before=before,
        after=snapshot(domain),
    )
    return domain


@transaction.atomic
def domain_delete(*, acting_user, domain: Domain, origin: str, force: bool = False) -> None:
    """Delete a domain; with mailboxes in it only with ``force`` (which deletes them too)."""
    require(acting_user is None or permissions.is_superuser(acting_user), gettext("Only superusers delete domains."))
    domain = Domain.objects.select_for_update().get(pk=domain.pk)
    count = domain.mailboxes.count()
    if count and not force:
        text = ngettext(
            "%(domain)s still has %(n)s mailbox; delete it first or force it.",
            "%(domain)s still has %(n)s mailboxes; delete them first or force it.",
            count,
        )
        raise ValidationError(text % {"domain": domain.name, "n": count})
    before = snapshot(domain)
    for mailbox in domain.mailboxes.all():  # the mail of each mailbox is archived, not lost
        mailbox.archive_request(acting_user=acting_user)
    domain.mailboxes.all().delete()
    domain.delete()
    record(acting_user=acting_user, origin=origin, action="domain.delete", obj=domain, domain=domain, before=before)


@transaction.atomic
def domain_alias_create(*, acting_user, name: str, target: Domain, active: bool = True, origin: str) -> DomainAlias:
    _require_domain_alias_right(acting_user, target)
    limits.lock_names()
    target, _ = limits.lock_limits(target)  # (and a relayed domain takes no domain aliases)
    alias = DomainAlias(name=domain_name_from(name), target=target, active=active)
    alias.full_clean()
    alias.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="domain_alias.create",
        obj=alias,
        domain=target,
        after=snapshot(alias),
    )
    return alias


@transaction.atomic
def domain_alias_update(*, acting_user, alias: DomainAlias, active: bool, origin: str) -> DomainAlias:
    _require_domain_alias_right(acting_user, alias.target)
    before = snapshot(alias)
    alias.active = active
    alias.full_clean()
    alias.save()
    record(
        acting_user=acting_user,
        origin=origin,
        action="domain_alias.update",
        obj=alias,
        domain=alias.target,
        before=before,
        after=snapshot(alias),
    )
    return alias


@transaction.atomic
def domain_alias_delete(*, acting_user, alias: DomainAlias, origin: str) -> None:
    _require_domain_alias_right(acting_user, alias.target)
    before = snapshot(alias)
    alias.delete()
    record(
        acting_user=acting_user,
        origin=origin,
        action="domain_alias.delete",
        obj=alias,
        domain=alias.target,
        before=before,
    )


def _require_domain_alias_right(acting_user, target: Domain) -> None:
    """Adding, switching and deleting a domain alias: the same right (superusers)."""
    require(_allowed(acting_user, permissions.can_manage_domain, target), gettext("You do not manage that domain."))
    require(
        acting_user is None or permissions.can_manage_domain_aliases(acting_user),
        gettext(
            "Only superusers add domain aliases, or switch or delete them: a domain alias makes its name local "
            "for every sender here."
        ),
    )


# --- admin grants --------------------------------------------------------------

GRANT_FIELDS = ("quota_bytes", "max_mailboxes", "can_create_mailboxes", "can_delete_mailboxes", "can_appoint_admins")


@transaction.atomic
def grant_set(
    *,
    acting_user,
    admin,
    domains: list[Domain],
    origin: str,
    quota_bytes: int = UNSET,
    max_mailboxes: int = UNSET,
    can_create_mailboxes: bool = UNSET,
    can_delete_mailboxes: bool = UNSET,
    can_appoint_admins: bool = UNSET,
) -> AdminGrant:
    """Create or replace the grant of ``admin``: its domains, and the limits and capabilities given
    (the others keep their values, or the defaults for a new grant)."""
    fields = given(locals(), GRANT_FIELDS)
    if acting_user is not None:
        require(
            permissions.can_appoint_admin(acting_user, domains),
            gettext("You may not appoint admins for those domains."),
        )
        require(
            admin.pk != acting_user.pk or permissions.is_superuser(acting_user),
            gettext("You cannot change your own grant."),
        )
    grant = AdminGrant.objects.select_for_update().filter(admin=admin).first()
    limited = acting_user is not None and not permissions.is_superuser(acting_user)
    if limited:
        _check_may_appoint(acting_user, admin, grant)
    before = snapshot(grant)
    grant = grant or AdminGrant(admin=admin)
    for key, value in fields.items():
        setattr(grant, key, value)
    if limited:  # the values the grant will have, defaults included
        _check_appointment_within(permissions.grant_of(acting_user), grant)
    grant.full_clean()
    grant.save()
    grant.domains.set(domains)
    limits.check_grant_holds(grant)
    appointed = get_user_model().objects.filter(pk=admin.pk)
    if permissions.must_use_two_factor(appointed.get()):  # (a fresh one: the caller's keeps its cache)
        end_sessions_without_second_factor(appointed)
    record(
        acting_user=acting_user,
        origin=origin,
        action="grant.set",
        obj=grant,
        domain=domains[0] if len(domains) == 1 else None,
        before=before,
        after=snapshot(grant),
    )
    return grant


def _check_may_appoint(acting_user, admin, existing) -> None:
    """A new grant only for an end user of the actor's domains; an existing one only if the actor outranks it."""
    if existing is not None:
        require(permissions.can_manage_grant(acting_user, existing), gettext("You may not change that admin's grant."))
        return
    own = permissions.grant_of(acting_user)
    require(
        permissions.role_rank(admin) == permissions.USER
        and admin.domain_id is not None
        and own.domains.filter(pk=admin.domain_id).exists(),
        gettext("You can only appoint end users of your own domains."),
    )


def _check_appointment_within(own, grant) -> None:
    """An admin appointing another gives no more than it has."""
    key = permissions.grant_beyond(own, grant)
    if key in permissions.GRANT_CAPABILITIES:
        raise PermissionDenied(gettext("You cannot give a capability you do not have (%(name)s).") % {"name": key})
    if key is not None:
        text = gettext("You cannot give more than your own %(name)s (%(value)s).")
        raise PermissionDenied(text % {"name": key, "value": getattr(own, key)})


@transaction.atomic
def grant_revoke(*, acting_user, admin, origin: str) -> None:
    grant = AdminGrant.objects.select_for_update().filter(admin=admin).first()
    if grant is None:
        raise ValidationError(gettext("%(admin)s has no admin grant.") % {"admin": admin})
    if acting_user is not None:
        require(
            permissions.can_appoint_admin(acting_user, list(grant.domains.all())),
            gettext("You may not revoke that grant."),
        )
        require(
            permissions.is_superuser(acting_user) or admin.pk != acting_user.pk,
            gettext("You cannot revoke your own grant."),
        )
        require(permissions.can_manage_grant(acting_user, grant), gettext("You may not revoke that admin's grant."))
    before = snapshot(grant)
    grant.delete()
    record(acting_user=acting_user, origin=origin, action="grant.revoke", obj=grant, before=before)


# --- relay (backup MX) domains: the addresses they take mail for -----------------------------

MAX_RELAY_RECIPIENTS_AT_ONCE = 1000


def relay_address(domain: Domain, text: str) -> str:
    """An entry of ``domain``'s relay list as stored: ``local@domain`` (a local part alone, or an
    address at the domain, as typed), or ``@domain`` for every address; a ValidationError otherwise."""
    value = (text or "").strip()
    try:
        if value.startswith("@"):
            if value != "@" and normalize_domain(value[1:]) != domain.name:
                raise ValidationError(
                    gettext("%(value)s is not %(domain)s.") % {"value": value[:80], "domain": domain.name}
                )
            return f"@{domain.name}"
        if "@" not in value:
            return f"{normalize_local_part(value)}@{domain.name}"
        address = normalize_address(value)
    except AddressError as exc:
        raise ValidationError(gettext("%(value)s: %(reason)s") % {"value": value[:80], "reason": exc}) from None
    if address.rpartition("@")[2] != domain.name:
        text = gettext("%(address)s is not an address of %(domain)s.")
        raise ValidationError(text % {"address": address, "domain": domain.name})
    return address


@transaction.atomic
def relay_recipients_add(*, acting_user, domain: Domain, addresses: list[str], origin: str) -> list[RelayRecipient]:
    """Add addresses to a relay domain's list (those already on it are left as they are)."""
    require(_allowed(acting_user, permissions.can_manage_domain, domain), gettext("You may not manage that domain."))
    domain = Domain.objects.select_for_update().get(pk=domain.pk)
    if not domain.relay_host:
        text = gettext("%(domain)s is hosted here: its addresses are its mailboxes and aliases.")
        raise ValidationError(text % {"domain": domain.name})
    if len(addresses) > MAX_RELAY_RECIPIENTS_AT_ONCE:
        raise ValidationError(gettext("At most %(n)s addresses at once.") % {"n": MAX_RELAY_RECIPIENTS_AT_ONCE})
    wanted = sorted({relay_address(domain, text) for text in addresses if text.strip()})
    if not wanted:
        raise ValidationError(gettext("Give at least one address."))
    there = set(RelayRecipient.objects.filter(address__in=wanted).values_list("address", flat=True))
    added = RelayRecipient.objects.bulk_create(
        RelayRecipient(domain=domain, address=a) for a in wanted if a not in there
    )
    if added:
        record(
            acting_user=acting_user,
            origin=origin,
            action="relay_recipient.add",
            obj=domain,
            domain=domain,
            after={"addresses": [r.address for r in added]},
        )
    return added


@transaction.atomic
def relay_recipient_delete(*, acting_user, recipient: RelayRecipient, origin: str) -> None:
    require(
        _allowed(acting_user, permissions.can_manage_domain, recipient.domain),
        gettext("You may not manage that domain."),
    )
    record(
        acting_user=acting_user,
        origin=origin,
        action="relay_recipient.delete",
        obj=recipient,
        domain=recipient.domain,
        before=snapshot(recipient),
    )
    recipient.delete()
