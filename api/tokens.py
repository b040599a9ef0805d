"""API tokens: create, revoke, authenticate, count (rate limit), and the scope they give.

A token is shown once (``mda_`` + 10 characters of key id + 40 of secret, base32); only the
SHA-256 of the secret is stored (200 bits of entropy: a fast hash is as safe as a slow one, and a
request costs no Argon2). Who may create one: any account that may use the panel, for itself;
its scope never reaches past its owner's own rights (the chosen domains must be ones the owner
manages, and every request is checked against the owner's rights as they are then). Who may
revoke one: its owner, a superuser, and the operator
(``manage.py api_token revoke``). Every creation and revocation is in the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext

from api.models import ApiToken
from domains.models import Domain
from mailadmin import permissions
from mailadmin.audit import record
from mailadmin.forms import has_control_chars
from mailadmin.lib.drawn import BASE32, draw, save_with_fresh_key
from mailadmin.permissions import require

PREFIX = "mda_"
KEY_CHARS, SECRET_CHARS = 10, 40
MAX_PER_ACCOUNT = 20
MAX_DAYS = 366
DEFAULT_DAYS = 90


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _snapshot(token: ApiToken, domains) -> dict:
    return {
        "name": token.name,
        "read_only": token.read_only,
        "domains": "all" if token.all_domains else sorted(d.name for d in domains),
        "expires_at": token.expires_at.isoformat(),
    }


def of(owner) -> list[ApiToken]:
    return list(ApiToken.objects.filter(owner=owner).prefetch_related("domains").order_by("name"))


def create(
    *, acting_user, owner, name: str, read_only: bool = True, domains=None, days: int = DEFAULT_DAYS, origin: str
) -> tuple[ApiToken, str]:
    """A new token of ``owner`` (for its own programs): returns it and the token as shown, once.
    ``domains`` None means all of the owner's domains (whatever it manages at each request)."""
    require(
        permissions.can_create_api_token(acting_user, owner), gettext("Only the account itself creates its API tokens.")
    )
    name = (name or "").strip()
    if not name or len(name) > 64 or has_control_chars(name):
        raise ValidationError({"name": gettext("Give the token a name of 1 to 64 characters on one line.")})
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": gettext("A token lasts from 1 to %(n)s days.") % {"n": MAX_DAYS}})
    chosen = list(domains) if domains is not None else None
    if chosen is not None:
        if not chosen:
            raise ValidationError({"domains": gettext("Choose at least one domain, or all of them.")})
        beyond = [d.name for d in chosen if not permissions.can_manage_domain(owner, d)]
        if beyond:
            text = gettext("Not a domain you manage: %(domains)s.")
            raise ValidationError({"domains": text % {"domains": ", ".join(sorted(beyond))}})
    with transaction.atomic():
        existing = ApiToken.objects.select_for_update().filter(owner=owner)
        names = set(existing.values_list("name", flat=True))
        if name in names:
            raise ValidationError({"name": gettext("There is already a token named %(name)r.") % {"name": name}})
        if len(names) >= MAX_PER_ACCOUNT:
            text = gettext("An account has at most %(n)s API tokens: revoke one first.")
            raise ValidationError(text % {"n": MAX_PER_ACCOUNT})
        secret = ""

        def build():
            nonlocal secret
            secret = draw(SECRET_CHARS)
            return ApiToken(
                owner=owner,
                name=name,
                key_id=draw(KEY_CHARS),
                digest=_digest(secret),
                read_only=bool(read_only),
                all_domains=chosen is None,
                expires_at=timezone.now() + timedelta(days=days),
            )

        token = save_with_fresh_key(
            build,
            name_taken=lambda: ApiToken.objects.filter(owner=owner, name=name).exists(),
            taken=gettext("There is already a token of that name."),
            failed=gettext("Could not draw a new token; try again."),
        )
        if chosen is not None:
            token.domains.set(chosen)
        record(
            acting_user=acting_user,
            origin=origin,
            action="api_token.create",
            obj=token,
            domain=None,
            after=_snapshot(token, chosen or []),
        )
    return token, f"{PREFIX}{token.key_id}{secret}"


@transaction.atomic
def revoke(*, acting_user, token: ApiToken, origin: str) -> None:
    require(
        acting_user is None or permissions.can_revoke_api_token(acting_user, token.owner),
        gettext("You may not revoke that token."),
    )
    domains = list(token.domains.all())
    deleted, _ = ApiToken.objects.filter(pk=token.pk).delete()
    if not deleted:
        raise ValidationError(gettext("That token was revoked already."), code="gone")
    record(
        acting_user=acting_user,
        origin=origin,
        action="api_token.revoke",
        obj=token,
        domain=None,
        before=_snapshot(token, domains),
    )


def authenticate(presented: str) -> ApiToken | None:
    """The token ``presented`` (the whole ``mda_...`` string) names, if it is valid now: unexpired,
    its secret right, its owner still allowed to use the panel. Constant time in the secret."""
    presented = (presented or "").strip()
    if not presented.startswith(PREFIX) or len(presented) != len(PREFIX) + KEY_CHARS + SECRET_CHARS:
        return None
    body = presented[len(PREFIX) :]
    if not body.isascii() or any(ch not in BASE32 for ch in body):
        return None
    key_id, secret = body[:KEY_CHARS], body[KEY_CHARS:]
    token = ApiToken.objects.select_related("owner__domain").filter(key_id=key_id).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(secret)):
        return None
    if token.expires_at <= timezone.now() or not permissions.can_log_in(token.owner):
        return None
    return token


def count_request(token: ApiToken) -> int:
    """Count one request in the token's current minute (one UPDATE, safe across processes and
    parallel requests) and record its use; returns the seconds to wait when over the limit, else 0."""
    now = timezone.now()
    new_minute = Q(window_start__isnull=True) | Q(window_start__lt=now - timedelta(seconds=60))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A count lost in a crash costs nothing; waiting for the WAL flush of every request
            # did (about a third of a small request's time, bench/api.py).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        ApiToken.objects.filter(pk=token.pk).update(
            window_count=Case(When(new_minute, then=Value(1)), default=F("window_count") + 1),
            window_start=Case(When(new_minute, then=Value(now)), default=F("window_start")),
            last_used_at=now,
        )
    count, start = ApiToken.objects.filter(pk=token.pk).values_list("window_count", "window_start").get()
    if count > settings.API_RATE_LIMIT_PER_MINUTE:
        return max(1, int(60 - (now - start).total_seconds()) + 1)
    return 0


# --- scope ------------------------------------------------------------------------------


def domain_ids(token: ApiToken) -> list[int] | None:
    """The domain ids the token is limited to, or None for all of its owner's."""
    if token.all_domains:
        return None
    return [d.pk for d in token.domains.all()]


def covers(token: ApiToken, domain_id: int | None) -> bool:
    """Whether an object of that domain is within the token's scope (an account without a domain,
    such as a superuser's own, only with a token for all domains)."""
    ids = domain_ids(token)
    return ids is None or (domain_id is not None and domain_id in ids)


def scoped_domains(token: ApiToken):
    """The domains the token may reach: its owner's visible ones, within its scope."""
    domains = Domain.objects.visible_to(token.owner)
    ids = domain_ids(token)
    return domains if ids is None else domains.filter(pk__in=ids)
