"""What every importer shares: items, the report, dry runs, savepoints, progress.

A source module turns its input into ``Item``s (domains first, then domain
aliases, mailboxes, aliases, vacations, grants) with values already in this
project's terms (Dovecot ``{SCHEME}hash`` forms, MB quotas, canonical names).
``run`` applies each item through the services (so every rule and limit
applies) in its own savepoint: a bad item is reported with its reason and the
others are kept. Objects that already exist as the source says are left alone
and counted as unchanged, so a second run changes nothing. A dry run does all
of it and then rolls back, so its report is exactly what a real run would do.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from tqdm import tqdm

from accounts.bulk import mailbox_bulk_load
from imports import apply
from mailadmin.cli import format_error
from mailadmin.lib.numbers import NumberError, parse_int
from mailadmin.lib.sizes import parse_size

KINDS = ("domain", "domain alias", "mailbox", "alias", "forwarding", "vacation", "grant")
BATCH = 1000  # new mailboxes per batch (one audit entry each)
PLURALS = {"mailbox": "mailboxes", "alias": "aliases", "domain alias": "domain aliases", "forwarding": "forwardings"}
OUTCOMES = ("created", "updated", "unchanged")


@dataclass
class Item:
    kind: str  # one of KINDS
    key: str  # the name or address, for the report
    where: str  # where in the source: "popbox row 3", "line 12"
    data: dict = field(default_factory=dict)
    error: str = ""  # a problem already found while reading the source


@dataclass
class Failure:
    kind: str
    key: str
    where: str
    reason: str


@dataclass
class Report:
    source: str
    dry_run: bool
    counts: Counter = field(default_factory=Counter)  # (kind, outcome) -> n
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # per source row: what it became, or why not

    def count(self, kind: str, outcome: str) -> int:
        return self.counts[(kind, outcome)]

    def done(self, item: Item, outcome: str) -> None:
        self.counts[(item.kind, outcome)] += 1
        self.rows.append({"where": item.where, "kind": item.kind, "key": item.key, "outcome": outcome})

    def fail(self, item: Item, reason: str) -> None:
        self.failures.append(Failure(item.kind, item.key, item.where, reason))
        self.rows.append({"where": item.where, "kind": item.kind, "key": item.key, "outcome": "refused",
                          "reason": reason})  # fmt: skip

    @property
    def changed(self) -> int:
        return sum(n for (_kind, outcome), n in self.counts.items() if outcome in ("created", "updated"))

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "counts": {kind: {o: self.count(kind, o) for o in OUTCOMES} for kind in KINDS},
            "failed": [f.__dict__ for f in self.failures],
            "notes": self.notes,
            "rows": self.rows,
        }

    def lines(self) -> list[str]:
        verb = "would be " if self.dry_run else ""
        out = [f"{self.source}{' (dry run: nothing was changed)' if self.dry_run else ''}"]
        for kind in KINDS:
            parts = [f"{self.count(kind, o)} {verb}{o}" for o in OUTCOMES if self.count(kind, o)]
            failed = sum(1 for f in self.failures if f.kind == kind)
            if failed:
                parts.append(f"{failed} failed")
            if parts:
                out.append(f"  {PLURALS.get(kind, kind + 's')}: {', '.join(parts)}")
        out.extend(f"  note: {note}" for note in self.notes)
        out.extend(f"  FAILED {f.kind} {f.key} ({f.where}): {f.reason}" for f in self.failures)
        return out

    def row_lines(self) -> list[str]:
        """Per source row, in the order they were applied: what it became, or why not."""
        verb = "would be " if self.dry_run else ""
        return [
            f"  {row['where']}: {row['kind']} {row['key']}: "
            + (f"refused: {row['reason']}" if row["outcome"] == "refused" else verb + row["outcome"])
            for row in self.rows
        ]


def describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return format_error(exc, "; ")
    return str(exc) or type(exc).__name__


class Importer:
    """Base of the importers: ``items()`` reads the source, ``run()`` applies it."""

    label = "import"

    def items(self) -> Iterable[Item]:
        raise NotImplementedError

    def notes(self) -> list[str]:
        return []

    def run(self, *, dry_run: bool = False, progress: bool | None = None, postmaster_to: str = "") -> Report:
        """Apply every item; ``progress`` None shows a bar only on a terminal.

        With ``postmaster_to``, each domain the import creates gets ``postmaster@``
        and ``abuse@`` forwarding there (RFC 2142) unless the source has them.
        """
        items = sorted(self.items(), key=lambda item: KINDS.index(item.kind))  # stable: source order kept
        report = Report(source=self.label, dry_run=dry_run, notes=self.notes())
        bar = tqdm(
            total=len(items),
            desc=self.label,
            unit="item",
            file=sys.stderr,
            disable=None if progress is None else not progress,
        )
        with transaction.atomic():
            created_domains = []
            for kind in KINDS:
                group = [item for item in items if item.kind == kind]
                if kind == "mailbox":
                    self._apply_mailboxes(group, report)
                    bar.update(len(group))
                    continue
                for item in group:
                    if self._apply(item, report) == "created" and kind == "domain":
                        created_domains.append(item)
                    bar.update(1)
            if postmaster_to:
                for item in created_domains:
                    self._role_aliases(item, postmaster_to, report)
            if dry_run:
                transaction.set_rollback(True)
        bar.close()
        return report

    def _apply_mailboxes(self, items: list[Item], report: Report) -> None:
        """Existing mailboxes are updated one by one; new ones go through the bulk path in batches:
        their imported hashes stored as they are (clear text hashed over every core first), one
        audit entry per batch; a bad row is reported with its reason and the others are kept."""
        new = []
        existing = apply.existing_mailboxes(item.data.get("address", "") for item in items if not item.error)
        for item in items:
            if item.error or apply.canonical(item.data.get("address", "")) in existing:
                self._apply(item, report)
            else:
                new.append(item)
        rows = []
        for number, item in enumerate(new):
            try:
                rows.append({**apply.mailbox_row(**item.data), "line": number})
            except ValidationError as exc:
                report.fail(item, describe(exc))
        apply.hash_clear_passwords(rows)
        try:
            with transaction.atomic():
                loaded = mailbox_bulk_load(
                    acting_user=None, rows=rows, origin=apply.ORIGIN, batch_size=BATCH, skip_bad=True
                )
        except (ValidationError, DatabaseError) as exc:  # the database refused a batch as a whole
            for row in rows:
                report.fail(new[row["line"]], describe(exc))
            return
        refused = {r.number: r for r in loaded.refused}
        for row in rows:
            item = new[row["line"]]
            if row["line"] in refused:
                report.fail(item, "; ".join(refused[row["line"]].reasons))
            else:
                report.done(item, "created")

    @staticmethod
    def _apply(item: Item, report: Report) -> str | None:
        """Apply one item in its own savepoint; the outcome, or None when it failed."""
        if item.error:
            report.fail(item, item.error)
            return None
        try:
            with transaction.atomic():
                outcome = apply.APPLY[item.kind](**item.data)
        except (ValidationError, PermissionDenied, DatabaseError, ValueError) as exc:
            report.fail(item, describe(exc))
            return None
        report.done(item, outcome)
        return outcome

    @staticmethod
    def _role_aliases(item: Item, target: str, report: Report) -> None:
        from aliases.services import role_aliases_create
        from domains.services import get_domain

        try:
            with transaction.atomic():
                domain = get_domain(item.data["name"])
                created = role_aliases_create(acting_user=None, domain=domain, target=target, origin=apply.ORIGIN)
        except (ValidationError, PermissionDenied, DatabaseError) as exc:
            report.failures.append(Failure("alias", f"postmaster@{item.key}", "--postmaster-to", describe(exc)))
            return
        report.counts[("alias", "created")] += len(created)


# --- reading a source whole: it is complete and readable, or nothing is imported ----------


class SourceError(Exception):
    """The source cannot be read as a whole (cut short, mis-encoded, a part missing): nothing is
    imported, and the command exits non-zero with this message (as opposed to one bad row)."""


def read_text(path, encoding: str | None = None) -> str:
    """A source file's text, decoded strictly: UTF-8 (a BOM is dropped) unless ``encoding`` says.

    A byte that is not valid in the encoding refuses the whole file, naming its line: a Latin-1
    file read as UTF-8 would otherwise store U+FFFD in names and texts without a word.
    """
    data = open(path, "rb").read()  # noqa: SIM115 - read at once
    name = encoding or "utf-8-sig"
    try:
        import codecs

        codecs.lookup(name)
    except LookupError:
        raise SourceError(f"Unknown encoding '{encoding}'.") from None
    try:
        return data.decode(name)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        hint = "" if encoding else " (give --encoding, such as latin-1 or cp1252, if that is what it is)"
        raise SourceError(
            f"{path}: line {line}: byte 0x{byte} is not valid {encoding or 'UTF-8'}{hint}; nothing was imported."
        ) from None


# --- reading loosely typed source values (dumps give text, databases give types) -------

_TRUE = {"1", "t", "true", "y", "yes", "on"}
_FALSE = {"0", "f", "false", "n", "no", "off", ""}


def as_bool(value, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool | int):
        return bool(value)
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"'{value}' is not yes/no.")


def as_int(value, default: int = 0, *, field: str = "", minimum: int | None = None, maximum: int | None = None) -> int:
    """A number from a source (a database's int, or text: the digits 0-9 only); the error names ``field``."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    text = "" if value is None else str(value)
    if not text.strip():
        return default
    try:
        return parse_int(text, minimum=minimum, maximum=maximum)
    except NumberError as exc:
        raise NumberError(f"{field}: {exc}" if field else str(exc)) from None


def as_size(value, *, field: str = "", unit: str = "") -> int:
    """A size in bytes from a source: bytes, or with a unit (500M); ``unit`` is what a bare number
    means in this source ("M" for a column of MB). The error names ``field``."""
    text = as_text(value).strip()
    if text.isascii() and text.isdigit():
        text += unit
    try:
        return parse_size(text or "0", bare="bytes")
    except NumberError as exc:
        raise NumberError(f"{field}: {exc}" if field else str(exc)) from None


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def pick(row: dict, *names: str, default=None):
    """The first of ``names`` that the row has (old schemas differ between versions)."""
    for name in names:
        if name in row:
            return row[name]
    return default
