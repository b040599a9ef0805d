import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from aliases import services
from aliases.models import Alias
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_bare_destination_names_mean_the_same_domain():
    f.domain("example.org")
    alias = f.alias("info@example.org", "alice, Bob@Example.NET")
    assert alias.destinations == "alice@example.org, bob@example.net"
    assert alias.destination_list == ["alice@example.org", "bob@example.net"]


def test_catchall_has_an_empty_local_part():
    f.domain("example.org")
    alias = f.alias("@example.org", ["postmaster"])
    assert alias.is_catchall and alias.address == "@example.org"
    with pytest.raises(ValidationError, match="already exists"):
        f.alias("@example.org", ["other"])


@pytest.mark.parametrize("bad", ["", "not an address@", "x@@y", "a@b..c", "ok@example.org, |/bin/sh"])
def test_bad_destinations_are_refused_and_nothing_is_stored(bad):
    f.domain("example.org")
    with pytest.raises(ValidationError):
        f.alias("info@example.org", bad)
    assert not Alias.objects.exists()


def test_an_alias_cannot_forward_to_itself():
    f.domain("example.org")
    with pytest.raises(ValidationError, match="itself"):
        f.alias("info@example.org", "info")


def test_max_aliases_is_enforced():
    f.domain("example.org", max_aliases=1)
    f.alias("a@example.org", "x@example.net")
    with pytest.raises(ValidationError, match="at most 1 alias and has 1"):
        f.alias("b@example.org", "x@example.net")


def test_set_destinations_replaces_and_outsiders_are_refused(personas):
    alias = f.alias("info@example.org", "user")
    with pytest.raises(PermissionDenied):
        services.alias_set_destinations(
            origin="test", acting_user=personas.admin_net, alias=alias, destinations="x@evil.example"
        )
    services.alias_set_destinations(origin="test", acting_user=personas.admin_org, alias=alias, destinations="admin")
    assert Alias.objects.get(pk=alias.pk).destinations == "admin@example.org"
