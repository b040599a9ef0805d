"""The REST API from outside: tokens (shown once, hashed, expiring, revoked, scoped, rate-limited),
keyset pages at a constant cost, hostile and malformed input, and Hypothesis fuzzing every write
(no 500, nothing half-written)."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from accounts.models import Mailbox
from aliases.models import Alias
from api import tokens
from api.models import ApiToken
from domains.models import Domain
from mailadmin.models import AuditEntry
from policy.models import SenderRule
from tests import factories
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_a_token_is_shown_once_stored_hashed_and_audited(personas):
    token, shown = tokens.create(acting_user=personas.admin_org, owner=personas.admin_org, name="sync", origin="t")
    assert shown.startswith("mda_") and len(shown) == 54 and shown[4:14] == token.key_id
    assert shown[14:] not in token.digest and token.read_only and token.all_domains
    assert tokens.authenticate(shown) == token
    entry = AuditEntry.objects.get(action="api_token.create")
    assert shown not in json.dumps(entry.after) and entry.after["domains"] == "all"


def test_no_token_a_wrong_one_or_a_malformed_header_gets_401(openapi, personas):
    _, shown = tokens.create(acting_user=personas.user, owner=personas.user, name="t", origin="t")
    wrong = shown[:-1] + ("b" if shown[-1] == "a" else "a")
    for header in ("", "Bearer", "Bearer " + wrong, "Basic " + shown, "Bearer mda_' OR 1=1 --", shown):
        client = Client(HTTP_AUTHORIZATION=header) if header else Client()
        response = client.get("/api/v1/me")
        assert response.status_code == 401, header
        assert response.json()["error"]["code"] == "unauthenticated" and response["WWW-Authenticate"] == "Bearer"


def test_expired_revoked_or_deactivated_tokens_are_refused(openapi, personas):
    token, shown = tokens.create(acting_user=personas.user, owner=personas.user, name="t", origin="t")
    client = ApiClient(openapi, shown)
    assert client.get("/api/v1/me").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/me").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + timedelta(days=1))
    Mailbox.objects.filter(pk=personas.user.pk).update(active=False)
    assert client.get("/api/v1/me").status_code == 401
    Mailbox.objects.filter(pk=personas.user.pk).update(active=True)
    tokens.revoke(acting_user=personas.superuser, token=token, origin="t")  # a superuser revokes a leaked one
    assert client.get("/api/v1/me").status_code == 401
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1


def test_a_token_never_reaches_past_its_owners_rights(personas):
    with pytest.raises(ValidationError, match="Not a domain you manage: example.net"):
        tokens.create(
            acting_user=personas.admin_org, owner=personas.admin_org, name="t", domains=[personas.net], origin="t"
        )
    with pytest.raises(PermissionDenied):
        tokens.create(acting_user=personas.superuser, owner=personas.user, name="t", origin="t")
    with pytest.raises(PermissionDenied):
        tokens.revoke(
            acting_user=personas.admin_org,
            token=tokens.create(acting_user=personas.user, owner=personas.user, name="u", origin="t")[0],
            origin="t",
        )
    for days in (0, 367, True, "30"):
        with pytest.raises(ValidationError):
            tokens.create(acting_user=personas.user, owner=personas.user, name=f"d{days}", days=days, origin="t")
    for name in ("", " ", "x" * 65, "a\nb"):
        with pytest.raises(ValidationError):
            tokens.create(acting_user=personas.user, owner=personas.user, name=name, origin="t")


def test_a_lost_grant_is_lost_to_the_token_at_once(token_for, personas):
    from domains import services as domains

    client = token_for(personas.admin_org)
    assert client.get("/api/v1/domains/example.org").status_code == 200
    domains.grant_revoke(acting_user=None, admin=personas.admin_org, origin="t")
    assert client.get("/api/v1/domains/example.org").status_code == 404
    assert client.get("/api/v1/audit").status_code == 403


def test_the_rate_limit_answers_429_with_retry_after(token_for, personas, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    client = token_for(personas.user)
    assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/v1/me")
    assert response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 61
    assert response.json()["error"]["code"] == "rate_limited"
    other = token_for(personas.user)  # per token: another one is not slowed
    assert other.get("/api/v1/me").status_code == 200
    ApiToken.objects.update(window_start=timezone.now() - timedelta(seconds=61))
    assert client.get("/api/v1/me").status_code == 200


def test_keyset_pages_cover_every_mailbox_once_at_the_same_cost(token_for, personas):
    for n in range(45):
        Mailbox.objects.create(
            domain=personas.org, local_part=f"m{n:02d}", address=f"m{n:02d}@example.org", password="{PLAIN}x"
        )
    client = token_for(personas.superuser)
    seen, after, costs = [], "", []
    while True:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"/api/v1/domains/example.org/mailboxes?limit=10&after={after}").json()
        costs.append(len(queries))
        seen += [m["address"] for m in page["items"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert len(seen) == len(set(seen)) == Mailbox.objects.filter(domain=personas.org).count() == 48
    assert seen == sorted(seen) and len(set(costs)) == 1, costs


def test_filters_and_bad_paging_get_clear_answers(token_for, personas):
    client = token_for(personas.superuser)
    Mailbox.objects.filter(address="user@example.org").update(active=False)
    page = client.get("/api/v1/domains/example.org/mailboxes?active=false").json()
    assert [m["address"] for m in page["items"]] == ["user@example.org"]
    for query in ("limit=0", "limit=501", "limit=-1", "limit=abc", "active=maybe"):
        response = client.get(f"/api/v1/domains/example.org/mailboxes?{query}")
        assert response.status_code == 400 and response.json()["error"]["fields"], query


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/mailboxes/user@example.org' OR '1'='1",
        "/api/v1/mailboxes/%00",
        "/api/v1/domains/..%2F..%2Fetc",
        "/api/v1/domains/example.org%0d%0aX-Injected:%201",
        "/api/v1/aliases/" + "a" * 5000,
        "/api/v1/no/such/endpoint",
    ],
)
def test_hostile_paths_are_plain_404s(token_for, personas, path):
    response = token_for(personas.superuser).get(path)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert "X-Injected" not in response


def test_malformed_bodies_get_400_and_write_nothing(token_for, personas):
    client = token_for(personas.superuser)
    before = Mailbox.objects.count()
    for body in ("not json", "[]", '{"local_part": 5}', '{"local_part": "x", "quota_bytes": -1}', "{" * 10000):
        response = client.send("post", "/api/v1/domains/example.org/mailboxes", body)
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid", body
    assert Mailbox.objects.count() == before


def test_domains_are_created_changed_and_deleted_through_the_services(token_for, personas, settings):
    settings.MAIL_MESSAGE_SIZE_LIMIT = "50M"
    root = token_for(personas.superuser)
    made = root.send("post", "/api/v1/domains", {"name": "Bücher.Example", "require_app_passwords": True})
    assert made.status_code == 201 and made.json()["name"] == "xn--bcher-kva.example"
    assert Domain.objects.get(name="xn--bcher-kva.example").require_app_passwords
    again = root.send("post", "/api/v1/domains", {"name": "xn--bcher-kva.example"})
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid"
    over = root.send("patch", "/api/v1/domains/example.org", {"max_message_bytes": 51 * 1024 * 1024})
    assert over.status_code == 400 and "server's limit, 50 MB" in json.dumps(over.json())
    changed = root.send("patch", "/api/v1/domains/example.org", {"max_message_bytes": 1048576, "description": "Main"})
    assert changed.json()["max_message_bytes"] == 1048576 and changed.json()["description"] == "Main"
    nulled = root.send("patch", "/api/v1/domains/example.org", {"active": None})
    assert nulled.status_code == 400 and Domain.objects.get(name="example.org").active
    kept = root.send("delete", "/api/v1/domains/example.org")  # it has mailboxes: only with force
    assert kept.status_code == 400 and Domain.objects.filter(name="example.org").exists()
    assert root.send("delete", "/api/v1/domains/xn--bcher-kva.example").status_code == 204
    assert not Domain.objects.filter(name="xn--bcher-kva.example").exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"domain.create", "domain.update", "domain.delete"} <= actions


def test_the_response_checker_can_fail(openapi, personas):
    """The OpenAPI check of every answer is real: an answer of the wrong shape does not pass."""
    _, shown = tokens.create(acting_user=personas.user, owner=personas.user, name="t", origin="t")
    request = Client(HTTP_AUTHORIZATION=f"Bearer {shown}").get("/api/v1/me").wsgi_request
    wrong = HttpResponse(json.dumps({"address": 5}), content_type="application/json")
    with pytest.raises(Exception, match="(?i)invalid|validat"):
        openapi.validate_response(DjangoOpenAPIRequest(request), DjangoOpenAPIResponse(wrong))


# --- fuzzing ---------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
FIELDS = {
    "local_part": st.text(max_size=70),
    "password": st.text(max_size=40),
    "quota_bytes": st.integers(min_value=-(2**70), max_value=2**70),
    "first_name": st.text(max_size=160),
    "active": JSON,
    "destinations": st.lists(st.text(max_size=60), max_size=5) | JSON,
    "mode": st.sampled_from(["off", "default", "custom", "", "OFF", "x" * 20]),
    "subject": st.text(max_size=220),
    "body": st.text(max_size=300),
    "first_day": st.text(max_size=12) | st.dates().map(str),
    "keep_copy": JSON,
    "interval_days": st.integers(min_value=-5, max_value=1000),
    "name": st.text(max_size=260),
    "domains": st.lists(st.sampled_from(["example.org", "example.net", "nowhere.example", "", "EXAMPLE.ORG"])) | JSON,
    "max_mailboxes": st.integers(min_value=-(2**40), max_value=2**40),
    "max_message_bytes": st.integers(min_value=-5, max_value=2**63) | JSON,
    "description": st.text(max_size=300) | JSON,
    "action": st.sampled_from(["allow", "deny", "", "ALLOW", "maybe"]) | JSON,
    "pattern": st.text(max_size=80) | st.sampled_from(["@x.example", "0.0.0.0/0", "10.0.0.0/8", "a@b.example"]),
}
WRITES = [
    ("post", "/api/v1/domains/example.org/mailboxes"),
    ("patch", "/api/v1/mailboxes/user@example.org"),
    ("put", "/api/v1/mailboxes/user@example.org/forwarding"),
    ("put", "/api/v1/mailboxes/user@example.org/vacation"),
    ("post", "/api/v1/domains/example.org/aliases"),
    ("patch", "/api/v1/aliases/info@example.org"),
    ("put", "/api/v1/mailboxes/user@example.org/password"),
    ("post", "/api/v1/domains/example.org/domain-aliases"),
    ("put", "/api/v1/grants/user@example.org"),
    ("post", "/api/v1/domains"),
    ("patch", "/api/v1/domains/example.org"),
    ("post", "/api/v1/mailboxes/user@example.org/senders"),
    ("post", "/api/v1/domains/example.org/senders"),
]


def _state():
    from domains.models import AdminGrant, DomainAlias

    return (
        sorted(map(repr, Mailbox.objects.order_by("pk").values())),
        sorted(map(repr, Alias.objects.order_by("pk").values())),
        sorted(map(repr, DomainAlias.objects.order_by("pk").values())),
        sorted(map(repr, AdminGrant.objects.order_by("pk").values())),
        sorted(AdminGrant.domains.through.objects.values_list("admingrant_id", "domain_id")),
        sorted(map(repr, Domain.objects.order_by("pk").values())),
        sorted(map(repr, SenderRule.objects.order_by("pk").values())),
        AuditEntry.objects.count(),
    )


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    write=st.sampled_from(WRITES),
    body=st.fixed_dictionaries({}, optional=FIELDS) | JSON,
)
def test_fuzzed_writes_never_fail_with_500_and_never_half_write(openapi, write, body):
    from django.db import transaction

    with transaction.atomic():
        p = factories.make_personas()
        factories.alias("info@example.org", "user")
        _, shown = tokens.create(acting_user=p.superuser, owner=p.superuser, name="fuzz", read_only=False, origin="t")
        client = ApiClient(openapi, shown)
        before = _state()
        method, path = write
        response = client.send(method, path, body if not isinstance(body, (str, bytes)) else json.dumps(body))
        assert response.status_code < 500, response.content[:300]
        if response.status_code >= 400:
            assert response.json()["error"]["code"]
            assert _state() == before, f"a refused {method} {path} changed something"
        transaction.set_rollback(True)


def test_the_operator_lists_and_revokes_any_token_from_the_command_line(token_for, personas, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    client = token_for(personas.admin_org)
    token = ApiToken.objects.get(owner=personas.admin_org)
    call_command("api_token", "list", "--json")
    listed = json.loads(capsys.readouterr().out)
    assert [(t["id"], t["owner"], t["access"]) for t in listed] == [(token.pk, "admin@example.org", "read-write")]
    assert token.digest not in json.dumps(listed) and token.key_id not in json.dumps(listed)
    call_command("api_token", "revoke", str(token.pk))
    assert client.get("/api/v1/me").status_code == 401
    assert AuditEntry.objects.get(action="api_token.revoke").origin == "cli"
    with pytest.raises(CommandError, match="No API token has the id"):
        call_command("api_token", "revoke", str(token.pk))


def test_a_relay_domains_list_pages_by_address(token_for, personas):
    from domains import services as domains

    relay = domains.domain_create(acting_user=None, name="relay.example", origin="test")
    domains.domain_update(acting_user=None, domain=relay, relay_host="mx.example.com", origin="test")
    root = token_for(personas.superuser)
    added = root.post("/api/v1/domains/relay.example/relay-recipients", data={"addresses": ["c", "a", "B", "@"]},
                      content_type="application/json")  # fmt: skip
    assert added.status_code == 201
    assert [r["address"] for r in added.json()] == [
        "@relay.example",
        "a@relay.example",
        "b@relay.example",
        "c@relay.example",
    ]
    seen, after = [], ""
    while True:
        page = root.get(f"/api/v1/domains/relay.example/relay-recipients?limit=3&after={after}").json()
        seen += [r["address"] for r in page["items"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == ["@relay.example", "a@relay.example", "b@relay.example", "c@relay.example"]
    bad = root.post("/api/v1/domains/relay.example/relay-recipients", data={"addresses": ["x@elsewhere.example"]},
                    content_type="application/json")  # fmt: skip
    assert bad.status_code == 400 and "is not an address of relay.example" in bad.json()["error"]["message"]


def test_a_vacation_keeps_the_language_of_its_default_text_and_refuses_an_unknown_one(personas, token_for):
    api = token_for(personas.superuser)
    url = "/api/v1/mailboxes/user@example.org/vacation"
    assert api.send("put", url, {"mode": "default", "language": "de"}).json()["language"] == "de"
    assert api.send("put", url, {"mode": "default", "interval_days": 3}).json()["language"] == "de"  # left out: kept
    refused = api.send("put", url, {"mode": "default", "language": "klingon"})
    assert refused.status_code == 400 and "klingon is not a language of this server" in json.dumps(refused.json())
    assert api.send("get", url).json()["language"] == "de"
