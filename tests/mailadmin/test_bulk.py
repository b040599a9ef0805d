"""The bulk path (mailadmin.bulk and each app's loader) keeps every rule the row-at-a-time services keep."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.bulk import mailbox_bulk_load
from accounts.models import Mailbox
from aliases.bulk import alias_bulk_load
from aliases.models import Alias
from domains import services as domain_services
from domains.bulk import domain_alias_bulk_load, domain_bulk_load
from domains.models import Domain, DomainAlias
from mailadmin.lib.sizes import MB
from mailadmin.models import AuditEntry
from tests import factories
from vacation.bulk import vacation_bulk_load
from vacation.models import Vacation

pytestmark = pytest.mark.django_db

HASH = (
    "{SHA512-CRYPT}$6$saltsalt$0zzHUpQ.GqhX0aTSHHMzpKnSKTHLLbE0YQtkNbExu8CZTnSX9eSlmZ5CbMvx1mdQvTWcrOyxdlBIvOHTWd0P50"
)


def refused(load, rows, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        load(acting_user=None, rows=rows, origin="test", **kwargs)
    return " | ".join(caught.value.messages)


def test_rows_are_stored_in_their_canonical_form_with_one_audit_row_per_batch():
    assert (
        len(domain_bulk_load(origin="test", acting_user=None, rows=[{"name": "Bücher.Example"}, {"name": "b.example"}]))
        == 2
    )
    domain_alias_bulk_load(origin="test", acting_user=None, rows=[{"name": "alias.example", "domain": "b.example"}])
    mailbox_bulk_load(
        origin="test", acting_user=None, rows=[{"domain": "bücher.example", "local_part": "Anna"}], password_hash=HASH
    )
    alias_bulk_load(
        origin="test",
        acting_user=None,
        rows=[{"domain": "xn--bcher-kva.example", "local_part": "", "destinations": "anna, Bob@Elsewhere.Example"}],
    )
    vacation_bulk_load(
        origin="test",
        acting_user=None,
        rows=[{"address": "ANNA@bücher.example", "mode": "default", "subject": "dropped", "body": "dropped"}],
    )
    mailbox = Mailbox.objects.get()
    assert (mailbox.address, mailbox.local_part, mailbox.password) == ("anna@xn--bcher-kva.example", "anna", HASH)
    assert Alias.objects.get().destinations == "anna@xn--bcher-kva.example, bob@elsewhere.example"
    assert (Vacation.objects.get().subject, Vacation.objects.get().body) == ("", "")
    assert DomainAlias.objects.get().target.name == "b.example"
    assert AuditEntry.objects.filter(action__endswith=".bulk_load").count() == 5


def test_defaults_come_from_the_domain_as_in_mailbox_create():
    factories.domain("d.example", default_may_relay=False, max_quota_bytes=500 * MB, default_quota_bytes=200 * MB)
    mailbox_bulk_load(origin="test", acting_user=None, rows=[{"domain": "d.example", "local_part": "x"}])
    mailbox = Mailbox.objects.get()
    assert (mailbox.quota_bytes, mailbox.may_relay, mailbox.has_usable_password()) == (200 * MB, False, False)


def test_a_bad_row_is_named_and_nothing_of_its_batch_is_stored():
    factories.domain("d.example", max_quota_bytes=500 * MB, default_quota_bytes=100 * MB)
    rows = [
        {"domain": "d.example", "local_part": "ok"},
        {"domain": "d.example", "local_part": "too big", "quota_bytes": 900 * MB},
        {"domain": "d.example", "local_part": "big", "quota_bytes": 900 * MB},
        {"domain": "d.example", "local_part": "ok"},
        {"domain": "nowhere.example", "local_part": "x"},
        {"domain": "d.example", "local_part": "x", "is_superuser": True},
    ]
    message = refused(mailbox_bulk_load, rows)
    assert "Row 2 (too big@d.example)" in message and "Row 3 (big@d.example)" in message
    assert "at most 500 MB" in message
    assert "Row 4" in message and "appears twice" in message
    assert "Row 5" in message and "No domain nowhere.example" in message
    assert "Row 6" in message and "is_superuser" in message
    assert "Row 1" not in message
    assert not Mailbox.objects.exists()


def test_mailbox_and_alias_addresses_never_collide():
    domain = factories.domain("d.example")
    factories.alias("info@d.example", "x@elsewhere.example")
    factories.mailbox("anna@d.example")
    assert "already exists as an alias" in refused(mailbox_bulk_load, [{"domain": domain.name, "local_part": "INFO"}])
    assert "already exists as a mailbox" in refused(
        alias_bulk_load, [{"domain": domain.name, "local_part": "anna", "destinations": "x@elsewhere.example"}]
    )
    assert "cannot forward to itself" in refused(
        alias_bulk_load, [{"domain": domain.name, "local_part": "self", "destinations": "self"}]
    )
    assert "Destination" in refused(
        alias_bulk_load, [{"domain": domain.name, "local_part": "bad", "destinations": "a|b@x.example"}]
    )


def test_domain_names_are_one_namespace_with_domain_aliases():
    target = factories.domain("d.example")
    domain_services.domain_alias_create(origin="test", acting_user=None, name="alias.example", target=target)
    assert "already a domain alias" in refused(domain_bulk_load, [{"name": "alias.example"}])
    assert "already a domain" in refused(domain_alias_bulk_load, [{"name": "d.example", "domain": "d.example"}])
    assert "not a valid domain name" in refused(domain_bulk_load, [{"name": "-bad-.example"}])


def test_domain_and_alias_counts_are_limits():
    factories.domain("d.example", max_mailboxes=2, max_aliases=1)
    message = refused(mailbox_bulk_load, [{"domain": "d.example", "local_part": f"m{i}"} for i in range(3)])
    assert "Row 3" in message and "at most 2 mailboxes" in message
    message = refused(
        alias_bulk_load,
        [{"domain": "d.example", "local_part": f"a{i}", "destinations": "x@y.example"} for i in range(2)],
    )
    assert "Row 2" in message and "at most 1 alias and has 0" in message


def test_grant_limits_hold_for_the_whole_batch(personas):
    domain = factories.domain("granted.example")
    domain_services.grant_set(
        origin="test",
        acting_user=None,
        admin=personas.admin_org,
        domains=[domain],
        max_mailboxes=3,
        quota_bytes=1000 * MB,
    )
    rows = [{"domain": domain.name, "local_part": f"new{i}", "quota_bytes": 10 * MB} for i in range(4)]
    assert "allows 3 mailboxes" in refused(mailbox_bulk_load, rows)
    rows = [{"domain": domain.name, "local_part": f"new{i}", "quota_bytes": 400 * MB} for i in range(3)]
    assert "has 1000 MB" in refused(mailbox_bulk_load, rows)
    rows = [{"domain": domain.name, "local_part": "unlimited", "quota_bytes": 0}]
    assert "unlimited quota" in refused(mailbox_bulk_load, rows)
    loaded = mailbox_bulk_load(
        origin="test", acting_user=None, rows=[{"domain": domain.name, "local_part": "a", "quota_bytes": 400 * MB}]
    )
    assert len(loaded) == 1


def test_the_database_constraints_are_the_last_word_and_name_the_row():
    message = refused(
        domain_bulk_load,
        [{"name": "a.example"}, {"name": "b.example", "max_quota_bytes": 100 * MB, "default_quota_bytes": 200 * MB}],
    )
    assert "Row 2 (b.example)" in message and "cannot exceed the domain's maximum" in message
    assert not Domain.objects.exists()


def test_vacations_follow_vacation_set():
    factories.domain("d.example")
    factories.mailbox("anna@d.example")
    assert "No mailbox" in refused(vacation_bulk_load, [{"address": "bob@d.example", "mode": "default"}])
    assert "needs a subject and a text" in refused(
        vacation_bulk_load, [{"address": "anna@d.example", "mode": "custom"}]
    )
    assert "Mode is one of" in refused(vacation_bulk_load, [{"address": "anna@d.example", "mode": "on"}])


def test_only_superusers_and_the_system_load(personas):
    with pytest.raises(PermissionDenied):
        domain_bulk_load(origin="test", acting_user=personas.admin_org, rows=[{"name": "x.example"}])
    assert len(domain_bulk_load(origin="test", acting_user=personas.superuser, rows=[{"name": "x.example"}])) == 1
