import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from domains import services
from domains.models import AdminGrant, Domain, DomainAlias
from mailadmin.lib.sizes import MB
from mailadmin.models import AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_domain_create_stores_the_a_label_and_audits():
    domain = services.domain_create(origin="cli", acting_user=None, name="Bücher.Example")
    assert domain.name == "xn--bcher-kva.example"
    assert domain.display_name == "bücher.example"
    entry = AuditEntry.objects.get(action="domain.create")
    assert entry.after["name"] == "xn--bcher-kva.example" and entry.origin == "cli"


def test_duplicate_domain_and_domain_alias_names_are_refused():
    org = f.domain("example.org")
    with pytest.raises(ValidationError, match="already exists"):
        f.domain("EXAMPLE.org")
    services.domain_alias_create(origin="test", acting_user=None, name="example.net", target=org)
    with pytest.raises(ValidationError, match="already a domain alias"):
        f.domain("example.net")
    with pytest.raises(ValidationError, match="already a domain"):
        services.domain_alias_create(origin="test", acting_user=None, name="example.org", target=org)
    assert Domain.objects.count() == 1 and DomainAlias.objects.count() == 1


def test_default_quota_must_fit_the_maximum():
    with pytest.raises(ValidationError, match="cannot exceed"):
        f.domain("example.org", max_quota_bytes=100 * MB, default_quota_bytes=200 * MB)
    with pytest.raises(ValidationError, match="cannot be unlimited"):
        f.domain("example.org", max_quota_bytes=100 * MB, default_quota_bytes=0)
    assert not Domain.objects.exists()


def test_lowering_limits_below_what_exists_is_refused():
    org = f.domain("example.org")
    f.mailbox("a@example.org", quota_bytes=0)
    f.mailbox("b@example.org", quota_bytes=0)
    with pytest.raises(ValidationError, match="already has 2 mailboxes"):
        services.domain_update(origin="test", acting_user=None, domain=org, max_mailboxes=1)
    with pytest.raises(ValidationError, match="larger or unlimited"):
        services.domain_update(
            origin="test", acting_user=None, domain=org, max_quota_bytes=10 * MB, default_quota_bytes=10 * MB
        )
    org.refresh_from_db()
    assert org.max_mailboxes == 0 and org.max_quota_bytes == 0


def test_domain_limits_bound_mailbox_creation():
    f.domain("example.org", max_mailboxes=1, max_quota_bytes=100 * MB, default_quota_bytes=50 * MB)
    f.mailbox("a@example.org")
    with pytest.raises(ValidationError, match="at most 1 mailbox and has 1"):
        f.mailbox("b@example.org")
    with pytest.raises(ValidationError, match="at most 100 MB"):
        f.mailbox("a2@example.org", quota_bytes=101 * MB)


def test_a_grant_shares_its_quota_and_count_across_all_its_domains():
    org, net = f.domain("example.org"), f.domain("example.net")
    admin = f.mailbox("admin@example.org", quota_bytes=10 * MB)
    services.grant_set(
        origin="test", acting_user=None, admin=admin, domains=[org, net], quota_bytes=100 * MB, max_mailboxes=3
    )
    f.mailbox("a@example.net", quota_bytes=60 * MB)
    with pytest.raises(ValidationError, match="100 MB for all its domains; 30 MB are left"):
        f.mailbox("b@example.org", quota_bytes=31 * MB)
    f.mailbox("b@example.org", quota_bytes=30 * MB)
    with pytest.raises(ValidationError, match="allows 3 mailboxes"):
        f.mailbox("c@example.net", quota_bytes=1 * MB)
    usage = AdminGrant.objects.get(admin=admin).usage()
    assert usage == {"quota_bytes": 100 * MB, "mailboxes": 3, "unlimited": 0}


def test_usage_is_computed_from_current_data_whoever_changes_it():
    org = f.domain("example.org")
    admin = f.mailbox("admin@example.org", quota_bytes=10 * MB)
    grant = services.grant_set(origin="test", acting_user=None, admin=admin, domains=[org], quota_bytes=100 * MB)
    box = f.mailbox("a@example.org", quota_bytes=50 * MB)
    from accounts import services as accounts

    accounts.mailbox_update(origin="test", acting_user=None, mailbox=box, quota_bytes=20 * MB)
    assert grant.usage()["quota_bytes"] == 30 * MB
    accounts.mailbox_delete(origin="test", acting_user=None, mailbox=box)
    assert grant.usage()["quota_bytes"] == 10 * MB


def test_unlimited_mailbox_quota_is_refused_under_a_limited_grant_with_the_reason():
    org = f.domain("example.org")
    admin = f.mailbox("admin@example.org", quota_bytes=10 * MB)
    services.grant_set(origin="test", acting_user=None, admin=admin, domains=[org], quota_bytes=100 * MB)
    with pytest.raises(ValidationError, match="limited quota of 100 MB, so a mailbox cannot have an unlimited"):
        f.mailbox("a@example.org", quota_bytes=0)


def test_a_limited_grant_cannot_cover_existing_unlimited_mailboxes():
    org = f.domain("example.org")
    admin = f.mailbox("admin@example.org", quota_bytes=0)
    with pytest.raises(ValidationError, match="unlimited quota"):
        services.grant_set(origin="test", acting_user=None, admin=admin, domains=[org], quota_bytes=100 * MB)
    assert not AdminGrant.objects.exists()


def test_domain_admins_cannot_change_limits_or_their_own_grant(personas):
    with pytest.raises(PermissionDenied):
        services.domain_update(origin="test", acting_user=personas.admin_org, domain=personas.org, max_mailboxes=1000)
    with pytest.raises(PermissionDenied):
        services.grant_set(
            origin="test",
            acting_user=personas.admin_org,
            admin=personas.admin_org,
            domains=[personas.org],
            quota_bytes=0,
        )
    with pytest.raises(PermissionDenied):
        services.domain_create(origin="test", acting_user=personas.admin_org, name="new.example")


def test_admins_appoint_only_within_their_own_grant(personas):
    grant = AdminGrant.objects.get(admin=personas.admin_org)
    grant.can_appoint_admins, grant.quota_bytes = True, 0
    grant.save()
    actor = type(personas.admin_org).objects.get(pk=personas.admin_org.pk)
    with pytest.raises(PermissionDenied):  # a domain it does not administer
        services.grant_set(origin="test", acting_user=actor, admin=personas.user, domains=[personas.net])
    with pytest.raises(PermissionDenied):  # another admin outranks an end user appointment
        services.grant_set(origin="test", acting_user=actor, admin=personas.admin_net, domains=[personas.org])
    appointed = services.grant_set(
        origin="test", acting_user=actor, admin=personas.user, domains=[personas.org], can_appoint_admins=False
    )
    assert list(appointed.domains.all()) == [personas.org]


def test_domain_admins_cannot_add_domain_aliases(personas):
    """A domain alias makes a name local for the whole server: an admin could hijack gmail.com."""
    with pytest.raises(PermissionDenied, match="Only superusers add domain aliases"):
        services.domain_alias_create(
            origin="test", acting_user=personas.admin_org, name="gmail.com", target=personas.org
        )
    assert not DomainAlias.objects.exists()
    services.domain_alias_create(
        origin="test", acting_user=personas.superuser, name="example.info", target=personas.org
    )
    assert DomainAlias.objects.get().name == "example.info"


def test_admins_of_other_domains_are_refused(personas):
    with pytest.raises(PermissionDenied):
        services.domain_alias_create(
            origin="test", acting_user=personas.admin_net, name="alias.example", target=personas.org
        )
    assert not DomainAlias.objects.exists()


def test_deleting_a_domain_with_mailboxes_needs_force():
    org = f.domain("example.org")
    f.mailbox("a@example.org")
    with pytest.raises(ValidationError, match="still has 1 mailbox"):
        services.domain_delete(origin="test", acting_user=None, domain=org)
    assert Domain.objects.filter(pk=org.pk).exists()


def test_domain_limits_read_the_totals_and_hold_without_them():
    """``domains.limits`` reads a domain's mailboxes and aliases from its totals row (one row, not a
    count over a domain of any size); a domain whose row is missing (a dump restored without its
    triggers) is counted instead, so its limits still hold."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts import totals
    from accounts.models import DomainTotals
    from domains import limits

    org = f.domain("limited.example", max_mailboxes=2, max_aliases=1)
    f.mailbox("a@limited.example")
    f.alias("x@limited.example", "a")
    with CaptureQueriesContext(connection) as queries:
        assert limits.mailbox_room(org) == 1 and limits.alias_room(org) == 0
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "accounts_domaintotals" in read and "accounts_mailbox" not in read and "aliases_alias" not in read
    DomainTotals.objects.filter(domain=org).delete()
    assert limits.mailbox_room(org) == 1 and limits.alias_room(org) == 0
    f.mailbox("b@limited.example")
    with pytest.raises(ValidationError, match="at most 2 mailboxes and has 2"):
        f.mailbox("c@limited.example")
    with pytest.raises(ValidationError, match="at most 1 alias and has 1"):
        f.alias("y@limited.example", "a")
    with connection.cursor() as cursor:  # (repaired, as `manage.py lookup_tables rebuild` would)
        for statement in totals.fill_sql():
            cursor.execute(statement)
    assert limits.mailbox_room(org) == 0
