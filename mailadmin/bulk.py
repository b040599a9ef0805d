"""The bulk path: the services' rules applied to many rows at once, batch by batch.

One engine under every "many rows" writer: the panel's bulk creation and CSV import, the
importers, the benchmarks. The rows of each kind are validated by the same rule helpers the
services call (``domains.limits``, ``aliases.models.addresses_in_use``,
``domains.models.names_in_use``, the models' own validation), once per batch, under the same
locks, and written with ``bulk_create``: one transaction and one audit entry per batch, which
lists its rows. The loaders of each kind live beside their services: ``domains.bulk``,
``accounts.bulk``, ``aliases.bulk``, ``vacation.bulk``.

Errors name their row (``Row N (name): reason``, or the caller's ``label``, e.g. "Line"). By
default a batch is all or nothing: one bad row refuses the whole batch with every row's reason
(batches written before stay written). With ``skip_bad`` the good rows are written and the bad
ones returned with their reasons (the importers report them). The database's constraints are
the last word: when it refuses a batch, its rows are validated one by one to name the culprit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext, gettext_lazy, ngettext

from mailadmin.audit import record

BATCH_SIZE = 2000
Progress = Callable[[int], None] | None
# How a refused row is named in its error, by the loader's ``label`` (in the user's language).
ROW_ERRORS = {
    "Row": gettext_lazy("Row %(row)s (%(name)s): %(message)s"),
    "Line": gettext_lazy("Line %(row)s (%(name)s): %(message)s"),
}


@dataclass
class Refused:
    number: int
    name: str
    reasons: list[str]


@dataclass
class Loaded:
    """What a load wrote (in order) and, with ``skip_bad``, what it refused."""

    written: list = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.written)


class RowErrors:
    """The reasons of one batch's bad rows, each naming its row."""

    def __init__(self, label: str = "Row"):
        self.label = label
        self.by_row: dict[int, Refused] = {}

    def add(self, number: int, name: str, problem) -> None:
        texts = problem.messages if isinstance(problem, ValidationError) else [str(problem)]
        self.by_row.setdefault(number, Refused(number, name or "-", [])).reasons.extend(texts)

    def __contains__(self, number: int) -> bool:
        return number in self.by_row

    def as_error(self) -> ValidationError:
        form = str(ROW_ERRORS.get(self.label, "%(label)s %(row)s (%(name)s): %(message)s"))
        return ValidationError(
            [
                ValidationError(
                    form,
                    code="row",
                    params={"label": self.label, "row": r.number, "name": r.name, "message": reason},
                )
                for r in self.by_row.values()
                for reason in r.reasons
            ]
        )


@dataclass
class Batch:
    """One batch on its way: numbered rows, what ``prepare`` loaded, the objects built so far."""

    rows: list[tuple[int, dict]]
    errors: RowErrors
    context: dict = field(default_factory=dict)
    built: list[tuple[int, str, object]] = field(default_factory=list)

    def refuse(self, number: int, name: str, problem) -> None:
        self.errors.add(number, name, problem)
        self.built = [b for b in self.built if b[0] != number]

    def objects(self) -> list:
        return [obj for _, _, obj in self.built]


def row_name(row: dict) -> str:
    for key in ("address", "name"):
        if row.get(key):
            return str(row[key])
    if "local_part" in row:
        return f"{row['local_part']}@{row.get('domain', '')}" if row.get("domain") else str(row["local_part"] or "@")
    return ""


def unknown_fields(row: dict, allowed: set) -> None:
    unknown = set(row) - allowed
    if unknown:
        text = ngettext("Unknown field: %(fields)s.", "Unknown fields: %(fields)s.", len(unknown))
        raise ValidationError(text % {"fields": ", ".join(sorted(unknown))})


def refuse_taken(batch: Batch, key: Callable[[object], str], taken: dict[str, str]) -> None:
    """Refuse the rows whose ``key`` is taken (``taken``: key -> reason) or repeats an earlier row."""
    seen = set()
    for number, name, obj in list(batch.built):
        value = key(obj)
        if value in taken:
            batch.refuse(number, name, taken[value])
        elif value in seen:
            batch.refuse(number, name, gettext("%(value)s appears twice.") % {"value": value})
        else:
            seen.add(value)


def load(
    rows: Iterable[dict],
    *,
    acting_user,
    origin: str,
    model,
    action: str,
    build: Callable[[dict, dict], object],
    prepare: Callable[[list[dict]], dict] = lambda rows: {},
    authorize: Callable[[object, dict], None] = lambda actor, context: None,
    check: Callable[[Batch], None] = lambda batch: None,
    exclude: tuple[str, ...] = (),
    batch_size: int = BATCH_SIZE,
    progress: Progress = None,
    skip_bad: bool = False,
    label: str = "Row",
    name: Callable[[dict], str] = row_name,
    after_commit: Callable[[list], None] | None = None,
    check_only: bool = False,
) -> Loaded:
    """Validate and write ``rows`` batch by batch.

    ``prepare(rows)`` locks and loads what a batch refers to (in its transaction);
    ``authorize(acting_user, context)`` raises PermissionDenied for what the actor may not do;
    ``build(row, context)`` makes one validated object or raises ValidationError;
    ``check(batch)`` applies the rules that span rows and refuses the rows that break them.
    A row's ``line`` (if given) is its number in messages, ``name(row)`` its name there.
    ``check_only`` applies every rule (under the same locks) and raises what a load would refuse,
    but writes nothing: the panel checks lines in the request before a job writes them.
    """
    loaded = Loaded()
    numbered = ((row.pop("line", n), row) for n, row in enumerate((dict(r) for r in rows), start=1))
    for chunk in _chunks(numbered, batch_size):
        batch = Batch(rows=chunk, errors=RowErrors(label))
        with transaction.atomic():
            batch.context = prepare([row for _, row in chunk])
            authorize(acting_user, batch.context)
            for number, row in chunk:
                try:
                    batch.built.append((number, name(row), build(row, batch.context)))
                except ValidationError as problem:
                    batch.errors.add(number, name(row), problem)
            check(batch)
            if batch.errors.by_row and not skip_bad:
                raise batch.errors.as_error()
            if batch.built and not check_only:
                _insert(model, batch, exclude)
                objects = batch.objects()
                record(
                    acting_user=acting_user,
                    origin=origin,
                    action=action,
                    obj=objects[0],
                    after={"rows": len(objects), "written": [str(obj) for obj in objects]},
                )
                if after_commit:
                    transaction.on_commit(lambda objects=objects: after_commit(objects))
        loaded.written.extend(batch.objects())
        loaded.refused.extend(batch.errors.by_row.values())
        if progress:
            progress(len(chunk))
    return loaded


def _chunks(numbered: Iterator, size: int) -> Iterator[list[tuple[int, dict]]]:
    numbered = iter(numbered)
    while chunk := list(islice(numbered, size)):
        yield chunk


def _insert(model, batch: Batch, exclude: tuple[str, ...]) -> None:
    """bulk_create; if the database refuses, find the rows and say why."""
    try:
        with transaction.atomic():
            model.objects.bulk_create(batch.objects())
    except IntegrityError as exc:
        for number, name, obj in batch.built:
            try:
                obj.full_clean(exclude=list(exclude))
            except ValidationError as problem:
                batch.errors.add(number, name, problem)
        if batch.errors.by_row:
            raise batch.errors.as_error() from None
        raise ValidationError(gettext("The database refused the batch: %(error)s") % {"error": exc}) from None
