"""`manage.py trace`: where mail to an address goes, from the lookup views, on every database."""

import io
import json

import pytest
from django.core.management import call_command

from accounts.models import Mailbox
from domains import services as domains
from mailadmin.lib.sizes import MB
from mailserver.trace import trace
from tests import factories
from vacation.services import vacation_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory():
    factories.domain("example.org")
    factories.domain("catch.example")
    factories.domain("off.example", active=False)
    domains.domain_alias_create(
        origin="test", acting_user=None, name="example.net", target=domains.get_domain("example.org")
    )
    alice = factories.mailbox("alice@example.org", filtering=False, quota_bytes=100 * MB)
    factories.mailbox("bob@example.org")
    factories.mailbox("gone@example.org", active=False)
    factories.mailbox("full@example.org")
    Mailbox.objects.filter(address="full@example.org").update(over_quota=True)
    factories.mailbox("erin@catch.example")
    factories.alias("info@example.org", ["team"])
    factories.alias("team@example.org", ["alice", "bob", "friend@elsewhere.example"])
    factories.alias("ping@example.org", ["pong"])
    factories.alias("pong@example.org", ["ping"])
    factories.alias("@catch.example", ["erin"])
    vacation_set(origin="test", acting_user=None, mailbox=alice, mode="default")


def test_alias_chain_ends_in_mailboxes_and_the_outside(directory):
    t = trace("info@example.org")
    assert t.mailboxes == ["alice@example.org", "bob@example.org"]
    assert t.external == ["friend@elsewhere.example"]
    assert t.rcpt.startswith("250")
    assert any("alias -> team@example.org" in step for step in t.steps)


def test_mailbox_shows_vacation_filtering_and_quota(directory):
    t = trace("Alice@Example.org")
    assert t.mailboxes == ["alice@example.org"]
    assert t.outcomes[0].info == {
        "filtering": False,
        "quota_bytes": 100 * 1048576,
        "over_quota": False,
        "vacation": "default",
    }
    text = " ".join(t.steps)
    assert "vacation reply" in text and "filtering OFF" in text and "quota 100 MB" in text


def test_domain_alias_maps_to_the_target_first(directory):
    t = trace("bob@example.net")
    assert t.mailboxes == ["bob@example.org"]
    assert "domain alias of example.org" in t.steps[0]


def test_catchall_takes_unknown_local_parts_only(directory):
    assert trace("anyone@catch.example").mailboxes == ["erin@catch.example"]
    assert trace("erin@catch.example").steps[0].startswith("erin@catch.example: mailbox")


@pytest.mark.parametrize(
    ("address", "answer"),
    [
        ("nobody@example.org", "550 no such user"),
        ("gone@example.org", "550 mailbox disabled"),
        ("full@example.org", "451 mailbox over quota"),
        ("ping@example.org", "550 alias loop"),
        ("x@off.example", "550 relay not permitted"),
        ("someone@elsewhere.example", "550 relay not permitted"),
        ("a b@example.org", "550 no such user"),
        ("al%ce@example.org", "550 no such user"),
    ],
)
def test_refusals_say_why(directory, address, answer):
    assert trace(address).rcpt.startswith(answer)


def test_command_prints_text_and_json(directory):
    out = io.StringIO()
    call_command("trace", "info@example.org", stdout=out)
    assert "=> mailboxes: alice@example.org, bob@example.org" in out.getvalue()
    out = io.StringIO()
    call_command("trace", "info@example.org", "nobody@example.org", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert [d["address"] for d in data] == ["info@example.org", "nobody@example.org"]
    assert data[1]["rcpt"].startswith("550")


def test_a_unicode_domain_is_traced_as_exim_rewrites_it(db):
    """An SMTPUTF8 client may write bücher.example; Exim looks it up as its A-labels."""
    factories.domain("bücher.example")
    factories.mailbox("anna@bücher.example")
    for typed in ("anna@BÜCHER.example", "anna@xn--bcher-kva.example"):
        assert trace(typed).mailboxes == ["anna@xn--bcher-kva.example"], typed
    assert trace("anna@bad..ü").rcpt.startswith("550")
