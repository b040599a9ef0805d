"""The permission rules of the three roles, in one place.

Roles are ranked: superuser > domain administrator (has a grant) > end user.
Nothing outside this module compares roles. Each predicate answers one
decision; the ``visible_*_filter`` functions give the querysets that make
what an actor may not see a 404.
"""

from __future__ import annotations

from django.db.models import Q

SUPERUSER, ADMIN, USER, NOBODY = 3, 2, 1, 0


def rank(user) -> int:
    """The rank of an acting user: NOBODY unless logged in and active."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOBODY
    return role_rank(user)


def role_rank(user) -> int:
    """The rank a mailbox holds, active or not (for "does the target outrank me")."""
    if user.is_superuser:
        return SUPERUSER
    if grant_of(user) is not None:
        return ADMIN
    return USER


def grant_of(user):
    """The user's admin grant, or None."""
    from domains.models import AdminGrant

    if user is None or not getattr(user, "pk", None):
        return None
    cached = getattr(user, "_grant_cache", False)
    if cached is False:
        cached = AdminGrant.objects.filter(admin=user).first()
        user._grant_cache = cached
    return cached


def visible_domain_filter(user, prefix: str = "") -> Q:
    """Q for domains (or objects with a domain at ``prefix``) that ``user`` may see."""
    level = rank(user)
    if level == SUPERUSER:
        return Q()
    if level == ADMIN:
        return Q(**{f"{prefix}grants__admin": user})
    return Q(pk__in=[])


def visible_mailbox_filter(user) -> Q:
    """Mailboxes an actor may see: all, those of granted domains, or their own."""
    level = rank(user)
    if level == SUPERUSER:
        return Q()
    if level == ADMIN:
        return Q(domain__grants__admin=user) | Q(pk=user.pk)
    if level == USER:
        return Q(pk=user.pk)
    return Q(pk__in=[])


def is_superuser(actor) -> bool:
    return rank(actor) == SUPERUSER


def can_manage_domain(actor, domain) -> bool:
    """See and change the mailboxes, aliases and domain aliases of ``domain``."""
    level = rank(actor)
    if level == SUPERUSER:
        return True
    return level == ADMIN and grant_of(actor).domains.filter(pk=domain.pk).exists()


def can_change_limits(actor) -> bool:
    """Domain limits, domain flags and grants: superusers only."""
    return rank(actor) == SUPERUSER


def can_create_mailbox(actor, domain) -> bool:
    return can_manage_domain(actor, domain) and (is_superuser(actor) or grant_of(actor).can_create_mailboxes)


def can_manage_mailbox(actor, target) -> bool:
    """Change another mailbox: in a managed domain and not outranking the actor."""
    if target.pk == getattr(actor, "pk", None):
        return is_superuser(actor)
    if not target.domain_id:
        return is_superuser(actor)
    return can_manage_domain(actor, target.domain) and role_rank(target) < rank(actor)


def can_delete_mailbox(actor, target) -> bool:
    return can_manage_mailbox(actor, target) and (is_superuser(actor) or grant_of(actor).can_delete_mailboxes)


def can_edit_vacation(actor, mailbox) -> bool:
    """Their own vacation for everyone with a mailbox; others' for those who manage them."""
    if mailbox.pk == getattr(actor, "pk", None):
        return rank(actor) > NOBODY and mailbox.has_mailbox
    return can_manage_mailbox(actor, mailbox)


def can_change_own_password(actor) -> bool:
    return rank(actor) > NOBODY


def can_appoint_admin(actor, domains) -> bool:
    """Grant admin rights over ``domains``: superusers, or admins whose grant allows it and covers them."""
    level = rank(actor)
    if level == SUPERUSER:
        return True
    if level != ADMIN or not grant_of(actor).can_appoint_admins:
        return False
    granted = set(grant_of(actor).domains.values_list("pk", flat=True))
    return all(d.pk in granted for d in domains)
