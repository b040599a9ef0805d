"""Mailboxes in bulk: ``mailadmin.bulk``'s engine with the rules of ``accounts.services``.

The rows carry password hashes, never clear text: the caller hashes first (``passwords.hash_many``,
over every core, before any row is locked), or passes an imported hash as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext

from accounts.models import FLAG_FIELDS, PROFILE_FIELDS, PROTOCOL_FIELDS, Mailbox, hash_policy
from accounts.services import (
    addresses_taken,
    check_password_policy,
    generate_password_for,
    protocol_defaults,
    send_welcome,
)
from domains import limits
from domains.bulk import domain_of, domains_of
from mailadmin import bulk, permissions
from mailadmin.lib import passwords
from mailadmin.permissions import require

MAILBOX_ROW_FIELDS = {
    "domain",
    "local_part",
    "quota_bytes",
    "password_hash",
    "forward_to",
    "forward_keep_copy",
    *PROFILE_FIELDS,
    *FLAG_FIELDS,
    *PROTOCOL_FIELDS,
}


def mailbox_bulk_load(
    *,
    acting_user,
    rows: Iterable[dict],
    password_hash: str = "",
    origin: str,
    welcome: bool = False,
    **options,
) -> bulk.Loaded:
    """Create mailboxes from rows of ``domain`` (name), ``local_part`` and optional fields
    (``forward_to`` and ``forward_keep_copy`` among them: forwarding as ``mailbox_set_forwarding``).

    ``quota_bytes`` defaults to the domain's default quota and ``may_relay`` to the domain's
    default, as in ``mailbox_create``. Each mailbox stores the row's ``password_hash``, else
    ``password_hash``, else no usable password ("!"). Whoever may create mailboxes in a domain
    may load them there (within the domain's and the grants' limits, checked per batch).
    """
    known: dict[str, str] = {}

    def prepare(rows):
        domains, grants = limits.lock_limits_of(domains_of(rows))
        return {"domains": domains, "grants": grants}

    def authorize(actor, context):
        for domain in context["domains"].values():
            require(
                actor is None or permissions.can_create_mailbox(actor, domain),
                gettext("You may not create mailboxes in that domain."),
            )

    def build(row, context):
        bulk.unknown_fields(row, MAILBOX_ROW_FIELDS)
        domain = domain_of(row, context["domains"])
        fields = {k: v for k, v in row.items() if k in PROFILE_FIELDS or k in FLAG_FIELDS}
        fields.setdefault("may_relay", domain.default_may_relay)
        fields |= protocol_defaults(domain, **{k: row.get(k) for k in PROTOCOL_FIELDS})
        quota = row.get("quota_bytes")
        stored = row.get("password_hash") or password_hash
        mailbox = Mailbox(
            domain=domain,
            local_part=row.get("local_part", ""),
            quota_bytes=domain.default_quota_bytes if quota is None else quota,
            password=_dovecot_hash(stored, known) if stored else "!",
            **fields,
        )
        mailbox.clean_fields(exclude=["domain"])
        limits.check_mailbox_quota(domain, mailbox.quota_bytes)
        if row.get("forward_to"):  # the same rules as mailbox_set_forwarding
            mailbox.set_forwarding(row["forward_to"], keep_copy=row.get("forward_keep_copy", True))
            limits.check_forwarding(domain, mailbox.forward_list)
        return mailbox

    def check(batch):
        bulk.refuse_taken(batch, lambda m: m.address, addresses_taken(m.address for m in batch.objects()))
        _check_counts(batch)
        _check_grants(batch, acting_user)

    return bulk.load(
        rows,
        acting_user=acting_user,
        origin=origin,
        model=Mailbox,
        action="mailbox.bulk_load",
        prepare=prepare,
        authorize=authorize,
        build=build,
        check=check,
        exclude=("domain",),
        after_commit=_welcome if welcome and settings.MAIL_WELCOME_SUBJECT else None,
        **options,
    )


def mailbox_bulk_create(
    *,
    acting_user,
    domain,
    rows: list[dict],
    origin: str,
    passwords_given: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[Mailbox, str]]:
    """Many mailboxes of ``domain`` with generated passwords, all or none (the panel's bulk creation,
    its CSV import and ``mailbox add-many``): ``[(mailbox, password), ...]``, each password shown once.

    Rows hold ``local_part``, optional ``quota_bytes``, profile fields, flags and ``line`` (their
    number in the input, named in every error). ``passwords_given`` (one a row) replaces the
    generated ones; each must pass the policy for its mailbox. The passwords are hashed over every
    core before anything is locked (``progress(n)`` hears how many are hashed); the rows are then
    checked and written as one batch, with one audit entry that lists them.
    """
    _require_create(acting_user, domain)
    if passwords_given is None:
        generated = [
            generate_password_for(
                domain=domain,
                local_part=str(row.get("local_part", "")),
                first_name=row.get("first_name", ""),
                last_name=row.get("last_name", ""),
            )
            for row in rows
        ]
    else:
        generated = list(passwords_given)
        _check_given_passwords(domain, rows, generated)
    hashes = passwords.hash_many(generated, hash_policy(), progress=progress)
    loaded = _load_lines(
        acting_user=acting_user,
        rows=[{**row, "domain": domain.name, "password_hash": h} for row, h in zip(rows, hashes, strict=True)],
        origin=origin,
    )
    return list(zip(loaded.written, generated, strict=True))


def mailbox_bulk_check(*, acting_user, domain, rows: list[dict]) -> None:
    """Raise what ``mailbox_bulk_create`` would refuse of these rows, hashing and writing nothing:
    the panel checks the lines in the request (fast) before a job hashes and writes them (slow),
    and the job checks them again under the same locks."""
    _require_create(acting_user, domain)
    _load_lines(acting_user=acting_user, rows=[{**row, "domain": domain.name} for row in rows], origin="", check=True)


def _require_create(acting_user, domain) -> None:
    require(
        acting_user is None or permissions.can_create_mailbox(acting_user, domain),
        gettext("You may not create mailboxes in that domain."),
    )


def _load_lines(*, acting_user, rows: list[dict], origin: str, check: bool = False) -> bulk.Loaded:
    """The lines of one submission as one batch (all or none), errors named by line."""
    return mailbox_bulk_load(
        acting_user=acting_user,
        rows=rows,
        origin=origin,
        welcome=True,
        label="Line",
        name=lambda row: str(row.get("local_part") or "-"),
        batch_size=max(len(rows), 1),
        check_only=check,
    )


def _check_given_passwords(domain, rows: list[dict], given: list[str]) -> None:
    """Every given password passes the policy for its own mailbox; the bad ones named by line."""
    errors = bulk.RowErrors("Line")
    for number, (row, password) in enumerate(zip(rows, given, strict=True), start=1):
        local_part = str(row.get("local_part", ""))
        probe = Mailbox(
            domain=domain,
            local_part=local_part,
            address=f"{local_part}@{domain.name}",
            first_name=row.get("first_name", ""),
            last_name=row.get("last_name", ""),
        )
        try:
            check_password_policy(password, probe)
        except ValidationError as exc:
            errors.add(row.get("line", number), local_part, exc)
    if errors.by_row:
        raise errors.as_error()


def _dovecot_hash(value: str, known: dict) -> str:
    if value not in known:
        try:
            known[value] = passwords.normalize_hash(value)
        except passwords.UnknownScheme as exc:
            raise ValidationError({"password_hash": str(exc)}) from None
    return known[value]


def _check_counts(batch: bulk.Batch) -> None:
    """The rows past a domain's mailbox limit are refused, each by name."""
    rooms: dict[int, int | None] = {}
    for number, name, mailbox in list(batch.built):
        if mailbox.domain_id not in rooms:
            rooms[mailbox.domain_id] = limits.mailbox_room(mailbox.domain)
        room = rooms[mailbox.domain_id]
        if room is None:
            continue
        if room < 1:
            batch.refuse(number, name, limits.count_exceeded(mailbox.domain, "mailboxes"))
        else:
            rooms[mailbox.domain_id] = room - 1


def _check_grants(batch: bulk.Batch, acting_user) -> None:
    """Every grant covering the batch's domains must hold its new mailboxes together."""
    for grant, domain_ids in batch.context["grants"]:
        rows = [(number, name, m) for number, name, m in batch.built if m.domain_id in domain_ids]
        if not rows:
            continue
        quotas = [m.quota_bytes for _, _, m in rows]
        try:
            limits.check_grant(
                grant,
                new_mailboxes=len(rows),
                quota_added=sum(quotas),
                unlimited=0 in quotas,
                acting_user=acting_user,
            )
        except ValidationError as problem:
            first = rows[0][0]
            label = ngettext("%(n)s mailbox under a grant", "%(n)s mailboxes under a grant", len(rows))
            batch.refuse(first, label % {"n": len(rows)}, problem)
            together = gettext("refused with row %(row)s: together they do not fit the grant") % {"row": first}
            for number, name, _ in rows[1:]:
                batch.refuse(number, name, together)


def _welcome(mailboxes: list) -> None:
    for mailbox in mailboxes:
        send_welcome(mailbox.address)
