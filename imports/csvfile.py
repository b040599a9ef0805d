"""Importer of mailboxes from a CSV file: one row per account, columns mapped by name.

Fields (the column of the same name is used unless ``mapping`` names another):
``address`` (required), ``password`` (clear text: hashed now with the current
scheme and never kept) or ``password_hash`` (a ``{SCHEME}hash``), ``quota_bytes`` (bytes, or with
a unit: 500M) or an older file's ``quota_mb`` (whole MB),
``active`` or ``disabled`` (its opposite), ``may_relay`` (SMTP), ``filtering``,
``first_name``, ``last_name`` or ``name`` (split at the last space), ``phone``,
``other_email``, ``notes``. Flags read yes/no, true/false, 1/0; an empty cell
leaves the field at its default.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from accounts.models import PROFILE_FIELDS
from imports.base import Importer, Item, as_bool, as_size, read_text
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
        reader = csv.DictReader(io.StringIO(read_text(self.path, self.encoding), newline=""), delimiter=self.delimiter)
        columns = set(reader.fieldnames or [])
        if self.mapping["address"] not in columns:
            raise ValueError(f"{self.path} has no column {self.mapping['address']!r} for the address.")
        present = {field: column for field, column in self.mapping.items() if column in columns}
        rows = [(reader.line_num, row) for row in reader]
        domains = []
        items = []
        for line, row in rows:
            item = self._mailbox(line, row, present)
            items.append(item)
            if self.create_domains and not item.error:
                domain = item.key.rpartition("@")[2]
                if domain not in domains:
                    domains.append(domain)
        return [Item("domain", d, "domains of the rows", {"name": d}) for d in domains] + items

    def _mailbox(self, line: int, row: dict, present: dict) -> Item:
        cell = {field: (row.get(column) or "").strip() for field, column in present.items()}
        item = Item("mailbox", cell.get("address", ""), f"line {line}")
        try:
            local_part, domain = split_address(cell.get("address", ""))
            item.key = f"{local_part}@{domain}"
            item.data = {"address": item.key, **self._fields(cell)}
        except (AddressError, ValueError) as exc:
            item.error = str(exc)
        return item

    @staticmethod
    def _fields(cell: dict) -> dict:
        data = {key: cell[key] for key in TEXT_FIELDS if cell.get(key)}
        if cell.get("name") and not (cell.get("first_name") or cell.get("last_name")):
            first, _, last = cell["name"].rpartition(" ")
            data.update(first_name=first or last, last_name=last if first else "")
        if cell.get("password"):
            data["password"] = cell["password"]
        elif cell.get("password_hash"):
            data["password_hash"] = cell["password_hash"]
        if cell.get("quota_bytes"):
            data["quota_bytes"] = as_size(cell["quota_bytes"], field="quota_bytes")
        elif cell.get("quota_mb"):
            data["quota_bytes"] = as_size(cell["quota_mb"], field="quota_mb", unit="M")
        if cell.get("active"):
            data["active"] = as_bool(cell["active"])
        elif cell.get("disabled"):
            data["active"] = not as_bool(cell["disabled"])
        for flag in ("may_relay", "filtering"):
            if cell.get(flag):
                data[flag] = as_bool(cell[flag])
        return data
