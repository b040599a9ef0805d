"""New domains get postmaster@ and abuse@ (RFC 2142); new mailboxes get a welcome message."""

import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from aliases.services import role_aliases_create
from tests import factories
from tests.dbutil import lookup


@pytest.mark.django_db
def test_domain_add_with_postmaster_to():
    factories.domain("example.org")
    factories.mailbox("admin@example.org")
    out = StringIO()
    call_command("domain", "add", "new.example", "--postmaster-to", "admin@example.org", "--json", stdout=out)
    assert json.loads(out.getvalue())["role_aliases"] == ["postmaster@new.example", "abuse@new.example"]
    for name in ("postmaster", "abuse"):
        assert lookup("lookup_aliases_v1", "address", f"{name}@new.example")["destinations"] == "admin@example.org"


@pytest.mark.django_db
def test_role_aliases_leave_existing_addresses_alone():
    domain = factories.domain("example.org")
    factories.mailbox("postmaster@example.org")
    created = role_aliases_create(origin="test", acting_user=None, domain=domain, target="someone@example.net")
    assert [a.address for a in created] == ["abuse@example.org"]
    assert role_aliases_create(origin="test", acting_user=None, domain=domain, target="someone@example.net") == []
    assert lookup("lookup_mailboxes_v1", "address", "postmaster@example.org") is not None


@pytest.mark.django_db
def test_domain_add_with_a_bad_postmaster_target_creates_nothing():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Destination"):
        call_command("domain", "add", "new.example", "--postmaster-to", "not an@@address", stdout=StringIO())
    assert lookup("lookup_domains_v1", "domain", "new.example") is None


@pytest.mark.django_db
def test_welcome_message_after_commit(settings, django_capture_on_commit_callbacks):
    settings.MAIL_WELCOME_SUBJECT = "Welcome"
    settings.MAIL_WELCOME_FROM = "postmaster@example.org"
    factories.domain("example.org")
    with django_capture_on_commit_callbacks(execute=True):
        factories.mailbox("new@example.org")
    assert [(m.subject, m.to) for m in mail.outbox] == [("Welcome", ["new@example.org"])]


@pytest.mark.django_db
def test_no_welcome_message_by_default_or_for_imports(settings, django_capture_on_commit_callbacks, tmp_path):
    from imports.csvfile import CsvImporter

    factories.domain("example.org")
    with django_capture_on_commit_callbacks(execute=True):
        factories.mailbox("plain@example.org")  # MAIL_WELCOME_SUBJECT is empty by default
    settings.MAIL_WELCOME_SUBJECT = "Welcome"
    path = tmp_path / "a.csv"
    path.write_text("address,password\nimported@example.org,pw one two\n")
    with django_capture_on_commit_callbacks(execute=True):
        CsvImporter(path).run(progress=False)
    assert mail.outbox == []
