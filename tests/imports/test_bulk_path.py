"""Importers write new mailboxes through the bulk path: their hashes as they are, one audit entry per batch."""

import pytest
from passlib.hash import sha512_crypt

from accounts.models import Mailbox
from imports import base
from imports.csvfile import CsvImporter
from mailadmin.lib import passwords
from mailadmin.models import AuditEntry
from tests import factories
from tests.dbutil import login_ok

pytestmark = pytest.mark.django_db

LEGACY = "{SHA512-CRYPT}" + sha512_crypt.using(rounds=5000).hash("an old password 1")


def test_legacy_hashes_are_stored_as_they_are_with_no_new_hash_and_one_audit_entry_per_batch(tmp_path, monkeypatch):
    factories.domain("example.com")
    count = 10_000  # the figure: 10 batches of base.BATCH
    path = tmp_path / "accounts.csv"
    path.write_text("address,password_hash\n" + "".join(f"user{n}@example.com,{LEGACY}\n" for n in range(count)))
    made = []
    monkeypatch.setattr(passwords, "hash_password", lambda *a, **k: made.append(1) or "{PLAIN}spy")
    report = CsvImporter(path).run(progress=False)
    assert report.count("mailbox", "created") == count and not report.failures
    assert made == []  # no new hash computed, not even a throw-away one
    assert Mailbox.objects.filter(password=LEGACY).count() == count
    batches = -(-count // base.BATCH)
    entries = AuditEntry.objects.filter(action="mailbox.bulk_load")
    assert entries.count() == batches
    listed = [address for entry in entries for address in entry.after["written"]]  # each lists its rows
    assert sorted(listed) == sorted(f"user{n}@example.com" for n in range(count))
    assert not AuditEntry.objects.filter(action__in=["mailbox.create", "mailbox.password_hash"]).exists()
    monkeypatch.undo()
    assert login_ok("user7@example.com", "an old password 1")
