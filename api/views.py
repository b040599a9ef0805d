"""The REST API (django-ninja): the panel's services and permission rules, called with a token.

Every endpoint resolves its objects through the owner's visibility (``visible_to``) and the
token's domain scope (``tokens.covers``): anything else is a 404, as in the panel. Writes call
the same services as the panel and the CLI, with the token's owner as the acting user, so each
rule (ranks, grants, limits, the password policy ...) is checked where it lives; a read-only
token's writes are refused (403) before any service runs. Lists are keyset-paginated (``after``
= the last key of the previous page): every page costs the same few queries, at any depth.

Errors have one shape: ``{"error": {"code": ..., "message": ..., "fields": {field: [messages]}}}``
with 400 (bad input), 401 (no or bad token), 403, 404, 405, 429 (``Retry-After``).
"""

from __future__ import annotations

import datetime
import functools

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.security import HttpBearer

from accounts import services as accounts
from accounts.models import Mailbox
from aliases import services as aliases
from aliases.models import Alias
from api import tokens
from mailadmin import permissions
from mailadmin.lib.addresses import AddressError, normalize_address, normalize_domain
from mailadmin.models import AuditEntry
from mailadmin.shortcuts import origin
from vacation import services as vacations
from vacation.models import Vacation

MAX_PAGE = 500


class RateLimited(Exception):
    def __init__(self, seconds: int):
        super().__init__(f"Too many requests for this token: wait {seconds} seconds.")
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
            raise PermissionDenied("This token is read-only.")
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
    return _error(request, 400, "invalid", "The request does not match the schema.", fields)


@api.exception_handler(PermissionDenied)
def _denied(request, exc):
    return _error(request, 403, "forbidden", str(exc) or "You are not allowed to do that.")


@api.exception_handler(Http404)
def _missing(request, exc):
    return _error(request, 404, "not_found", str(exc) or "Not found.")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    response = _error(request, 401, "unauthenticated", "A valid token is needed: Authorization: Bearer mda_...")
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


class DomainOut(Schema):
    name: str
    description: str
    active: bool
    logins_enabled: bool
    max_mailboxes: int
    max_aliases: int
    max_quota_bytes: int
    default_quota_bytes: int


class MailboxOut(Schema):
    address: str
    domain: str | None
    local_part: str
    first_name: str
    last_name: str
    active: bool
    may_relay: bool
    filtering: bool
    quota_bytes: int
    usage_bytes: int
    message_count: int
    over_quota: bool


class MailboxIn(Schema):
    local_part: str = Field(max_length=64)
    password: str | None = Field(None, max_length=4096, description="generated (and returned once) when left out")
    quota_bytes: int | None = Field(None, ge=0, le=2**62)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    active: bool = True
    may_relay: bool | None = None
    filtering: bool = True


class MailboxCreated(MailboxOut):
    password: str | None = Field(None, description="the generated password, shown this once")


class MailboxPatch(Schema):
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    active: bool | None = None
    may_relay: bool | None = None
    filtering: bool | None = None
    quota_bytes: int | None = Field(None, ge=0, le=2**62)


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


class AliasOut(Schema):
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


class AuditOut(Schema):
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
        (Schema,),
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
        raise ValidationError({"limit": f"From 1 to {MAX_PAGE}."})
    return limit


def _page(rows: list, key: str, limit: int) -> dict:
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next": rows[-1][key] if more and rows else None}


def _domain_of(request, name: str):
    try:
        name = normalize_domain(name)
    except AddressError:
        raise Http404("No such domain.") from None
    domain = tokens.scoped_domains(request.auth).filter(name=name).first()
    if domain is None:
        raise Http404("No such domain.")
    return domain


def _address(value: str) -> str:
    try:
        return normalize_address(value)
    except AddressError:
        raise Http404("Not found.") from None


def _mailbox_of(request, address: str) -> Mailbox:
    token = request.auth
    mailbox = Mailbox.objects.visible_to(token.owner).select_related("domain").filter(address=_address(address)).first()
    if mailbox is None or not tokens.covers(token, mailbox.domain_id):
        raise Http404("No such mailbox.")
    return mailbox


def _alias_of(request, address: str) -> Alias:
    token = request.auth
    alias = Alias.objects.visible_to(token.owner).select_related("domain").filter(address=_address(address)).first()
    if alias is None or not tokens.covers(token, alias.domain_id):
        raise Http404("No such alias.")
    return alias


def _changes(payload) -> dict:
    """The fields a PATCH gives; a field given as null is refused (null is no value)."""
    changes = payload.dict(exclude_unset=True)
    if any(value is None for value in changes.values()):
        raise ValidationError({k: ["May not be null."] for k, v in changes.items() if v is None})
    return changes


MAILBOX_FIELDS = [
    "address",
    "local_part",
    "first_name",
    "last_name",
    "active",
    "may_relay",
    "filtering",
    "quota_bytes",
    "usage_bytes",
    "message_count",
    "over_quota",
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


@api.get("/domains/{name}/mailboxes", response={200: MailboxPage, **ERRORS}, tags=["mailboxes"])
def mailbox_list(request, name: str, after: str = "", limit: int = 100, active: bool | None = None, search: str = ""):
    domain = _domain_of(request, name)
    qs = Mailbox.objects.visible_to(request.auth.owner).filter(domain=domain, address__gt=after).order_by("address")
    if active is not None:
        qs = qs.filter(active=active)
    if search:
        qs = qs.filter(Q(address__startswith=search.strip().lower()) | Q(last_name__icontains=search.strip()))
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
        raise PermissionDenied("A token cannot set its own account's password: change it in the panel.")
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
    fields = ("mode", "subject", "body", "first_day", "last_day", "interval_days")
    return {f: getattr(vacation, f) for f in fields}


@api.get("/mailboxes/{address}/vacation", response={200: VacationIO, **ERRORS}, tags=["mailboxes"])
def vacation_get(request, address: str):
    mailbox = _mailbox_of(request, address)
    if not permissions.can_edit_vacation(request.auth.owner, mailbox):
        raise PermissionDenied("You may not see that mailbox's vacation reply.")
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
    rows = [
        {"address": a, "domain": domain.name, "local_part": lp, "destinations": [d for d in dest.split(", ") if d]}
        | {"active": active}
        for a, lp, dest, active in qs.values_list("address", "local_part", "destinations", "active")[
            : _limit(limit) + 1
        ]
    ]
    return _page(rows, "address", limit)


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
        raise PermissionDenied("The audit log is for administrators.")
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
            response = JsonResponse(
                {"error": {"code": "method_not_allowed", "message": f"Use {allowed}.", "fields": {}}}, status=405
            )
            response["Allow"] = allowed
        return response

    return wrapped


@csrf_exempt
def _no_such_endpoint(request, rest=""):
    return JsonResponse({"error": {"code": "not_found", "message": "No such endpoint.", "fields": {}}}, status=404)


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
