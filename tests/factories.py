"""Building test data through the project's own services (so every rule applies)."""

from types import SimpleNamespace

from accounts import services as accounts
from aliases import services as aliases
from domains import services as domains

PASSWORD = "correct horse battery staple"


def domain(name="example.org", **fields):
    return domains.domain_create(origin="test", acting_user=None, name=name, **fields)


def mailbox(address, password=PASSWORD, **fields):
    local, _, domain_name = address.partition("@")
    return accounts.mailbox_create(
        origin="test",
        acting_user=None,
        domain=domains.get_domain(domain_name),
        local_part=local,
        password=password,
        **fields,
    )


def alias(address, destinations, **fields):
    local, _, domain_name = address.rpartition("@")
    return aliases.alias_create(
        origin="test",
        acting_user=None,
        domain=domains.get_domain(domain_name),
        local_part=local,
        destinations=destinations,
        **fields,
    )


def make_personas() -> SimpleNamespace:
    org, net = domain("example.org"), domain("example.net")
    superuser = mailbox("root@example.org")
    superuser = accounts.superuser_create(origin="test", address=superuser.address, password=None)
    admin_org = mailbox("admin@example.org")
    admin_net = mailbox("admin@example.net")
    domains.grant_set(origin="test", acting_user=None, admin=admin_org, domains=[org])
    domains.grant_set(origin="test", acting_user=None, admin=admin_net, domains=[net])
    user = mailbox("user@example.org")
    return SimpleNamespace(
        org=org,
        net=net,
        superuser=superuser,
        admin_org=admin_org,
        admin_net=admin_net,
        user=user,
        outsider=admin_net,
        password=PASSWORD,
    )


def authenticate(username: str, password: str):
    """django.contrib.auth.authenticate as the login form calls it (with a request)."""
    from django.contrib.auth import authenticate as django_authenticate
    from django.test import RequestFactory

    request = RequestFactory().post("/login/", REMOTE_ADDR="127.0.0.1")
    return django_authenticate(request=request, username=username, password=password)
