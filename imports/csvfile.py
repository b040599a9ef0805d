"""Importer of mailboxes from a CSV file: one row per account, columns mapped by name.

Fields (the column of the same name is used unless ``mapping`` names another):
``address`` (required), ``password`` (clear text: hashed now with the current
scheme and never kept) or ``password_hash`` (a ``{SCHEME}hash``), ``quota_bytes`` (bytes, or with
a unit: 500M) or an older file's ``quota_mb`` (whole MB),
``active`` or ``disabled`` (its opposite), ``may_relay`` (SMTP), ``filtering``,
``first_name``, ``last_name`` or ``name`` (split at the last space), ``phone``,
``other_email``, ``notes``. Flags read yes/no, true/false, 1/0; an empty cell
leaves the field at its default.

A row is reported, not imported, when a cell is not what its column holds (the
message names the column), when a cell starts like a spreadsheet formula (the
panel's export check, ``accounts.forms.starts_formula``), when it has more cells
than the first line has columns, or when its address was on an earlier row (the
first row is used, so a second run changes nothing). A file that is not valid in
its encoding, or is cut short (a quoted cell never closed, or a last row without
a line end and with fewer cells than columns) is refused whole: nothing is imported.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from accounts.forms import starts_formula
from accounts.models import PROFILE_FIELDS
from imports.base import Importer, Item, SourceError, as_bool, as_size, read_text
from mailadmin.lib.addresses import AddressError, split_address

FIELDS = (
    "address",
    "password",
    "password_hash",
    "quota_bytes",
    "quota_mb",
    "active",
    "disabled",
    "may_relay",
    "filtering",
    "first_name",
    "last_name",
    "name",
    "phone",
    "other_email",
    "notes",
)
TEXT_FIELDS = PROFILE_FIELDS
PHONE_RE = re.compile(r"\+?[0-9 ()./-]+", re.ASCII)


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["address=E-Mail", "quota_bytes=Quota"]`` -> {field: column}; unknown fields refused."""
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        field = field.strip().lower().replace("-", "_")
        if not sep or field not in FIELDS:
            raise ValueError(f"Bad mapping {pair!r}: use FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}.")
        mapping[field] = column.strip()
    return mapping


class CsvImporter(Importer):
    def __init__(
        self,
        path: Path,
        *,
        mapping: dict | None = None,
        delimiter: str = ",",
        create_domains=False,
        encoding: str | None = None,
    ):
        self.path, self.delimiter, self.create_domains, self.encoding = Path(path), delimiter, create_domains, encoding
        self.mapping = {field: (mapping or {}).get(field, field) for field in FIELDS}
        self.label = f"CSV {self.path}"

    def items(self):
        header, rows = self._read()
        columns = set(header)
        if self.mapping["address"] not in columns:
            raise ValueError(f"{self.path} has no column {self.mapping['address']!r} for the address.")
        present = {field: column for field, column in self.mapping.items() if column in columns}
        domains, items, seen = [], [], {}
        for line, cells in rows:
            item = self._mailbox(line, header, cells, present)
            if item.key in seen and not item.error:
                item.data, item.error = {}, f"the same address as line {seen[item.key]} (the first row is used)"
            seen.setdefault(item.key, line)
            items.append(item)
            if self.create_domains and not item.error:
                domain = item.key.rpartition("@")[2]
                if domain not in domains:
                    domains.append(domain)
        return [Item("domain", d, "domains of the rows", {"name": d}) for d in domains] + items

    def _read(self) -> tuple[list[str], list[tuple[int, list[str]]]]:
        """The header and the (line, cells) of each row; a file cut short is refused whole (SourceError)."""
        text = read_text(self.path, self.encoding)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter, strict=True)
        rows, line = [], 1
        try:
            for cells in reader:
                if cells:
                    rows.append((line, cells))
                line = reader.line_num + 1
        except csv.Error as exc:
            cut = "end of data" in str(exc)
            reason = "a quoted cell starts here and is never closed: the file looks cut short" if cut else str(exc)
            raise SourceError(f"{self.path}: line {line}: {reason}; nothing was imported.") from None
        if not rows:
            return [], []
        header = rows[0][1]
        last_line, last = rows[-1]
        if len(rows) > 1 and not text.endswith(("\n", "\r")) and len(last) < len(header):
            raise SourceError(
                f"{self.path}: line {last_line}: the last row has {len(last)} of {len(header)} cells and no "
                "line end; the file looks cut short, nothing was imported."
            )
        return header, rows[1:]

    def _mailbox(self, line: int, header: list[str], cells: list[str], present: dict) -> Item:
        row = dict(zip(header, cells, strict=False))
        cell = {field: (row.get(column) or "").strip() for field, column in present.items()}
        item = Item("mailbox", cell.get("address", ""), f"line {line}")
        try:
            if len(cells) > len(header):
                raise ValueError(f"{len(cells)} cells, more than the {len(header)} columns of the first line")
            _refuse_formulas(cell, present)
            local_part, domain = split_address(cell.get("address", ""))
            item.key = f"{local_part}@{domain}"
            item.data = {"address": item.key, **self._fields(cell, present)}
        except (AddressError, ValueError) as exc:
            item.error = str(exc)
        return item

    @staticmethod
    def _fields(cell: dict, present: dict) -> dict:
        def convert(field, parse, **options):
            try:
                return parse(cell[field], **options)
            except ValueError as exc:  # NumberError is a ValueError
                raise ValueError(f"{_column(field, present)}: {exc}") from None

        data = {key: cell[key] for key in TEXT_FIELDS if cell.get(key)}
        if cell.get("name") and not (cell.get("first_name") or cell.get("last_name")):
            first, _, last = cell["name"].rpartition(" ")
            data.update(first_name=first or last, last_name=last if first else "")
        if cell.get("password"):
            data["password"] = cell["password"]
        elif cell.get("password_hash"):
            data["password_hash"] = cell["password_hash"]
        if cell.get("quota_bytes"):
            data["quota_bytes"] = convert("quota_bytes", as_size)
        elif cell.get("quota_mb"):
            data["quota_bytes"] = convert("quota_mb", as_size, unit="M")
        if cell.get("active"):
            data["active"] = convert("active", as_bool)
        elif cell.get("disabled"):
            data["active"] = not convert("disabled", as_bool)
        for flag in ("may_relay", "filtering"):
            if cell.get(flag):
                data[flag] = convert(flag, as_bool)
        return data


def _column(field: str, present: dict) -> str:
    """How a message names a cell's column: its name in the file, and the field when that differs."""
    column = present[field]
    return column if column == field else f"{column} ({field})"


def _refuse_formulas(cell: dict, present: dict) -> None:
    """A text cell a spreadsheet would run as a formula is not stored (the panel's export check); numbers
    and flags are read as such, and a phone number such as +49 30 1234 computes nothing."""
    for field in TEXT_FIELDS + ("name", "address"):
        text = cell.get(field, "")
        if field == "phone" and PHONE_RE.fullmatch(text):
            continue
        if starts_formula(text):
            shown = text if len(text) <= 40 else text[:40] + "…"
            raise ValueError(f"{_column(field, present)}: {shown!r} starts like a spreadsheet formula (= + - @)")
