"""Bulk loading of a mail directory: many rows per INSERT, every row validated.

For loads far beyond what the row-at-a-time services are made for (moving a large
installation in, the benchmarks in ``bench/``). Rows are checked with the rules the
services apply and written with ``bulk_create``, one transaction and one audit row
per batch.

What each row goes through:

- the model's own field validation (``clean_fields``: canonical domain names, local
  parts and addresses from ``mailadmin.lib.addresses``, destinations parsed by
  ``parse_destinations``, lengths and choices) and its ``clean`` where that needs no
  query (aliases, vacations);
- the rules the services check with a query per row, done here once per batch:
  names unique across domains and domain aliases; addresses unique across
  mailboxes, aliases and deleted mailboxes whose mail is still being archived;
  mailbox quotas within the domain's maximum; mailbox and alias counts within the
  domain's limits; the limits of every admin grant covering the domain. The domains
  and grants are locked first, in id order, as ``lock_limits`` does;
- the database's constraints (unique indexes, CHECKs) as the last word: when the
  database refuses a batch, its rows are validated again one by one with
  ``full_clean``, so the error names the row and the rule.

A batch is all or nothing and the error names every bad row of it (``Row N (name):
reason``); batches written before a bad one stay written.

Passwords: hashing is the cost of a mailbox (about 0.1 s each with the production
Argon2 parameters), so this loader stores hashes, never clear text: a row's
``password_hash`` or the load's ``password_hash``, each checked to be a scheme
Dovecot knows. Hash passwords one by one with ``mailbox_create`` when each mailbox
needs its own.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count

from accounts.models import Mailbox, MailboxArchive
from accounts.services import FLAG_FIELDS, PROFILE_FIELDS
from aliases.models import Alias
from domains.models import AdminGrant, Domain, DomainAlias
from domains.services import DOMAIN_SETTINGS, _check_grant, _lock_names, check_mailbox_limits, domain_name_from
from mailadmin import permissions
from mailadmin.audit import record
from mailadmin.lib import passwords
from mailadmin.lib.addresses import AddressError, normalize_address
from vacation.models import Vacation

BATCH_SIZE = 2000
Progress = Callable[[int], None] | None


# --- the load loop shared by every kind of row --------------------------------------


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[tuple[int, dict]]]:
    numbered = enumerate(rows, start=1)
    while batch := list(islice(numbered, size)):
        yield batch


class _Errors:
    """Errors of one batch, each naming its row; raised together."""

    def __init__(self):
        self.messages: list[ValidationError] = []

    def add(self, number: int, name: str, problem) -> None:
        texts = problem.messages if isinstance(problem, ValidationError) else [str(problem)]
        for text in texts:
            self.messages.append(
                ValidationError(
                    "Row %(row)s (%(name)s): %(message)s",
                    code="row",
                    params={"row": number, "name": name or "-", "message": text},
                )
            )

    def raise_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)


def _require_system(acting_user) -> None:
    if acting_user is not None and not permissions.is_superuser(acting_user):
        raise PermissionDenied("Only superusers load a directory in bulk.")


def _insert(model, built: list[tuple[int, str, object]], errors: _Errors, exclude: list[str]) -> None:
    """bulk_create; if the database refuses, find the rows and say why."""
    try:
        with transaction.atomic():
            model.objects.bulk_create([obj for _, _, obj in built])
    except IntegrityError as exc:
        for number, name, obj in built:
            try:
                obj.full_clean(exclude=exclude)
            except ValidationError as problem:
                errors.add(number, name, problem)
        errors.raise_any()
        raise ValidationError(f"The database refused the batch: {exc}") from None


def _load(rows, *, acting_user, origin, batch_size, progress, model, action, prepare, build, check, exclude) -> int:
    """Validate and write ``rows`` batch by batch; returns the number written.

    ``prepare(batch)`` locks and loads what the batch refers to (in its transaction),
    ``build(row, context)`` makes one validated object or raises ValidationError,
    ``check(built, context, errors)`` applies the rules that span rows.
    """
    _require_system(acting_user)
    total = 0
    for batch in _batches(rows, batch_size):
        errors = _Errors()
        with transaction.atomic():
            context = prepare([row for _, row in batch])
            built = []
            for number, row in batch:
                try:
                    obj = build(row, context)
                except ValidationError as problem:
                    errors.add(number, _row_name(row), problem)
                else:
                    built.append((number, _row_name(row), obj))
            check(built, context, errors)
            errors.raise_any()
            _insert(model, built, errors, exclude)
            record(
                acting_user=acting_user,
                origin=origin,
                action=action,
                obj=built[0][2],
                after={"rows": len(built), "first": str(built[0][2]), "last": str(built[-1][2])},
            )
        total += len(built)
        if progress:
            progress(len(built))
    return total


def _row_name(row: dict) -> str:
    for key in ("address", "name"):
        if row.get(key):
            return str(row[key])
    if "local_part" in row:
        return f"{row['local_part']}@{row.get('domain', '')}"
    return ""


def _duplicates(built, key, errors: _Errors, taken: set, message: str) -> list:
    """Drop (and report) rows whose key is in ``taken`` or repeats an earlier row."""
    seen, kept = set(taken), []
    for number, name, obj in built:
        value = key(obj)
        if value in seen:
            errors.add(number, name, message.format(value=value))
        else:
            seen.add(value)
            kept.append((number, name, obj))
    built[:] = kept
    return kept


def _unknown(row: dict, allowed: set) -> None:
    unknown = set(row) - allowed
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(sorted(unknown))}.")


def _domains_by_name(names: Iterable[str], *, lock: bool) -> dict[str, Domain]:
    """The domains of these names (any spelling), locked in id order when ``lock``."""
    wanted = set()
    for name in names:
        try:
            wanted.add(domain_name_from(name))
        except ValidationError:
            pass  # reported by the row itself
    queryset = Domain.objects.filter(name__in=wanted).order_by("pk")
    if lock:
        queryset = queryset.select_for_update()
    return {domain.name: domain for domain in queryset}


def _domain_of(row: dict, context: dict) -> Domain:
    name = domain_name_from(str(row.get("domain", "")), "domain")
    try:
        return context["domains"][name]
    except KeyError:
        raise ValidationError({"domain": f"No domain {name}."}) from None


# --- domains and domain aliases ---------------------------------------------------------


def domain_bulk_load(
    *, acting_user, rows: Iterable[dict], origin: str = "cli", batch_size: int = BATCH_SIZE, progress: Progress = None
) -> int:
    """Create domains from rows of ``name`` and any of ``DOMAIN_SETTINGS``."""

    def build(row, _context):
        _unknown(row, {"name", *DOMAIN_SETTINGS})
        domain = Domain(**{**row, "name": domain_name_from(str(row.get("name", "")))})
        domain.clean_fields()
        return domain

    def check(built, _context, errors):
        names = [obj.name for _, _, obj in built]
        taken = set(Domain.objects.filter(name__in=names).values_list("name", flat=True))
        _duplicates(built, lambda d: d.name, errors, taken, "{value} already exists.")
        aliases = set(DomainAlias.objects.filter(name__in=names).values_list("name", flat=True))
        _duplicates(built, lambda d: d.name, errors, aliases, "{value} is already a domain alias.")

    return _load(
        rows,
        acting_user=acting_user,
        origin=origin,
        batch_size=batch_size,
        progress=progress,
        model=Domain,
        action="domain.bulk_load",
        prepare=lambda _batch: _lock_names(),
        build=build,
        check=check,
        exclude=[],
    )


def domain_alias_bulk_load(
    *, acting_user, rows: Iterable[dict], origin: str = "cli", batch_size: int = BATCH_SIZE, progress: Progress = None
) -> int:
    """Create domain aliases from rows of ``name``, ``domain`` (the target's name) and ``active``."""

    def prepare(batch):
        _lock_names()
        return {"domains": _domains_by_name((row.get("domain", "") for row in batch), lock=False)}

    def build(row, context):
        _unknown(row, {"name", "domain", "active"})
        alias = DomainAlias(
            name=domain_name_from(str(row.get("name", ""))),
            target=_domain_of(row, context),
            active=row.get("active", True),
        )
        alias.clean_fields(exclude=["target"])
        return alias

    def check(built, _context, errors):
        names = [obj.name for _, _, obj in built]
        taken = set(DomainAlias.objects.filter(name__in=names).values_list("name", flat=True))
        _duplicates(built, lambda a: a.name, errors, taken, "{value} already exists.")
        domains = set(Domain.objects.filter(name__in=names).values_list("name", flat=True))
        _duplicates(built, lambda a: a.name, errors, domains, "{value} is already a domain.")

    return _load(
        rows,
        acting_user=acting_user,
        origin=origin,
        batch_size=batch_size,
        progress=progress,
        model=DomainAlias,
        action="domain_alias.bulk_load",
        prepare=prepare,
        build=build,
        check=check,
        exclude=["target"],
    )


# --- mailboxes and aliases: address rules and domain/grant limits -----------------------


def _lock_limits(batch: list[dict]) -> dict:
    """``lock_limits`` for every domain of the batch: the domains, then their grants, in id order."""
    domains = _domains_by_name((row.get("domain", "") for row in batch), lock=True)
    ids = [d.pk for d in domains.values()]
    links = AdminGrant.domains.through.objects.filter(domain_id__in=ids).values_list("domain_id", "admingrant_id")
    grant_domains = defaultdict(set)
    for domain_id, grant_id in links:
        grant_domains[grant_id].add(domain_id)
    grants = AdminGrant.objects.select_for_update().filter(pk__in=list(grant_domains)).order_by("pk")
    grants = grants.select_related("admin")
    return {"domains": domains, "grants": [(grant, grant_domains[grant.pk]) for grant in grants]}


def _addresses_in_use(addresses: list[str]) -> dict[str, str]:
    """Address -> why it cannot be used (the rule of ``_check_address_free``, for many at once)."""
    used = {
        a: f"{a} already exists as a mailbox."
        for a in Mailbox.objects.filter(address__in=addresses).values_list("address", flat=True)
    }
    used.update(
        {
            a: f"{a} already exists as an alias."
            for a in Alias.objects.filter(address__in=addresses).values_list("address", flat=True)
        }
    )
    return used


def _counts(model, domains: list[Domain]) -> Counter:
    rows = (
        model.objects.filter(domain__in=domains)
        .values("domain_id")
        .annotate(n=Count("pk"))
        .values_list("domain_id", "n")
    )
    return Counter(dict(rows))


def _check_count(built, errors: _Errors, model, limit_field: str, noun: str) -> None:
    """Drop the rows past a domain's ``limit_field`` (0 is unlimited)."""
    limited = {obj.domain_id: obj.domain for _, _, obj in built if getattr(obj.domain, limit_field)}
    if not limited:
        return
    count = _counts(model, list(limited.values()))
    kept = []
    for number, name, obj in built:
        limit = getattr(obj.domain, limit_field)
        if limit and count[obj.domain_id] + 1 > limit:
            errors.add(number, name, f"{obj.domain.name} may have at most {limit} {noun}.")
        else:
            count[obj.domain_id] += 1
            kept.append((number, name, obj))
    built[:] = kept


def _check_grants(built, context: dict, errors: _Errors) -> None:
    """Every grant covering the batch's domains must hold the new mailboxes together.

    The quota check is made with the batch's mean quota rounded up (never more
    lenient than the exact sum), and a zero (unlimited) quota anywhere counts as
    unlimited, as ``check_mailbox_limits`` does for one mailbox.
    """
    for grant, domain_ids in context["grants"]:
        rows = [(number, name, obj) for number, name, obj in built if obj.domain_id in domain_ids]
        if not rows:
            continue
        quotas = [obj.quota_bytes for _, _, obj in rows]
        quota = 0 if 0 in quotas else math.ceil(sum(quotas) / len(quotas))
        try:
            _check_grant(grant, new_mailboxes=len(rows), old_quota_bytes=None, new_quota_bytes=quota)
        except ValidationError as problem:
            errors.add(rows[0][0], f"{len(rows)} mailboxes under the grant of {grant.admin}", problem)


def _password_hash(value: str, cache: dict) -> str:
    if value not in cache:
        try:
            cache[value] = passwords.normalize_hash(value)
        except passwords.UnknownScheme as exc:
            raise ValidationError({"password_hash": str(exc)}) from None
    return cache[value]


MAILBOX_ROW_FIELDS = {"domain", "local_part", "quota_bytes", "password_hash", *PROFILE_FIELDS, *FLAG_FIELDS}


def mailbox_bulk_load(
    *,
    acting_user,
    rows: Iterable[dict],
    password_hash: str = "",
    origin: str = "cli",
    batch_size: int = BATCH_SIZE,
    progress: Progress = None,
) -> int:
    """Create mailboxes from rows of ``domain`` (name), ``local_part`` and optional fields.

    ``quota_bytes`` defaults to the domain's default quota and ``may_relay`` to the
    domain's default, as in ``mailbox_create``. Each mailbox stores the row's
    ``password_hash``, else ``password_hash``, else no usable password ("!").
    """
    hashes: dict[str, str] = {}

    def build(row, context):
        _unknown(row, MAILBOX_ROW_FIELDS)
        fields = {k: v for k, v in row.items() if k in PROFILE_FIELDS or k in FLAG_FIELDS}
        domain = _domain_of(row, context)
        fields.setdefault("may_relay", domain.default_may_relay)
        quota = row.get("quota_bytes")
        stored = row.get("password_hash") or password_hash
        mailbox = Mailbox(
            domain=domain,
            local_part=row.get("local_part", ""),
            quota_bytes=domain.default_quota_bytes if quota is None else quota,
            password=_password_hash(stored, hashes) if stored else "!",
            **fields,
        )
        mailbox.clean_fields(exclude=["domain"])
        check_mailbox_limits(domain, [], new_mailboxes=0, old_quota_bytes=None, new_quota_bytes=mailbox.quota_bytes)
        return mailbox

    def check(built, context, errors):
        addresses = [obj.address for _, _, obj in built]
        in_use = _addresses_in_use(addresses)
        archiving = set(
            MailboxArchive.objects.filter(
                address__in=addresses, state__in=[MailboxArchive.State.PENDING, MailboxArchive.State.RESTORING]
            ).values_list("address", flat=True)
        )
        kept = []
        for number, name, obj in built:
            if obj.address in in_use or obj.address in archiving:
                errors.add(
                    number,
                    name,
                    in_use.get(obj.address)
                    or f"The mail of the deleted mailbox {obj.address} is still being archived or restored.",
                )
            else:
                kept.append((number, name, obj))
        built[:] = kept
        _duplicates(built, lambda m: m.address, errors, set(), "{value} appears twice.")
        _check_count(built, errors, Mailbox, "max_mailboxes", "mailboxes")
        _check_grants(built, context, errors)

    return _load(
        rows,
        acting_user=acting_user,
        origin=origin,
        batch_size=batch_size,
        progress=progress,
        model=Mailbox,
        action="mailbox.bulk_load",
        prepare=_lock_limits,
        build=build,
        check=check,
        exclude=["domain"],
    )


def alias_bulk_load(
    *, acting_user, rows: Iterable[dict], origin: str = "cli", batch_size: int = BATCH_SIZE, progress: Progress = None
) -> int:
    """Create aliases from rows of ``domain``, ``local_part`` ("" for the catch-all), ``destinations``, ``active``."""

    def build(row, context):
        _unknown(row, {"domain", "local_part", "destinations", "active"})
        alias = Alias(
            domain=_domain_of(row, context),
            local_part=row.get("local_part", ""),
            destinations=row.get("destinations", ""),
            active=row.get("active", True),
        )
        alias.clean_fields(exclude=["domain"])
        alias.clean()
        return alias

    def check(built, _context, errors):
        in_use = _addresses_in_use([obj.address for _, _, obj in built])
        kept = []
        for number, name, obj in built:
            if obj.address in in_use:
                errors.add(number, name, in_use[obj.address])
            else:
                kept.append((number, name, obj))
        built[:] = kept
        _duplicates(built, lambda a: a.address, errors, set(), "{value} appears twice.")
        _check_count(built, errors, Alias, "max_aliases", "aliases")

    return _load(
        rows,
        acting_user=acting_user,
        origin=origin,
        batch_size=batch_size,
        progress=progress,
        model=Alias,
        action="alias.bulk_load",
        prepare=_lock_limits,
        build=build,
        check=check,
        exclude=["domain"],
    )


# --- vacations -------------------------------------------------------------------------

VACATION_ROW_FIELDS = {"address", "mode", "subject", "body", "first_day", "last_day", "interval_days"}


def vacation_bulk_load(
    *, acting_user, rows: Iterable[dict], origin: str = "cli", batch_size: int = BATCH_SIZE, progress: Progress = None
) -> int:
    """Create vacation replies from rows of ``address`` (a mailbox) and the fields of ``vacation_set``.

    The mode "default" clears subject and body, as ``vacation_set`` does; mailboxes
    that already have a vacation row are refused (this loader only creates).
    """

    def prepare(batch):
        addresses = set()
        for row in batch:
            try:
                addresses.add(normalize_address(str(row.get("address", ""))))
            except AddressError:
                pass  # reported by the row itself
        boxes = Mailbox.objects.filter(address__in=addresses).only("pk", "address", "domain_id")
        return {"mailboxes": {m.address: m for m in boxes}}

    def build(row, context):
        _unknown(row, VACATION_ROW_FIELDS)
        try:
            address = normalize_address(str(row.get("address", "")))
        except AddressError as exc:
            raise ValidationError({"address": str(exc)}) from None
        mailbox = context["mailboxes"].get(address)
        if mailbox is None or not mailbox.domain_id:
            raise ValidationError({"address": f"No mailbox {address}."})
        mode = row.get("mode", Vacation.Mode.OFF)
        if mode not in Vacation.Mode.values:
            raise ValidationError({"mode": f"Mode is one of: {', '.join(Vacation.Mode.values)}."})
        text = ("", "") if mode == Vacation.Mode.DEFAULT else (row.get("subject", ""), row.get("body", ""))
        vacation = Vacation(
            mailbox=mailbox,
            mode=mode,
            subject=text[0],
            body=text[1],
            first_day=row.get("first_day"),
            last_day=row.get("last_day"),
            interval_days=row.get("interval_days", settings.VACATION_DEFAULT_INTERVAL_DAYS),
        )
        vacation.clean_fields(exclude=["mailbox"])
        vacation.clean()
        return vacation

    def check(built, _context, errors):
        ids = [obj.mailbox_id for _, _, obj in built]
        taken = set(Vacation.objects.filter(mailbox_id__in=ids).values_list("mailbox_id", flat=True))
        _duplicates(built, lambda v: v.mailbox_id, errors, taken, "The mailbox (id {value}) already has a vacation.")

    return _load(
        rows,
        acting_user=acting_user,
        origin=origin,
        batch_size=batch_size,
        progress=progress,
        model=Vacation,
        action="vacation.bulk_load",
        prepare=prepare,
        build=build,
        check=check,
        exclude=["mailbox"],
    )
