"""The REST API (django-ninja): the panel's services and permission rules, called with a token.

Every endpoint resolves its objects through the owner's visibility (``visible_to``) and the
token's domain scope (``tokens.covers``): anything else is a 404, as in the panel. Writes call
the same services as the panel and the CLI, with the token's owner as the acting user, so each
rule (ranks, grants, limits, the password policy ...) is checked where it lives; a read-only
token's writes are refused (403) before any service runs. Lists are keyset-paginated (``after``
= the last key of the previous page): every page costs the same few queries, at any depth.

Errors have one shape: ``{"error": {"code": ..., "message": ..., "fields": {field: [messages]}}}``
with 400 (bad input), 401 (no or bad token), 403, 404, 405, 429 (``Retry-After``); the messages in
the language of the request's ``Accept-Language`` (LocaleMiddleware), English without one.
"""

from __future__ import annotations

import datetime
import functools

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import re_path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.security import HttpBearer
from pydantic import BaseModel, ConfigDict

from accounts import archives as archive_service
from accounts import services as accounts
from accounts.models import Mailbox, MailboxArchive
from aliases import services as aliases
from aliases.models import Alias
from api import tokens
from domains import dkim, dns, dnscheck
from domains import services as domains
from domains.models import AdminGrant, Domain, DomainAlias, RelayRecipient
from mailadmin import permissions
from mailadmin.lib.addresses import AddressError, normalize_address, normalize_domain
from mailadmin.models import AuditEntry
from mailadmin.shortcuts import origin
from mailserver import metrics as prometheus
from policy import services as senders
from policy.models import DnsBlocklist, GreylistAllow, SenderRule
from vacation import services as vacations
from vacation.models import Vacation

MAX_PAGE = 500


class RateLimited(Exception):
    def __init__(self, seconds: int):
        super().__init__(_("Too many requests for this token: wait %(seconds)s seconds.") % {"seconds": seconds})
        self.seconds = seconds


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        found = tokens.authenticate(token)
        if found is None:
            return None
        wait = tokens.count_request(found)
        if wait:
            raise RateLimited(wait)
        if found.read_only and request.method not in ("GET", "HEAD", "OPTIONS"):
            raise PermissionDenied(_("This token is read-only."))
        return found


api = NinjaAPI(
    title="mailadmin",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    docs_url=None,  # the interactive page loads scripts from the internet; the document is served
    description="The mail directory: domains, mailboxes, aliases, forwarding, vacation replies, audit.",
)


# --- errors: one shape -----------------------------------------------------------------


class Out(BaseModel):
    """What a listing answers, many rows at a time: a plain pydantic model, validated in pydantic's
    own core (django-ninja's Schema wraps every row in a getter that costs about 60 µs a row)."""

    model_config = ConfigDict(from_attributes=True)


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class Error(Schema):
    error: ErrorBody


def _error(request, status: int, code: str, message: str, fields=None):
    response = api.create_response(
        request, {"error": {"code": code, "message": message, "fields": fields or {}}}, status=status
    )
    return response


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {}
    message = " ".join(m for ms in fields.values() for m in ms) if fields else " ".join(exc.messages)
    return _error(request, 400, "invalid", message, fields)


@api.exception_handler(SchemaError)
def _schema_invalid(request, exc: SchemaError):
    fields: dict[str, list[str]] = {}
    for item in exc.errors:
        where = ".".join(str(p) for p in item.get("loc", ())[1:] if p != "body") or "request"
        fields.setdefault(where, []).append(str(item.get("msg", "invalid")))
    return _error(request, 400, "invalid", _("The request does not match the schema."), fields)


@api.exception_handler(PermissionDenied)
def _denied(request, exc):
    return _error(request, 403, "forbidden", str(exc) or _("You are not allowed to do that."))


@api.exception_handler(Http404)
def _missing(request, exc):
    return _error(request, 404, "not_found", str(exc) or _("Not found."))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    response = _error(request, 401, "unauthenticated", _("A valid token is needed: Authorization: Bearer mda_..."))
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request, exc: RateLimited):
    response = _error(request, 429, "rate_limited", str(exc))
    response["Retry-After"] = str(exc.seconds)
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {400: "invalid", 403: "forbidden", 405: "method_not_allowed"}
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


# --- schemas ---------------------------------------------------------------------------


class Me(Schema):
    address: str
    role: str
    token: str
    read_only: bool
    domains: list[str] | None = Field(description="the domains the token is limited to; null: all of the owner's")
    expires_at: datetime.datetime


class DomainOut(Out):
    name: str
    description: str
    active: bool
    logins_enabled: bool
    default_may_relay: bool
    default_allow_imap: bool
    default_allow_pop3: bool
    default_allow_smtp: bool
    default_allow_sieve: bool
    users_may_forward: bool
    forward_outside: bool
    require_two_factor: bool
    require_app_passwords: bool
    check_blocklists: bool = Field(description="mail from clients on the DNS blocklists is refused")
    greylist: bool = Field(description="a new sender's first attempt from an unknown client is told to retry")
    greylist_delay: int = Field(description="seconds before a retry is accepted")
    greylist_window_hours: int = Field(description="hours within which the retry must come")
    greylist_expiry_days: int = Field(description="days a sender that passed is remembered after its last message")
    relay_host: str = Field(description="a relay (backup MX) domain's host, which holds its mailboxes; empty: here")
    relay_port: int
    relay_verify: str = Field(description="list: the addresses of its relay list; callout: what the host accepts")
    max_mailboxes: int
    max_aliases: int
    max_quota_bytes: int
    default_quota_bytes: int
    max_message_bytes: int = Field(description="largest message its addresses accept; 0: the server's limit")
    default_max_sent_per_hour: int = Field(description="messages a mailbox may send an hour; 0: no limit")
    default_max_recipients_per_hour: int = Field(description="recipients a mailbox may send to an hour; 0: no limit")


class DomainSettingsIn(Schema):
    """A domain's settings and limits (domains.services.DOMAIN_SETTINGS); what is left out is kept."""

    description: str | None = Field(None, max_length=255)
    active: bool | None = None
    logins_enabled: bool | None = None
    default_may_relay: bool | None = None
    default_allow_imap: bool | None = None
    default_allow_pop3: bool | None = None
    default_allow_smtp: bool | None = None
    default_allow_sieve: bool | None = None
    users_may_forward: bool | None = None
    forward_outside: bool | None = None
    require_two_factor: bool | None = None
    require_app_passwords: bool | None = None
    check_blocklists: bool | None = None
    greylist: bool | None = None
    greylist_delay: int | None = Field(None, ge=1, le=86400)
    greylist_window_hours: int | None = Field(None, ge=1, le=720)
    greylist_expiry_days: int | None = Field(None, ge=1, le=3650)
    relay_host: str | None = Field(None, max_length=253, description="empty: hosted here")
    relay_port: int | None = Field(None, ge=1, le=65535)
    relay_verify: str | None = Field(None, description="list or callout")
    max_mailboxes: int | None = Field(None, ge=0, le=2**31 - 1, description="0: unlimited")
    max_aliases: int | None = Field(None, ge=0, le=2**31 - 1, description="0: unlimited")
    max_quota_bytes: int | None = Field(None, ge=0, le=2**62, description="0: unlimited")
    default_quota_bytes: int | None = Field(None, ge=0, le=2**62, description="0: unlimited")
    max_message_bytes: int | None = Field(None, ge=0, le=2**62, description="0: the server's limit")
    default_max_sent_per_hour: int | None = Field(None, ge=0, le=2**31 - 1, description="per mailbox; 0: no limit")
    default_max_recipients_per_hour: int | None = Field(
        None, ge=0, le=2**31 - 1, description="per mailbox; 0: no limit"
    )


class DomainIn(DomainSettingsIn):
    name: str = Field(max_length=253, description="internationalised names are stored as xn-- A-labels")


class MailboxOut(Out):
    address: str
    domain: str | None
    local_part: str
    first_name: str
    last_name: str
    active: bool
    may_relay: bool
    filtering: bool
    allow_imap: bool
    allow_pop3: bool
    allow_smtp: bool
    allow_sieve: bool
    quota_bytes: int
    usage_bytes: int
    message_count: int
    over_quota: bool
    max_sent_per_hour: int | None = Field(description="messages an hour (SMTP AUTH); null: its domain's; 0: none")
    max_recipients_per_hour: int | None = Field(description="recipients an hour; null: its domain's; 0: no limit")


class MailboxIn(Schema):
    local_part: str = Field(max_length=64)
    password: str | None = Field(None, max_length=4096, description="generated (and returned once) when left out")
    quota_bytes: int | None = Field(None, ge=0, le=2**62)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    active: bool = True
    may_relay: bool | None = None
    filtering: bool = True
    allow_imap: bool | None = Field(None, description="the domain's default when left out")
    allow_pop3: bool | None = None
    allow_smtp: bool | None = None
    allow_sieve: bool | None = None


class MailboxCreated(MailboxOut):
    password: str | None = Field(None, description="the generated password, shown this once")


class MailboxPatch(Schema):
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    active: bool | None = None
    may_relay: bool | None = None
    filtering: bool | None = None
    allow_imap: bool | None = None
    allow_pop3: bool | None = None
    allow_smtp: bool | None = None
    allow_sieve: bool | None = None
    quota_bytes: int | None = Field(None, ge=0, le=2**62)
    max_sent_per_hour: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="messages it may send an hour (SMTP AUTH); null: its domain's; 0: no limit",
    )
    max_recipients_per_hour: int | None = Field(
        None, ge=0, le=2**31 - 1, description="recipients it may send to an hour; null: its domain's; 0: no limit"
    )


class PasswordIn(Schema):
    password: str = Field(max_length=4096)


class ForwardingIO(Schema):
    destinations: list[str] = Field(max_length=100)
    keep_copy: bool = True


class VacationIO(Schema):
    mode: str = Field(description="off, default or custom")
    subject: str = Field("", max_length=200)
    body: str = Field("", max_length=10000)
    first_day: datetime.date | None = None
    last_day: datetime.date | None = None
    interval_days: int = Field(7, ge=1, le=365)
    language: str | None = Field(
        None,
        max_length=10,
        description="the language of the default text (en, de, fr; empty: the server's); left out: kept",
    )


class SenderRuleIn(Schema):
    action: str = Field(description="allow or deny")
    pattern: str = Field(
        max_length=254, description="user@example.com, @example.com, or (deny only) a network such as 192.0.2.0/24"
    )


class SenderRuleOut(Schema):
    id: int
    list: str = Field(description="the mailbox's address, or @ and the domain for its domain-wide list")
    pattern: str
    action: str
    created: datetime.datetime


class BlocklistIn(Schema):
    zone: str = Field(max_length=200, description="the list's DNS zone, such as zen.spamhaus.org")
    name: str = Field(max_length=100, description="named in the refusal")
    answers: str = Field(
        max_length=4000,
        description="the answers that mean listed, one per line: an address or a range and what it means "
        "(127.0.0.2 spam source)",
    )
    enabled: bool = True


class BlocklistPatch(Schema):
    name: str | None = Field(None, max_length=100)
    answers: str | None = Field(None, max_length=4000)
    enabled: bool | None = None


class BlocklistOut(Schema):
    zone: str
    name: str
    answers: list[str] = Field(description="as stored, one answer or range and its meaning each")
    enabled: bool
    created: datetime.datetime


class GreylistAllowIn(Schema):
    pattern: str = Field(
        max_length=255, description="a client network (192.0.2.0/24), a sender domain (example.com) or *.example.com"
    )
    note: str = Field("", max_length=200, description="why it is on the list")


class GreylistAllowOut(Schema):
    id: int
    pattern: str = Field(description="as stored: a network as ipaddress writes it, a domain in A-labels")
    kind: str = Field(description="network or sender domain")
    note: str
    created: datetime.datetime


class GreylistCountsOut(Schema):
    waiting: int = Field(description="senders waiting for their retry")
    passed: int = Field(description="senders that retried in time and pass at once")


class AliasOut(Out):
    address: str
    domain: str
    local_part: str
    destinations: list[str]
    active: bool


class AliasIn(Schema):
    local_part: str = Field(max_length=64, description="empty: the domain's catch-all")
    destinations: list[str] = Field(max_length=1000)
    active: bool = True


class AliasPatch(Schema):
    destinations: list[str] | None = Field(None, max_length=1000)
    active: bool | None = None


class AuditOut(Out):
    """``origin`` (the client address) is empty for entries of others, unless the token is a superuser's."""

    id: int
    created: datetime.datetime
    actor: str
    origin: str
    action: str
    object_type: str
    object: str
    domain: str


def page_of(schema):
    return type(
        f"{schema.__name__}Page",
        (Out,),
        {
            "__annotations__": {"items": list[schema], "next": str | None},
            "next": Field(None, description="pass as ?after= for the next page; null on the last"),
        },
    )


DomainPage, MailboxPage, AliasPage, AuditPage = (page_of(s) for s in (DomainOut, MailboxOut, AliasOut, AuditOut))
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 429: Error}


# --- helpers ---------------------------------------------------------------------------


def _origin(request) -> str:
    return f"api {origin(request)}"[:100]


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError({"limit": _("From 1 to %(n)s.") % {"n": MAX_PAGE}})
    return limit


def _page(rows: list, key: str, limit: int) -> dict:
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next": rows[-1][key] if more and rows else None}


def _domain_of(request, name: str):
    try:
        name = normalize_domain(name)
    except AddressError:
        raise Http404(_("No such domain.")) from None
    domain = tokens.scoped_domains(request.auth).filter(name=name).first()
    if domain is None:
        raise Http404(_("No such domain."))
    return domain


def _address(value: str) -> str:
    try:
        return normalize_address(value)
    except AddressError:
        raise Http404(_("Not found.")) from None


def _mailbox_of(request, address: str) -> Mailbox:
    token = request.auth
    mailbox = Mailbox.objects.visible_to(token.owner).select_related("domain").filter(address=_address(address)).first()
    if mailbox is None or not tokens.covers(token, mailbox.domain_id):
        raise Http404(_("No such mailbox."))
    return mailbox


def _alias_of(request, address: str) -> Alias:
    token = request.auth
    alias = Alias.objects.visible_to(token.owner).select_related("domain").filter(address=_address(address)).first()
    if alias is None or not tokens.covers(token, alias.domain_id):
        raise Http404(_("No such alias."))
    return alias


# Fields whose null means something (the domain's default), so a PATCH may set them to null.
NULLABLE = {"max_sent_per_hour", "max_recipients_per_hour"}


def _changes(payload) -> dict:
    """The fields a PATCH gives; a field given as null is refused (null is no value), but where it
    means the domain's default."""
    changes = payload.dict(exclude_unset=True)
    if nulls := {k for k, v in changes.items() if v is None and k not in NULLABLE}:
        raise ValidationError({k: [_("May not be null.")] for k in nulls})
    return changes


MAILBOX_FIELDS = [
    "address",
    "local_part",
    "first_name",
    "last_name",
    "active",
    "may_relay",
    "filtering",
    "allow_imap",
    "allow_pop3",
    "allow_smtp",
    "allow_sieve",
    "quota_bytes",
    "usage_bytes",
    "message_count",
    "over_quota",
    "max_sent_per_hour",
    "max_recipients_per_hour",
]


def _mailbox_out(mailbox: Mailbox) -> dict:
    return {f: getattr(mailbox, f) for f in MAILBOX_FIELDS} | {
        "domain": mailbox.domain.name if mailbox.domain else None
    }


def _alias_out(alias: Alias) -> dict:
    return {
        "address": alias.address,
        "domain": alias.domain.name,
        "local_part": alias.local_part,
        "destinations": alias.destination_list,
        "active": alias.active,
    }


# --- endpoints -------------------------------------------------------------------------


@api.get("/me", response={200: Me, **ERRORS}, tags=["token"])
def me(request):
    token = request.auth
    ids = tokens.domain_ids(token)
    return {
        "address": token.owner.address,
        "role": permissions.role_name(token.owner),
        "token": token.name,
        "read_only": token.read_only,
        "domains": None if ids is None else sorted(d.name for d in token.domains.all()),
        "expires_at": token.expires_at,
    }


@api.get("/domains", response={200: DomainPage, **ERRORS}, tags=["domains"])
def domain_list(request, after: str = "", limit: int = 100, search: str = ""):
    qs = tokens.scoped_domains(request.auth).filter(name__gt=after).order_by("name")
    if search:
        qs = qs.filter(name__contains=search.strip().lower())
    rows = list(qs.values(*DomainOut.model_fields)[: _limit(limit) + 1])
    return _page(rows, "name", limit)


@api.get("/domains/{name}", response={200: DomainOut, **ERRORS}, tags=["domains"])
def domain_get(request, name: str):
    return _domain_of(request, name)


@api.post("/domains", response={201: DomainOut, **ERRORS}, tags=["domains"])
def domain_create(request, payload: DomainIn):
    """A new domain (superusers; a token limited to chosen domains creates none)."""
    if tokens.domain_ids(request.auth) is not None:
        raise PermissionDenied(_("A token limited to chosen domains cannot create domains."))
    changes = _changes(payload)
    name = changes.pop("name")
    domain = domains.domain_create(acting_user=request.auth.owner, name=name, origin=_origin(request), **changes)
    return Status(201, domain)


@api.patch("/domains/{name}", response={200: DomainOut, **ERRORS}, tags=["domains"])
def domain_update(request, name: str, payload: DomainSettingsIn):
    domain = _domain_of(request, name)
    return domains.domain_update(
        acting_user=request.auth.owner, domain=domain, origin=_origin(request), **_changes(payload)
    )


@api.delete("/domains/{name}", response={204: None, **ERRORS}, tags=["domains"])
def domain_delete(request, name: str, force: bool = False):
    """Delete a domain; one with mailboxes only with ``force=true``, which deletes them too."""
    domain = _domain_of(request, name)
    domains.domain_delete(acting_user=request.auth.owner, domain=domain, origin=_origin(request), force=force)
    return Status(204, None)


@api.get("/domains/{name}/mailboxes", response={200: MailboxPage, **ERRORS}, tags=["mailboxes"])
def mailbox_list(request, name: str, after: str = "", limit: int = 100, active: bool | None = None, search: str = ""):
    domain = _domain_of(request, name)
    qs = Mailbox.objects.visible_to(request.auth.owner).filter(domain=domain, address__gt=after).order_by("address")
    if active is not None:
        qs = qs.filter(active=active)
    if search:
        qs = qs.filter(Q(address__prefix=search.strip().lower()) | Q(last_name__icontains=search.strip()))
    rows = [row | {"domain": domain.name} for row in qs.values(*MAILBOX_FIELDS)[: _limit(limit) + 1]]
    return _page(rows, "address", limit)


@api.post("/domains/{name}/mailboxes", response={201: MailboxCreated, **ERRORS}, tags=["mailboxes"])
def mailbox_create(request, name: str, payload: MailboxIn):
    domain = _domain_of(request, name)
    data = payload.dict()
    generated = data.pop("password") is None
    password = (
        accounts.generate_password_for(
            domain=domain, local_part=data["local_part"], first_name=data["first_name"], last_name=data["last_name"]
        )
        if generated
        else payload.password
    )
    mailbox = accounts.mailbox_create(
        acting_user=request.auth.owner, domain=domain, password=password, origin=_origin(request), **data
    )
    return Status(201, _mailbox_out(mailbox) | {"password": password if generated else None})


@api.get("/mailboxes/{address}", response={200: MailboxOut, **ERRORS}, tags=["mailboxes"])
def mailbox_get(request, address: str):
    return _mailbox_out(_mailbox_of(request, address))


@api.patch("/mailboxes/{address}", response={200: MailboxOut, **ERRORS}, tags=["mailboxes"])
def mailbox_update(request, address: str, payload: MailboxPatch):
    mailbox = _mailbox_of(request, address)
    changes = _changes(payload)
    mailbox = accounts.mailbox_update(
        acting_user=request.auth.owner, mailbox=mailbox, origin=_origin(request), **changes
    )
    return _mailbox_out(mailbox)


@api.delete("/mailboxes/{address}", response={204: None, **ERRORS}, tags=["mailboxes"])
def mailbox_delete(request, address: str):
    mailbox = _mailbox_of(request, address)
    accounts.mailbox_delete(acting_user=request.auth.owner, mailbox=mailbox, origin=_origin(request))
    return Status(204, None)


@api.put("/mailboxes/{address}/password", response={204: None, **ERRORS}, tags=["mailboxes"])
def mailbox_password(request, address: str, payload: PasswordIn):
    mailbox = _mailbox_of(request, address)
    if not permissions.can_set_password_by_token(request.auth.owner, mailbox):
        raise PermissionDenied(_("A token cannot set its own account's password: change it in the panel."))
    accounts.mailbox_set_password(
        acting_user=request.auth.owner, mailbox=mailbox, password=payload.password, origin=_origin(request)
    )
    return Status(204, None)


@api.get("/mailboxes/{address}/forwarding", response={200: ForwardingIO, **ERRORS}, tags=["mailboxes"])
def forwarding_get(request, address: str):
    mailbox = _mailbox_of(request, address)
    return {"destinations": mailbox.forward_list, "keep_copy": mailbox.forward_keep_copy}


@api.put("/mailboxes/{address}/forwarding", response={200: ForwardingIO, **ERRORS}, tags=["mailboxes"])
def forwarding_set(request, address: str, payload: ForwardingIO):
    mailbox = accounts.mailbox_set_forwarding(
        acting_user=request.auth.owner,
        mailbox=_mailbox_of(request, address),
        destinations=payload.destinations,
        keep_copy=payload.keep_copy,
        origin=_origin(request),
    )
    return {"destinations": mailbox.forward_list, "keep_copy": mailbox.forward_keep_copy}


def _vacation_out(vacation: Vacation | None) -> dict:
    if vacation is None:
        return {"mode": "off"}
    fields = ("mode", "subject", "body", "first_day", "last_day", "interval_days", "language")
    return {f: getattr(vacation, f) for f in fields}


@api.get("/mailboxes/{address}/vacation", response={200: VacationIO, **ERRORS}, tags=["mailboxes"])
def vacation_get(request, address: str):
    mailbox = _mailbox_of(request, address)
    if not permissions.can_edit_vacation(request.auth.owner, mailbox):
        raise PermissionDenied(_("You may not see that mailbox's vacation reply."))
    return _vacation_out(Vacation.objects.filter(mailbox=mailbox).first())


@api.put("/mailboxes/{address}/vacation", response={200: VacationIO, **ERRORS}, tags=["mailboxes"])
def vacation_set(request, address: str, payload: VacationIO):
    vacation = vacations.vacation_set(
        acting_user=request.auth.owner, mailbox=_mailbox_of(request, address), origin=_origin(request), **payload.dict()
    )
    return _vacation_out(vacation)


@api.get("/domains/{name}/aliases", response={200: AliasPage, **ERRORS}, tags=["aliases"])
def alias_list(request, name: str, after: str = "", limit: int = 100):
    domain = _domain_of(request, name)
    qs = Alias.objects.visible_to(request.auth.owner).filter(domain=domain, address__gt=after).order_by("address")
    qs = qs.select_related("domain").only("address", "local_part", "destinations", "active", "domain__name")
    return _page([_alias_out(alias) for alias in qs[: _limit(limit) + 1]], "address", limit)


@api.post("/domains/{name}/aliases", response={201: AliasOut, **ERRORS}, tags=["aliases"])
def alias_create(request, name: str, payload: AliasIn):
    alias = aliases.alias_create(
        acting_user=request.auth.owner, domain=_domain_of(request, name), origin=_origin(request), **payload.dict()
    )
    return Status(201, _alias_out(alias))


@api.get("/aliases/{address}", response={200: AliasOut, **ERRORS}, tags=["aliases"])
def alias_get(request, address: str):
    return _alias_out(_alias_of(request, address))


@api.patch("/aliases/{address}", response={200: AliasOut, **ERRORS}, tags=["aliases"])
def alias_update(request, address: str, payload: AliasPatch):
    alias = _alias_of(request, address)
    changes = _changes(payload)
    owner, where = request.auth.owner, _origin(request)
    if "destinations" in changes:
        alias = aliases.alias_set_destinations(
            acting_user=owner, alias=alias, destinations=changes["destinations"], origin=where
        )
    if "active" in changes:
        alias = aliases.alias_set_active(acting_user=owner, alias=alias, active=changes["active"], origin=where)
    return _alias_out(alias)


@api.delete("/aliases/{address}", response={204: None, **ERRORS}, tags=["aliases"])
def alias_delete(request, address: str):
    aliases.alias_delete(acting_user=request.auth.owner, alias=_alias_of(request, address), origin=_origin(request))
    return Status(204, None)


# --- sender lists (policy.services) ------------------------------------------------------


def _rule_out(rule: SenderRule) -> dict:
    return {"id": rule.pk, "list": rule.owner, "pattern": rule.pattern, "action": rule.action, "created": rule.created}


def _sender_list(request, **where) -> list[dict]:
    if not senders.may_edit(request.auth.owner, where.get("mailbox") or where.get("domain")):
        raise PermissionDenied(_("You may not see that sender list."))
    return [_rule_out(rule) for rule in senders.rules_of(**where)]


def _sender_add(request, payload: SenderRuleIn, **where):
    rule = senders.sender_rule_add(acting_user=request.auth.owner, origin=_origin(request), **payload.dict(), **where)
    return Status(201, _rule_out(rule))


@api.get("/mailboxes/{address}/senders", response={200: list[SenderRuleOut], **ERRORS}, tags=["sender lists"])
def mailbox_senders(request, address: str):
    return _sender_list(request, mailbox=_mailbox_of(request, address))


@api.post("/mailboxes/{address}/senders", response={201: SenderRuleOut, **ERRORS}, tags=["sender lists"])
def mailbox_sender_add(request, address: str, payload: SenderRuleIn):
    return _sender_add(request, payload, mailbox=_mailbox_of(request, address))


@api.get("/domains/{name}/senders", response={200: list[SenderRuleOut], **ERRORS}, tags=["sender lists"])
def domain_senders(request, name: str):
    return _sender_list(request, domain=_domain_of(request, name))


@api.post("/domains/{name}/senders", response={201: SenderRuleOut, **ERRORS}, tags=["sender lists"])
def domain_sender_add(request, name: str, payload: SenderRuleIn):
    return _sender_add(request, payload, domain=_domain_of(request, name))


@api.delete("/senders/{rule_id}", response={204: None, **ERRORS}, tags=["sender lists"])
def sender_delete(request, rule_id: int):
    """Take an entry off a list; one of a list the token may not change is not found."""
    token = request.auth
    rule = SenderRule.objects.select_related("domain", "mailbox__domain").filter(pk=rule_id).first()
    if rule is None or not tokens.covers(token, rule.domain_id) or not senders.may_edit(token.owner, rule):
        raise Http404(_("No such entry."))
    senders.sender_rule_delete(acting_user=token.owner, rule=rule, origin=_origin(request))
    return Status(204, None)


# --- DNS blocklists (policy.services; superusers, with a token for all of their domains) ---------


def _blocklists_allowed(request) -> None:
    """The server's blocklists count for every domain: a token limited to chosen ones has no say."""
    if not permissions.can_manage_blocklists(request.auth.owner):
        raise PermissionDenied(_("Only superusers see and change the DNS blocklists."))
    if tokens.domain_ids(request.auth) is not None:
        raise PermissionDenied(_("A token limited to chosen domains cannot see or change the DNS blocklists."))


def _blocklist_of(request, zone: str) -> DnsBlocklist:
    _blocklists_allowed(request)
    found = senders.blocklist_named(zone)
    if found is None:
        raise Http404(_("No such blocklist."))
    return found


@api.get("/blocklists", response={200: list[BlocklistOut], **ERRORS}, tags=["DNS blocklists"])
def blocklist_list(request):
    _blocklists_allowed(request)
    return [senders.blocklist_data(b) for b in DnsBlocklist.objects.all()]


@api.post("/blocklists", response={201: BlocklistOut, **ERRORS}, tags=["DNS blocklists"])
def blocklist_add(request, payload: BlocklistIn):
    _blocklists_allowed(request)
    blocklist = senders.blocklist_add(acting_user=request.auth.owner, origin=_origin(request), **payload.dict())
    return Status(201, senders.blocklist_data(blocklist))


@api.patch("/blocklists/{zone}", response={200: BlocklistOut, **ERRORS}, tags=["DNS blocklists"])
def blocklist_update(request, zone: str, payload: BlocklistPatch):
    blocklist = _blocklist_of(request, zone)
    changed = senders.blocklist_update(
        acting_user=request.auth.owner, blocklist=blocklist, origin=_origin(request), **_changes(payload)
    )
    return senders.blocklist_data(changed)


@api.delete("/blocklists/{zone}", response={204: None, **ERRORS}, tags=["DNS blocklists"])
def blocklist_delete(request, zone: str):
    blocklist = _blocklist_of(request, zone)
    senders.blocklist_delete(acting_user=request.auth.owner, blocklist=blocklist, origin=_origin(request))
    return Status(204, None)


# --- Greylisting (policy.services; superusers, with a token for all of their domains) -----------


def _greylisting_allowed(request) -> None:
    """The allow list counts for every domain: a token limited to chosen ones has no say."""
    if not permissions.can_manage_greylisting(request.auth.owner):
        raise PermissionDenied(_("Only superusers see and change greylisting's allow list."))
    if tokens.domain_ids(request.auth) is not None:
        raise PermissionDenied(_("A token limited to chosen domains cannot see or change greylisting's allow list."))


@api.get("/greylisting/allowed", response={200: list[GreylistAllowOut], **ERRORS}, tags=["greylisting"])
def greylist_allowed(request):
    _greylisting_allowed(request)
    return [senders.greylist_allow_data(entry) for entry in GreylistAllow.objects.all()]


@api.post("/greylisting/allowed", response={201: GreylistAllowOut, **ERRORS}, tags=["greylisting"])
def greylist_allow(request, payload: GreylistAllowIn):
    _greylisting_allowed(request)
    entry = senders.greylist_allow_add(acting_user=request.auth.owner, origin=_origin(request), **payload.dict())
    return Status(201, senders.greylist_allow_data(entry))


@api.delete("/greylisting/allowed/{entry_id}", response={204: None, **ERRORS}, tags=["greylisting"])
def greylist_disallow(request, entry_id: int):
    _greylisting_allowed(request)
    entry = GreylistAllow.objects.filter(pk=entry_id).first()
    if entry is None:
        raise Http404(_("No such entry."))
    senders.greylist_allow_delete(acting_user=request.auth.owner, entry=entry, origin=_origin(request))
    return Status(204, None)


@api.get("/greylisting/counts", response={200: GreylistCountsOut, **ERRORS}, tags=["greylisting"])
def greylist_counts(request):
    _greylisting_allowed(request)
    return senders.greylist_counts()


# --- metrics for Prometheus (mailserver.metrics) -------------------------------------------------


@api.get(
    "/metrics",
    response={200: None, **ERRORS},
    tags=["metrics"],
    openapi_extra={"responses": {"200": {"description": "Prometheus' text format", "content": {"text/plain": {}}}}},
)
def metrics(request, per_domain: bool = True):
    """The directory's counts, storage and the messages counted in Exim's logs, in Prometheus' text
    format (scrape with the token as a bearer credential). Superusers' tokens for all domains;
    per_domain=false leaves out the series per domain (a host with very many domains)."""
    if not permissions.can_see_server_statistics(request.auth.owner) or tokens.domain_ids(request.auth) is not None:
        raise PermissionDenied(_("Only a superuser's token for all domains reads the metrics."))
    return HttpResponse(prometheus.render(per_domain), content_type="text/plain; version=0.0.4; charset=utf-8")


# --- DNS records and DKIM keys (domains.dns, domains.dnscheck, domains.dkim) --------------------


class DnsRecordOut(Schema):
    name: str = Field(description="fully qualified, with the final dot")
    type: str
    value: str
    purpose: str
    zone_line: str = Field(description="the record as a zone file line")
    state: str | None = Field(None, description="with check=true: ok, missing, wrong or unknown (no answer)")
    published: list[str] | None = Field(None, description="with check=true: what the DNS has now")
    fix: str | None = None


class DnsOut(Schema):
    records: list[DnsRecordOut]
    problems: int | None = Field(None, description="with check=true: records missing or wrong")


class DkimKeyOut(Schema):
    selector: str
    algorithm: str
    created: datetime.datetime
    retired_at: datetime.datetime | None = Field(description="set: no longer signs, published until purged")


@api.get("/domains/{name}/dns", response={200: DnsOut, **ERRORS}, tags=["DNS"])
def domain_dns(request, name: str, check: bool = False):
    """The records the domain needs (MX, SPF, DKIM, DMARC, autoconfig); with ``check=true`` the
    DNS is asked now and each record says whether it is published (as the panel's DNS page)."""
    domain = _domain_of(request, name)
    if not check:
        return {"records": [{**r.as_dict(), "zone_line": r.zone_line()} for r in dns.records(domain)]}
    verdicts = dnscheck.check_and_record(domain)
    rows = [{**v.as_dict(), "zone_line": v.record.zone_line()} for v in verdicts]
    return {"records": rows, "problems": dnscheck.problems_of(verdicts)}


def _dkim_keys(domain: Domain) -> list[dict]:
    return list(domain.dkim_keys.order_by("created", "selector").values(*DkimKeyOut.model_fields))


@api.get("/domains/{name}/dkim", response={200: list[DkimKeyOut], **ERRORS}, tags=["DNS"])
def dkim_list(request, name: str):
    return _dkim_keys(_domain_of(request, name))


@api.post("/domains/{name}/dkim/{action}", response={200: list[DkimKeyOut], **ERRORS}, tags=["DNS"])
def dkim_change(request, name: str, action: str):
    """``enable`` (keys made, RSA and Ed25519), ``rotate`` (new keys sign; the old stay published
    until purged) or ``disable`` (superusers). Then ``manage.py dkim install`` on each mail host."""
    services = {"enable": dkim.dkim_enable, "rotate": dkim.dkim_rotate, "disable": dkim.dkim_disable}
    if action not in services:
        raise Http404(_("No such action: enable, rotate or disable."))
    domain = _domain_of(request, name)
    services[action](acting_user=request.auth.owner, domain=domain, origin=_origin(request))
    return _dkim_keys(domain)


# --- relay (backup MX) domains: their relay lists (domains.services) ----------------------


class RelayRecipientOut(Schema):
    id: int
    address: str = Field(description="an address of the domain, or @ and the domain for every address")
    created: datetime.datetime


class RelayRecipientsIn(Schema):
    addresses: list[str] = Field(
        max_length=1000, description="local parts or addresses of the domain, or @ for every address"
    )


def _relay_domain_of(request, name: str) -> Domain:
    domain = _domain_of(request, name)
    if not domain.relay_host:
        raise Http404(_("This domain is hosted here: it has no relay list."))
    return domain


RelayRecipientPage = page_of(RelayRecipientOut)


@api.get("/domains/{name}/relay-recipients", response={200: RelayRecipientPage, **ERRORS}, tags=["relay"])
def relay_recipient_list(request, name: str, after: str = "", limit: int = 100):
    """The relay list, by address (``after``: the page's ``next``)."""
    domain = _relay_domain_of(request, name)
    rows = domain.relay_recipients.filter(address__gt=after).order_by("address")
    return _page(list(rows.values("id", "address", "created")[: _limit(limit) + 1]), "address", limit)


@api.post("/domains/{name}/relay-recipients", response={201: list[RelayRecipientOut], **ERRORS}, tags=["relay"])
def relay_recipient_add(request, name: str, payload: RelayRecipientsIn):
    """Add addresses to the list (those already on it are left out of the answer)."""
    added = domains.relay_recipients_add(
        acting_user=request.auth.owner,
        domain=_relay_domain_of(request, name),
        addresses=payload.addresses,
        origin=_origin(request),
    )
    return Status(201, [{"id": r.pk, "address": r.address, "created": r.created} for r in added])


@api.delete("/relay-recipients/{recipient_id}", response={204: None, **ERRORS}, tags=["relay"])
def relay_recipient_delete(request, recipient_id: int):
    token = request.auth
    recipient = RelayRecipient.objects.select_related("domain").filter(pk=recipient_id).first()
    if (
        recipient is None
        or not tokens.covers(token, recipient.domain_id)
        or not permissions.can_manage_domain(token.owner, recipient.domain)
    ):
        raise Http404(_("No such address."))
    domains.relay_recipient_delete(acting_user=token.owner, recipient=recipient, origin=_origin(request))
    return Status(204, None)


# --- domain aliases, deleted mailboxes, usage, grants ------------------------------------


class DomainAliasOut(Schema):
    name: str
    target: str
    active: bool


class DomainAliasIn(Schema):
    name: str = Field(max_length=253)
    active: bool = True


class ActiveIn(Schema):
    active: bool


class ArchiveOut(Schema):
    id: int
    address: str
    state: str
    deleted_at: datetime.datetime
    deleted_by: str
    purge_at: datetime.datetime
    restorable: bool


class UsageOut(Schema):
    domain: str
    mailboxes: int
    usage_bytes: int
    quota_bytes: int = Field(description="the quotas allocated (mailboxes with no limit count 0)")
    unlimited_mailboxes: int


class GrantOut(Schema):
    admin: str
    domains: list[str]
    quota_bytes: int
    max_mailboxes: int
    can_create_mailboxes: bool
    can_delete_mailboxes: bool
    can_appoint_admins: bool


class GrantIn(Schema):
    domains: list[str] = Field(max_length=1000)
    quota_bytes: int | None = Field(None, ge=0, le=2**62)
    max_mailboxes: int | None = Field(None, ge=0, le=10**9)
    can_create_mailboxes: bool | None = None
    can_delete_mailboxes: bool | None = None
    can_appoint_admins: bool | None = None


DomainAliasPage, ArchivePage, GrantPage = (page_of(s) for s in (DomainAliasOut, ArchiveOut, GrantOut))


def _domain_alias_of(request, name: str) -> DomainAlias:
    try:
        name = normalize_domain(name)
    except AddressError:
        raise Http404(_("No such domain alias.")) from None
    alias = DomainAlias.objects.select_related("target").filter(name=name).first()
    if alias is None or not tokens.scoped_domains(request.auth).filter(pk=alias.target_id).exists():
        raise Http404(_("No such domain alias."))
    return alias


def _domain_alias_out(alias: DomainAlias) -> dict:
    return {"name": alias.name, "target": alias.target.name, "active": alias.active}


@api.get("/domains/{name}/domain-aliases", response={200: DomainAliasPage, **ERRORS}, tags=["domains"])
def domain_alias_list(request, name: str, after: str = "", limit: int = 100):
    domain = _domain_of(request, name)
    qs = DomainAlias.objects.filter(target=domain, name__gt=after).order_by("name")
    rows = [
        {"name": n, "target": domain.name, "active": a}
        for n, a in qs.values_list("name", "active")[: _limit(limit) + 1]
    ]
    return _page(rows, "name", limit)


@api.post("/domains/{name}/domain-aliases", response={201: DomainAliasOut, **ERRORS}, tags=["domains"])
def domain_alias_create(request, name: str, payload: DomainAliasIn):
    alias = domains.domain_alias_create(
        acting_user=request.auth.owner,
        target=_domain_of(request, name),
        name=payload.name,
        active=payload.active,
        origin=_origin(request),
    )
    return Status(201, _domain_alias_out(alias))


@api.patch("/domain-aliases/{name}", response={200: DomainAliasOut, **ERRORS}, tags=["domains"])
def domain_alias_update(request, name: str, payload: ActiveIn):
    alias = domains.domain_alias_update(
        acting_user=request.auth.owner,
        alias=_domain_alias_of(request, name),
        active=payload.active,
        origin=_origin(request),
    )
    return _domain_alias_out(alias)


@api.delete("/domain-aliases/{name}", response={204: None, **ERRORS}, tags=["domains"])
def domain_alias_delete(request, name: str):
    domains.domain_alias_delete(
        acting_user=request.auth.owner, alias=_domain_alias_of(request, name), origin=_origin(request)
    )
    return Status(204, None)


def _archive_out(archive: MailboxArchive, now) -> dict:
    fields = ("id", "address", "state", "deleted_at", "deleted_by")
    return {f: getattr(archive, f) for f in fields} | {
        "purge_at": archive.purge_due(),
        "restorable": archive.restorable(now),
    }


@api.get("/domains/{name}/deleted-mailboxes", response={200: ArchivePage, **ERRORS}, tags=["mailboxes"])
def archive_list(request, name: str, after: int | None = None, limit: int = 100, all: bool = False):
    """Deleted mailboxes of the domain, newest first (``all``: also those restored or purged)."""
    domain = _domain_of(request, name)
    qs = MailboxArchive.objects.filter(domain=domain).order_by("-id")
    qs = qs if all else qs.kept()
    if after is not None:
        qs = qs.filter(id__lt=after)
    now = timezone.now()
    rows = [_archive_out(a, now) for a in qs[: _limit(limit) + 1]]
    page = _page(rows, "id", limit)
    page["next"] = str(page["next"]) if page["next"] is not None else None
    return page


@api.post("/deleted-mailboxes/{archive_id}/restore", response={200: ArchiveOut, **ERRORS}, tags=["mailboxes"])
def archive_restore(request, archive_id: int):
    """Restore a deleted mailbox into its domain, with its password and mail (``state`` says when
    the mail is back: ``restored`` at once, ``restoring`` within the mail store job's minute)."""
    archive = (
        MailboxArchive.objects.filter(domain__in=tokens.scoped_domains(request.auth).values("pk"), pk=archive_id)
        .select_related("domain")
        .first()
    )
    if archive is None:
        raise Http404(_("No such deleted mailbox."))
    if not permissions.can_restore_mailbox(request.auth.owner, archive.domain, archive):
        raise PermissionDenied(_("You may not restore that mailbox."))
    archive = archive_service.mailbox_restore(acting_user=request.auth.owner, archive=archive, origin=_origin(request))
    return _archive_out(archive, timezone.now())


@api.get("/domains/{name}/usage", response={200: UsageOut, **ERRORS}, tags=["domains"])
def domain_usage(request, name: str):
    """Storage and quota of the domain's mailboxes, as the usage job measured them last."""
    domain = _domain_of(request, name)
    totals = Mailbox.objects.totals_by_domain([domain]).get(domain.pk, {})
    return {
        "domain": domain.name,
        "mailboxes": totals.get("mailboxes", 0),
        "usage_bytes": totals.get("usage_bytes", 0),
        "quota_bytes": totals.get("quota_bytes", 0),
        "unlimited_mailboxes": totals.get("unlimited", 0),
    }


def _grant_out(grant: AdminGrant) -> dict:
    fields = ("quota_bytes", "max_mailboxes", "can_create_mailboxes", "can_delete_mailboxes", "can_appoint_admins")
    return {f: getattr(grant, f) for f in fields} | {
        "admin": grant.admin.address,
        "domains": sorted(d.name for d in grant.domains.all()),
    }


def _grants_in_scope(request):
    """The grants the owner may see whose every domain is within the token's scope."""
    token = request.auth
    grants = AdminGrant.objects.filter(permissions.visible_grant_filter(token.owner)).distinct()
    ids = tokens.domain_ids(token)
    if ids is not None:
        grants = grants.exclude(domains__in=Domain.objects.exclude(pk__in=ids))
    return grants.select_related("admin").prefetch_related("domains")


@api.get("/grants", response={200: GrantPage, **ERRORS}, tags=["grants"])
def grant_list(request, after: str = "", limit: int = 100):
    if not permissions.can_manage_grants(request.auth.owner):
        raise PermissionDenied(_("Grants are for superusers and administrators who appoint administrators."))
    qs = _grants_in_scope(request).filter(admin__address__gt=after).order_by("admin__address")
    rows = [_grant_out(g) for g in qs[: _limit(limit) + 1]]
    return _page(rows, "admin", limit)


def _grant_of(request, address: str) -> AdminGrant:
    if not permissions.can_manage_grants(request.auth.owner):
        raise PermissionDenied(_("Grants are for superusers and administrators who appoint administrators."))
    grant = _grants_in_scope(request).filter(admin__address=_address(address)).first()
    if grant is None:
        raise Http404(_("No such grant."))
    return grant


@api.get("/grants/{address}", response={200: GrantOut, **ERRORS}, tags=["grants"])
def grant_get(request, address: str):
    return _grant_out(_grant_of(request, address))


@api.put("/grants/{address}", response={200: GrantOut, **ERRORS}, tags=["grants"])
def grant_put(request, address: str, payload: GrantIn):
    """Appoint the mailbox an administrator of ``domains``, or replace its grant (limits and
    capabilities not given keep their values, or the defaults for a new grant)."""
    owner = request.auth.owner
    if not permissions.can_manage_grants(owner):
        raise PermissionDenied(_("Grants are for superusers and administrators who appoint administrators."))
    admin = _mailbox_of(request, address)
    names = []
    for value in payload.domains:
        try:
            names.append(normalize_domain(value))
        except AddressError as exc:
            raise ValidationError({"domains": [str(exc)]}) from None
    chosen = list(tokens.scoped_domains(request.auth).filter(name__in=names))
    missing = sorted(set(names) - {d.name for d in chosen})
    if missing:
        raise ValidationError(
            {"domains": [_("Not a domain you may see: %(domains)s.") % {"domains": ", ".join(missing)}]}
        )
    changes = {k: v for k, v in payload.dict(exclude={"domains"}).items() if v is not None}
    grant = domains.grant_set(acting_user=owner, admin=admin, domains=chosen, origin=_origin(request), **changes)
    return _grant_out(AdminGrant.objects.select_related("admin").prefetch_related("domains").get(pk=grant.pk))


@api.delete("/grants/{address}", response={204: None, **ERRORS}, tags=["grants"])
def grant_delete(request, address: str):
    grant = _grant_of(request, address)
    domains.grant_revoke(acting_user=request.auth.owner, admin=grant.admin, origin=_origin(request))
    return Status(204, None)


AUDIT_FIELDS = (
    "id",
    "created",
    "actor",
    "actor_label",
    "origin",
    "action",
    "object_type",
    "object_repr",
    "domain_name",
)


@api.get("/audit", response={200: AuditPage, **ERRORS}, tags=["audit"])
def audit_list(request, after: int | None = None, limit: int = 100):
    """Newest first; ``after`` is the last ``id`` of the previous page."""
    token = request.auth
    if not permissions.can_use_admin_pages(token.owner):
        raise PermissionDenied(_("The audit log is for administrators."))
    qs = AuditEntry.objects.visible_to(token.owner).order_by("-id")
    ids = tokens.domain_ids(token)
    if ids is not None:
        qs = qs.filter(domain__in=ids)
    if after is not None:
        qs = qs.filter(id__lt=after)
    rows = [
        {
            "id": e.id,
            "created": e.created,
            "actor": e.actor_label,
            "origin": e.origin if permissions.can_see_audit_origin(token.owner, e) else "",
            "action": e.action,
            "object_type": e.object_type,
            "object": e.object_repr,
            "domain": e.domain_name,
        }
        for e in qs.only(*AUDIT_FIELDS)[: _limit(limit) + 1]
    ]
    page = _page(rows, "id", limit)
    page["next"] = str(page["next"]) if page["next"] is not None else None
    return page


def _json_answers(view):
    """Ninja answers a wrong method with a bare 405: give it the API's error shape."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            allowed = response.get("Allow", "")
            message = _("Use %(methods)s.") % {"methods": allowed}
            response = JsonResponse(
                {"error": {"code": "method_not_allowed", "message": message, "fields": {}}}, status=405
            )
            response["Allow"] = allowed
        return response

    return wrapped


@csrf_exempt
def _no_such_endpoint(request, rest=""):
    message = _("No such endpoint.")
    return JsonResponse({"error": {"code": "not_found", "message": message, "fields": {}}}, status=404)


def urls():
    """The API's URL patterns for mailadmin/urls.py: a token, not a session, authenticates them, so
    the panel's login redirect (``LoginRequiredMiddleware``) is not theirs; any other path under
    the API's prefix is a JSON 404."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = _json_answers(pattern.callback)
    patterns = [*patterns, re_path(r"^(?P<rest>.*)$", _no_such_endpoint)]
    for pattern in patterns:
        pattern.callback.login_required = False
    return patterns, app_name, namespace
