"""Every API endpoint x every persona x token scope (read-write, read-only, limited to one domain),
GET and each write method: the expected answer, and a refused write changes nothing at all.

The answers for a read-write token for all domains are written out; a read-only token gets 403 for
every write (and the same as read-write for reads); a superuser's token limited to example.net gets
404 for everything of example.org. Every response is checked against the OpenAPI document.
"""

import re

import pytest

from accounts.models import Mailbox, MailboxArchive
from aliases.models import Alias
from api.models import ApiToken
from domains import services as domains
from domains.models import AdminGrant, DkimKey, Domain, RelayRecipient
from policy import services as senders
from policy.models import DnsBlocklist, GreylistAllow, SenderRule
from tests import factories
from tests.dbutil import shared_world
from vacation.models import Vacation

PERSONAS = ("user", "admin_org", "admin_net", "superuser")
NEW_PASSWORD = "a brand new secret 42"
SENDER = {"action": "deny", "pattern": "@spam.example"}
BLOCKLIST = {"zone": "zen.example.net", "name": "ZEN", "answers": "127.0.0.2 spam source"}

# method, path, body, domain of the object ("org", "net" or None), answers (PERSONAS order)
ENDPOINTS = [
    ("get", "/api/v1/me", None, None, (200, 200, 200, 200)),
    ("get", "/api/v1/domains", None, None, (200, 200, 200, 200)),
    ("get", "/api/v1/domains/example.org", None, "org", (404, 200, 404, 200)),
    ("get", "/api/v1/domains/example.net", None, "net", (404, 404, 200, 200)),
    # domains themselves: superusers create, change and delete them; a token limited to chosen
    # domains creates none ("new": outside every scope)
    ("post", "/api/v1/domains", {"name": "apinew.example", "max_mailboxes": 5}, "new", (403, 403, 403, 201)),
    ("patch", "/api/v1/domains/example.org", {"max_message_bytes": 1048576}, "org", (404, 403, 404, 200)),
    ("delete", "/api/v1/domains/example.net?force=true", None, "net", (404, 404, 403, 204)),
    ("get", "/api/v1/domains/example.org/mailboxes", None, "org", (404, 200, 404, 200)),
    (
        "post",
        "/api/v1/domains/example.org/mailboxes",
        {"local_part": "apinew", "password": NEW_PASSWORD},
        "org",
        (404, 201, 404, 201),
    ),
    ("get", "/api/v1/mailboxes/user@example.org", None, "org", (200, 200, 404, 200)),
    ("patch", "/api/v1/mailboxes/user@example.org", {"quota_bytes": 12345}, "org", (403, 200, 404, 200)),
    ("put", "/api/v1/mailboxes/user@example.org/password", {"password": NEW_PASSWORD}, "org", (403, 204, 404, 204)),
    ("get", "/api/v1/mailboxes/user@example.org/forwarding", None, "org", (200, 200, 404, 200)),
    (
        "put",
        "/api/v1/mailboxes/user@example.org/forwarding",
        {"destinations": ["x@example.net"]},
        "org",
        (200, 200, 404, 200),
    ),
    ("get", "/api/v1/mailboxes/user@example.org/vacation", None, "org", (200, 200, 404, 200)),
    ("put", "/api/v1/mailboxes/user@example.org/vacation", {"mode": "default"}, "org", (200, 200, 404, 200)),
    ("delete", "/api/v1/mailboxes/user@example.org", None, "org", (403, 204, 404, 204)),
    # a superuser's mailbox in example.org: its admin sees it, never changes it
    ("get", "/api/v1/mailboxes/root@example.org", None, "org", (404, 200, 404, 200)),
    ("patch", "/api/v1/mailboxes/root@example.org", {"quota_bytes": 12345}, "org", (404, 403, 404, 200)),
    ("put", "/api/v1/mailboxes/root@example.org/password", {"password": NEW_PASSWORD}, "org", (404, 403, 404, 403)),
    ("delete", "/api/v1/mailboxes/root@example.org", None, "org", (404, 403, 404, 403)),
    ("get", "/api/v1/mailboxes/bob@example.net", None, "net", (404, 404, 200, 200)),
    ("patch", "/api/v1/mailboxes/bob@example.net", {"active": False}, "net", (404, 404, 200, 200)),
    ("get", "/api/v1/domains/example.org/aliases", None, "org", (404, 200, 404, 200)),
    (
        "post",
        "/api/v1/domains/example.org/aliases",
        {"local_part": "apialias", "destinations": ["user"]},
        "org",
        (404, 201, 404, 201),
    ),
    ("get", "/api/v1/aliases/info@example.org", None, "org", (404, 200, 404, 200)),
    ("patch", "/api/v1/aliases/info@example.org", {"active": False}, "org", (404, 200, 404, 200)),
    ("delete", "/api/v1/aliases/info@example.org", None, "org", (404, 204, 404, 204)),
    ("get", "/api/v1/audit", None, None, (403, 200, 200, 200)),
    # domain aliases: only superusers add, switch and delete them (they make a name local for everyone)
    ("get", "/api/v1/domains/example.org/domain-aliases", None, "org", (404, 200, 404, 200)),
    (
        "post",
        "/api/v1/domains/example.org/domain-aliases",
        {"name": "new-alias.example"},
        "org",
        (404, 403, 404, 201),
    ),
    ("patch", "/api/v1/domain-aliases/alias-org.example", {"active": False}, "org", (404, 403, 404, 200)),
    ("delete", "/api/v1/domain-aliases/alias-org.example", None, "org", (404, 403, 404, 204)),
    ("get", "/api/v1/domains/example.org/deleted-mailboxes", None, "org", (404, 200, 404, 200)),
    ("post", "/api/v1/deleted-mailboxes/{archive}/restore", None, "org", (404, 200, 404, 200)),
    ("get", "/api/v1/domains/example.org/usage", None, "org", (404, 200, 404, 200)),
    # grants: superusers, and administrators whose grant lets them appoint (none here)
    ("get", "/api/v1/grants", None, None, (403, 403, 403, 200)),
    ("get", "/api/v1/grants/admin@example.org", None, "org", (403, 403, 403, 200)),
    ("put", "/api/v1/grants/user@example.org", {"domains": ["example.org"]}, "org", (403, 403, 403, 200)),
    ("delete", "/api/v1/grants/admin@example.net", None, "net", (403, 403, 403, 204)),
    # sender lists: a mailbox's for itself and its managers, a domain's for its administrators
    ("get", "/api/v1/mailboxes/user@example.org/senders", None, "org", (200, 200, 404, 200)),
    ("post", "/api/v1/mailboxes/user@example.org/senders", SENDER, "org", (201, 201, 404, 201)),
    ("get", "/api/v1/mailboxes/root@example.org/senders", None, "org", (404, 403, 404, 200)),
    ("post", "/api/v1/mailboxes/root@example.org/senders", SENDER, "org", (404, 403, 404, 201)),
    ("get", "/api/v1/domains/example.org/senders", None, "org", (404, 200, 404, 200)),
    ("post", "/api/v1/domains/example.org/senders", SENDER, "org", (404, 201, 404, 201)),
    ("delete", "/api/v1/senders/{rule_user}", None, "org", (204, 204, 404, 204)),
    ("delete", "/api/v1/senders/{rule_org}", None, "org", (404, 204, 404, 204)),
    # a domain's DNS records (whoever may see it) and DKIM keys (superusers change them)
    ("get", "/api/v1/domains/example.org/dns", None, "org", (404, 200, 404, 200)),
    ("get", "/api/v1/domains/example.org/dkim", None, "org", (404, 200, 404, 200)),
    ("post", "/api/v1/domains/example.org/dkim/enable", None, "org", (404, 403, 404, 200)),
    # a relay domain's list (relay.example: admin_org's grant covers it, as "org")
    ("get", "/api/v1/domains/relay.example/relay-recipients", None, "org", (404, 200, 404, 200)),
    ("post", "/api/v1/domains/relay.example/relay-recipients", {"addresses": ["bob"]}, "org", (404, 201, 404, 201)),
    ("get", "/api/v1/domains/example.org/relay-recipients", None, "org", (404, 404, 404, 404)),
    ("delete", "/api/v1/relay-recipients/{relay_ann}", None, "org", (404, 204, 404, 204)),
    # the server's DNS blocklists: superusers, with a token for all of their domains ("new")
    ("get", "/api/v1/blocklists", None, "new", (403, 403, 403, 200)),
    ("post", "/api/v1/blocklists", BLOCKLIST, "new", (403, 403, 403, 201)),
    ("patch", "/api/v1/blocklists/bl.example.net", {"enabled": False}, "new", (403, 403, 403, 200)),
    ("delete", "/api/v1/blocklists/bl.example.net", None, "new", (403, 403, 403, 204)),
    # greylisting's allow list and counts: the same
    ("get", "/api/v1/greylisting/allowed", None, "new", (403, 403, 403, 200)),
    ("post", "/api/v1/greylisting/allowed", {"pattern": "192.0.2.0/24"}, "new", (403, 403, 403, 201)),
    ("delete", "/api/v1/greylisting/allowed/{grey_allow}", None, "new", (403, 403, 403, 204)),
    ("get", "/api/v1/greylisting/counts", None, "new", (403, 403, 403, 200)),
    # the metrics for Prometheus: the same
    ("get", "/api/v1/metrics", None, "new", (403, 403, 403, 200)),
    # a wrong method on a known path
    ("delete", "/api/v1/domains", None, None, (405, 405, 405, 405)),
]
SCOPES = ("read-write", "read-only", "example.net only")


def expected(endpoint, persona, scope) -> int:
    method, _, _, domain, answers = endpoint
    answer = answers[PERSONAS.index(persona)]
    if answer == 405:
        return 405
    if scope == "read-only" and method != "get":
        return 403
    if scope == "example.net only" and domain == "org":
        return 404
    if scope == "example.net only" and domain == "new":
        return 403
    return answer


CASES = [
    pytest.param(endpoint, persona, scope, id=f"{endpoint[0]} {endpoint[1]} [{persona}, {scope}]")
    for endpoint in ENDPOINTS
    for persona in PERSONAS
    for scope in SCOPES
    if scope != "example.net only" or persona == "superuser"  # only a superuser holds both domains
]


def build_world():
    from accounts import services as accounts
    from domains.models import DomainAlias

    p = factories.make_personas()
    factories.mailbox("bob@example.net")
    factories.alias("info@example.org", "user")
    DomainAlias.objects.create(name="alias-org.example", target=p.org)
    accounts.mailbox_delete(origin="test", acting_user=None, mailbox=factories.mailbox("gone@example.org"))
    p.archive = MailboxArchive.objects.get(address="gone@example.org")
    p.rule_user = senders.sender_rule_add(
        acting_user=None, mailbox=p.user, action="allow", pattern="@ok.example", origin="test"
    )
    p.rule_org = senders.sender_rule_add(
        acting_user=None, domain=p.org, action="deny", pattern="192.0.2.0/24", origin="test"
    )
    senders.blocklist_add(acting_user=None, zone="bl.example.net", name="BL", answers="127.0.0.2", origin="test")
    relay = factories.domain("relay.example")
    domains.grant_set(origin="test", acting_user=None, admin=p.admin_org, domains=[p.org, relay])
    domains.domain_update(acting_user=None, domain=relay, relay_host="mx.example.com", origin="test")
    p.grey_allow = senders.greylist_allow_add(acting_user=None, pattern="partner.example", origin="test")
    (p.relay_ann,) = domains.relay_recipients_add(acting_user=None, domain=relay, addresses=["ann"], origin="test")
    return p


world = shared_world(build_world)


def snapshot():
    """Everything an API call can change (the token's own use counters aside)."""
    from domains.models import DomainAlias

    models = (Domain, DomainAlias, AdminGrant, Mailbox, MailboxArchive, Alias, Vacation, SenderRule, DnsBlocklist)
    models += (RelayRecipient, DkimKey, GreylistAllow)
    state = {m.__name__: sorted(map(repr, m.objects.order_by("pk").values())) for m in models}
    from mailadmin.models import AuditEntry

    state["audit"] = AuditEntry.objects.count()
    state["tokens"] = ApiToken.objects.count()
    return state


@pytest.mark.django_db
@pytest.mark.parametrize(("endpoint", "persona", "scope"), CASES)
def test_matrix(world, token_for, endpoint, persona, scope):
    p = world
    owner = getattr(p, persona)
    client = token_for(owner, read_only=scope == "read-only", domains=[p.net] if scope == "example.net only" else None)
    method, path, body, _, _ = endpoint
    path = path.replace("{archive}", str(p.archive.pk))
    path = path.replace("{rule_user}", str(p.rule_user.pk)).replace("{rule_org}", str(p.rule_org.pk))
    path = path.replace("{relay_ann}", str(p.relay_ann.pk)).replace("{grey_allow}", str(p.grey_allow.pk))
    before = snapshot()
    response = client.send(method, path, body)
    want = expected(endpoint, persona, scope)
    assert response.status_code == want, f"{method.upper()} {path} as {persona} ({scope}): {response.content[:300]}"
    if want >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"]
        if method != "get":
            assert snapshot() == before, f"refused {method.upper()} {path} as {persona} ({scope}) changed something"


@pytest.mark.django_db
def test_every_endpoint_is_in_the_matrix():
    """An endpoint added without deciding who may use it fails here."""
    from api.views import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    documented = {(method, path) for path, item in schema["paths"].items() for method in item}
    missing = {
        (method, path)
        for method, path in documented
        if not any(
            m == method and re.fullmatch(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)), t) for m, t, *_ in ENDPOINTS
        )
    }
    assert missing == set()


@pytest.mark.django_db
def test_allowed_writes_did_what_they_said(world, token_for):
    p = world
    client = token_for(p.admin_org)
    assert client.send("patch", "/api/v1/mailboxes/user@example.org", {"quota_bytes": 12345}).status_code == 200
    assert Mailbox.objects.get(address="user@example.org").quota_bytes == 12345
    assert client.send("delete", "/api/v1/aliases/info@example.org").status_code == 204
    assert not Alias.objects.filter(address="info@example.org").exists()
    assert client.send("post", f"/api/v1/deleted-mailboxes/{p.archive.pk}/restore").json()["state"] == "restored"
    assert Mailbox.objects.filter(address="gone@example.org").exists()
    root = token_for(p.superuser)
    grant = root.send("put", "/api/v1/grants/user@example.org", {"domains": ["example.org"], "max_mailboxes": 7})
    assert grant.json()["domains"] == ["example.org"] and AdminGrant.objects.get(admin=p.user).max_mailboxes == 7
    answer = client.send("post", "/api/v1/domains/example.org/mailboxes", {"local_part": "gen"}).json()
    assert answer["password"] and Mailbox.objects.get(address="gen@example.org").check_password(answer["password"])
