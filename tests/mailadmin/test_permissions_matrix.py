"""Every URL of the panel x every persona x {GET, POST} gives the expected answer.

The POSTs carry valid data, so a refused POST really would have changed
something; every refused one is checked to have changed nothing at all.
A new URL pattern without a row here fails ``test_every_url_is_in_the_matrix``.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import apppasswords, twofactor
from accounts import services as accounts
from accounts.models import AppPassword, Job, Mailbox, MailboxArchive, RecoveryCode, SecurityKey
from aliases.models import Alias
from api import tokens
from api.models import ApiToken
from domains import services as domains
from domains.models import AdminGrant, Domain, DomainAlias, RelayRecipient
from mailadmin.models import AuditEntry
from policy import services as senders
from policy.models import DnsBlocklist, SenderRule
from tests import factories
from tests.dbutil import shared_world
from vacation.models import Vacation

PERSONAS = ("anonymous", "user", "admin_org", "admin_net", "superuser")
NEW_PASSWORD = "a brand new secret 42"  # noqa: S105 (a test password)
SENDER = {"action": "deny", "pattern": "spam@bad.example"}
BLOCKLIST = {"zone": "zen.example.net", "name": "ZEN", "answers": "127.0.0.2 spam source", "enabled": "on"}
SETTINGS = {"max_mailboxes": 0, "max_aliases": 0, "max_quota_bytes": 0, "default_quota_bytes": 0, "active": "on"}

# name, object, GET answers, POST answers, POST data; answers in PERSONAS order less anonymous
# (anonymous always gets the login redirect). 405 = wrong method.
MATRIX = [
    ("home", None, (302, 302, 302, 302), (405, 405, 405, 405), {}),
    ("audit", None, (403, 200, 200, 200), (405, 405, 405, 405), {}),
    ("accounts:me", None, (200, 200, 200, 200), (405, 405, 405, 405), {}),
    ("accounts:password_change", None, (200, 200, 200, 200), (302, 302, 302, 302), "own_password"),
    ("vacation:own", None, (200, 200, 200, 200), (302, 302, 302, 302), {"mode": "default", "interval_days": 7}),
    ("accounts:own_profile", None, (200, 200, 200, 200), (405, 405, 405, 405), {}),
    ("accounts:own_forwarding", None, (200, 200, 200, 200), (302, 302, 302, 302), {"destinations": "x@example.net"}),
    ("domains:list", None, (403, 200, 200, 200), (405, 405, 405, 405), {}),
    ("domains:create", None, (403, 403, 403, 200), (403, 403, 403, 302), {"name": "new.example", **SETTINGS}),
    ("domains:grants", None, (403, 403, 403, 200), (405, 405, 405, 405), {}),
    ("domains:grant_create", None, (403, 403, 403, 200), (403, 403, 403, 302), "new_grant"),
    ("domains:grant_edit", "grant_org", (403, 403, 403, 200), (403, 403, 403, 302), "edit_grant"),
    ("domains:grant_delete", "grant_net", (405, 405, 405, 405), (403, 403, 403, 302), {}),
    ("domains:detail", "org", (404, 200, 404, 200), (405, 405, 405, 405), {}),
    ("domains:detail", "net", (404, 404, 200, 200), (405, 405, 405, 405), {}),
    ("domains:dns", "org", (404, 200, 404, 200), (405, 405, 405, 405), {}),
    # a relay domain's list: its administrators (admin_org's grant covers it) and superusers
    ("domains:relay_recipients", "relay", (404, 200, 404, 200), (404, 302, 404, 302), {"addresses": "ann\nbob"}),
    ("domains:relay_recipients", "org", (404, 404, 404, 404), (404, 404, 404, 404), {"addresses": "ann"}),
    ("domains:relay_recipient_delete", "relay_ann", (405, 405, 405, 405), (404, 302, 404, 302), {}),
    ("domains:settings", "org", (404, 403, 404, 200), (404, 403, 404, 302), {"description": "x", **SETTINGS}),
    ("domains:delete", "net", (405, 405, 405, 405), (404, 404, 403, 302), {"force": "on"}),
    (
        "domains:alias_create",
        "org",
        (405, 405, 405, 405),
        (404, 403, 404, 302),
        {"name": "other.example", "active": "on"},
    ),
    # only superusers add domain aliases, so only they switch them on or off and delete them
    ("domains:alias_toggle", "dalias_org", (405, 405, 405, 405), (404, 403, 404, 302), {}),
    ("domains:alias_delete", "dalias_org", (405, 405, 405, 405), (404, 403, 404, 302), {}),
    ("accounts:create", "org", (404, 200, 404, 200), (404, 200, 404, 200), {"local_part": "new"}),
    ("accounts:bulk_create", "org", (404, 200, 404, 200), (404, 200, 404, 200), {"lines": "n1\nn2,10,A,B"}),
    ("accounts:import", "org", (404, 200, 404, 200), (404, 302, 404, 302), "csv"),
    ("accounts:export", "org", (404, 200, 404, 200), (405, 405, 405, 405), {}),
    ("accounts:bulk_update", "org", (405, 405, 405, 405), (404, 302, 404, 302), "bulk_update"),
    ("accounts:bulk_delete", "org", (405, 405, 405, 405), (404, 302, 404, 302), "bulk_delete"),
    # a bulk job's page: its submitter's (admin_org) and superusers'; nobody else's, not even the domain's
    ("accounts:job", "job_org", (404, 200, 404, 200), (405, 405, 405, 405), {}),
    (
        "accounts:detail",
        "user",
        (200, 200, 404, 200),
        (403, 302, 404, 302),
        {"first_name": "X", "quota_bytes": "5M", "active": "on"},
    ),
    (
        "accounts:detail",
        "root",
        (404, 200, 404, 200),
        (404, 403, 404, 302),
        {"first_name": "X", "quota_bytes": "5M", "active": "on"},
    ),
    (
        "accounts:detail",
        "bob",
        (404, 404, 200, 200),
        (404, 404, 302, 302),
        {"first_name": "X", "quota_bytes": "5M", "active": "on"},
    ),
    ("accounts:password", "user", (405, 405, 405, 405), (403, 200, 404, 200), {"password": ""}),
    ("accounts:password", "root", (405, 405, 405, 405), (404, 403, 404, 200), {"password": ""}),
    ("accounts:toggle", "user", (405, 405, 405, 405), (403, 302, 404, 302), {}),
    ("accounts:toggle", "root", (405, 405, 405, 405), (404, 403, 404, 302), {}),
    ("accounts:delete", "user", (405, 405, 405, 405), (403, 302, 404, 302), {}),
    ("accounts:delete", "admin_org", (405, 405, 405, 405), (404, 403, 404, 302), {}),
    ("vacation:mailbox", "user", (200, 200, 404, 200), (302, 302, 404, 302), {"mode": "default", "interval_days": 7}),
    ("vacation:mailbox", "root", (404, 403, 404, 200), (404, 403, 404, 302), {"mode": "default", "interval_days": 7}),
    ("accounts:forwarding", "user", (200, 200, 404, 200), (302, 302, 404, 302), {"destinations": "x@example.net"}),
    ("accounts:forwarding", "root", (404, 403, 404, 200), (404, 403, 404, 302), {"destinations": "x@example.net"}),
    (
        "aliases:create",
        "org",
        (404, 200, 404, 200),
        (404, 302, 404, 302),
        {"local_part": "new", "destinations": "user"},
    ),
    ("aliases:bulk_create", "org", (404, 200, 404, 200), (404, 302, 404, 302), {"lines": "a1 user\na2 user,root"}),
    ("aliases:detail", "alias_org", (404, 200, 404, 200), (404, 302, 404, 302), {"destinations": "root"}),
    ("aliases:toggle", "alias_org", (405, 405, 405, 405), (404, 302, 404, 302), {}),
    ("aliases:delete", "alias_org", (405, 405, 405, 405), (404, 302, 404, 302), {}),
    ("accounts:archives", "org", (404, 200, 404, 200), (405, 405, 405, 405), {}),
    ("accounts:archives", "net", (404, 404, 200, 200), (405, 405, 405, 405), {}),
    ("accounts:restore", "archive_org", (405, 405, 405, 405), (404, 302, 404, 302), {}),
    # a deleted superuser's mailbox outranks a domain admin: it would come back with its password and mail
    ("accounts:restore", "archive_boss", (405, 405, 405, 405), (404, 403, 404, 302), {}),
    # a deleted mailbox of an earlier, deleted example.org: only a superuser restores it into this one
    ("accounts:restore_into", "archive_earlier_org", (405, 405, 405, 405), (404, 403, 404, 302), {}),
    # one's own two-factor login: everyone's own page; a wrong code is shown its error (200); setting it
    # up again while it is on (user, superuser) goes back to its page
    ("accounts:two_factor", None, (200, 200, 200, 200), (405, 405, 405, 405), {}),
    ("accounts:two_factor_setup", None, (302, 200, 200, 302), (302, 200, 200, 302), {"code": "000000"}),
    ("accounts:two_factor_remove", None, (405, 405, 405, 405), (200, 200, 200, 200), {"code": "000000"}),
    ("accounts:two_factor_codes", None, (405, 405, 405, 405), (200, 200, 200, 200), {"code": "000000"}),
    # security keys: one's own, once two-factor login is set up (user and superuser have it)
    ("accounts:two_factor_key_options", None, (405, 405, 405, 405), (200, 403, 403, 200), {}),
    (
        "accounts:two_factor_key_add",
        None,
        (405, 405, 405, 405),
        (200, 403, 403, 200),
        {"name": "k", "credential": "{}"},
    ),
    ("accounts:two_factor_key_remove", "key_user", (405, 405, 405, 405), (302, 404, 404, 404), {}),
    # another account's (both have one set up): its managers reset it, never one's own or a higher rank's
    ("accounts:two_factor_reset", "user", (405, 405, 405, 405), (403, 302, 404, 302), {}),
    ("accounts:two_factor_reset", "root", (405, 405, 405, 405), (404, 403, 404, 403), {}),
    # app passwords: everyone's own list and form (the new password is shown on a 200); revoking one is
    # for the account itself and whoever manages it; another's one may not manage is not found
    (
        "accounts:app_passwords",
        None,
        (200, 200, 200, 200),
        (200, 200, 200, 200),
        {"name": "laptop", "protocols": ["imap", "smtp"]},
    ),
    ("accounts:app_password_revoke", "app_user", (405, 405, 405, 405), (302, 302, 404, 302), {}),
    ("accounts:app_password_revoke", "app_root", (405, 405, 405, 405), (404, 404, 404, 302), {}),
    # API tokens: everyone's own (shown once on a 200); revoked by their owner or a superuser
    ("tokens:list", None, (200, 200, 200, 200), (200, 200, 200, 200), {"name": "ci", "scope": "all", "days": 30}),
    ("tokens:revoke", "token_user", (405, 405, 405, 405), (302, 404, 404, 302), {}),
    # sender lists: one's own mailbox's, and whoever manages the mailbox; a domain's for its admins
    ("policy:own_senders", None, (200, 200, 200, 200), (302, 302, 302, 302), SENDER),
    ("policy:mailbox_senders", "user", (200, 200, 404, 200), (302, 302, 404, 302), SENDER),
    ("policy:mailbox_senders", "root", (404, 403, 404, 200), (404, 403, 404, 302), SENDER),
    ("policy:domain_senders", "org", (404, 200, 404, 200), (404, 302, 404, 302), SENDER),
    ("policy:domain_senders", "net", (404, 404, 200, 200), (404, 404, 302, 302), SENDER),
    ("policy:sender_delete", "rule_user", (405, 405, 405, 405), (302, 302, 404, 302), {}),
    ("policy:sender_delete", "rule_root", (405, 405, 405, 405), (404, 404, 404, 302), {}),
    ("policy:sender_delete", "rule_org", (405, 405, 405, 405), (404, 302, 404, 302), {}),
    ("policy:blocklists", None, (403, 403, 403, 200), (403, 403, 403, 302), BLOCKLIST),
    ("policy:blocklist_edit", "blocklist", (403, 403, 403, 200), (403, 403, 403, 302), BLOCKLIST),
    ("policy:blocklist_delete", "blocklist", (405, 405, 405, 405), (403, 403, 403, 302), {}),
    # greylisting's allow list and the senders it holds: superusers only
    ("policy:greylisting", None, (403, 403, 403, 200), (403, 403, 403, 302), {"pattern": "192.0.2.0/24"}),
    ("policy:greylist_allow_delete", "grey_allow", (405, 405, 405, 405), (403, 403, 403, 302), {}),
    # statistics: the whole host for superusers; a domain's and a mailbox's for whoever sees them
    ("mailserver:statistics", None, (403, 403, 403, 200), (405, 405, 405, 405), {}),
    ("mailserver:domain_statistics", "org", (404, 200, 404, 200), (405, 405, 405, 405), {}),
    ("mailserver:domain_statistics", "net", (404, 404, 200, 200), (405, 405, 405, 405), {}),
    ("mailserver:mailbox_statistics", "user", (200, 200, 404, 200), (405, 405, 405, 405), {}),
    ("mailserver:mailbox_statistics", "root", (404, 200, 404, 200), (405, 405, 405, 405), {}),
    ("mailserver:mailbox_statistics", "bob", (404, 404, 200, 200), (405, 405, 405, 405), {}),
]
# Outside the matrix: login/logout and the login's second step (tests/mailadmin/test_views_login.py,
# tests/accounts/test_two_factor.py), the language switcher (tests/mailadmin/test_languages.py).
NOT_IN_MATRIX = {"login", "logout", "login_verify", "login_key_options", "set_language"}


def build_world():
    p = factories.make_personas()
    objects = {
        "org": p.org,
        "net": p.net,
        "user": p.user,
        "root": p.superuser,
        "admin_org": p.admin_org,
        "bob": factories.mailbox("bob@example.net"),
        "alias_org": factories.alias("info@example.org", "user"),
        "dalias_org": DomainAlias.objects.create(name="alias-org.example", target=p.org),
        "grant_org": AdminGrant.objects.get(admin=p.admin_org),
        "grant_net": AdminGrant.objects.get(admin=p.admin_net),
        "job_org": Job.objects.create(owner=p.admin_org, domain=p.org, kind="create", total=1, state="done"),
    }
    factories.alias("info@example.net", "bob")
    objects["archive_org"] = deleted(factories.mailbox("gone@example.org").address)
    accounts.superuser_create(origin="test", address=factories.mailbox("boss@example.org").address, password=None)
    objects["archive_boss"] = deleted("boss@example.org")
    objects["archive_earlier_org"] = deleted(factories.mailbox("old@example.org").address)
    MailboxArchive.objects.filter(pk=objects["archive_earlier_org"].pk).update(domain=None)  # its domain is gone
    # With two-factor login on (a refused reset would remove it); logging in as them in a browser
    # takes one of their recovery codes (tests/browser/test_accessibility.py).
    p.recovery_codes = {}
    for mailbox in (p.user, p.superuser):
        TOTPDevice.objects.create(user=mailbox, name="authenticator", confirmed=True)
        p.recovery_codes[mailbox.address] = twofactor._issue_recovery_codes(mailbox)
    for key, mailbox in (("app_user", p.user), ("app_root", p.superuser)):
        apppasswords.create(acting_user=None, mailbox=mailbox, name="phone", protocols=["imap"], origin="test")
        objects[key] = AppPassword.objects.get(mailbox=mailbox)
    objects["token_user"] = tokens.create(acting_user=p.user, owner=p.user, name="sync", origin="test")[0]
    for key, where in (("rule_user", {"mailbox": p.user}), ("rule_root", {"mailbox": p.superuser})):
        objects[key] = senders.sender_rule_add(
            acting_user=None, action="allow", pattern="@ok.example", origin="t", **where
        )
    objects["rule_org"] = senders.sender_rule_add(
        acting_user=None, domain=p.org, action="deny", pattern="192.0.2.0/24", origin="test"
    )
    objects["relay"] = factories.domain("relay.example")
    domains.grant_set(origin="test", acting_user=None, admin=p.admin_org, domains=[p.org, objects["relay"]])
    domains.domain_update(acting_user=None, domain=objects["relay"], relay_host="mx.example.com", origin="test")
    objects["relay_ann"] = domains.relay_recipients_add(
        acting_user=None, domain=objects["relay"], addresses=["ann"], origin="test"
    )[0]
    objects["blocklist"] = senders.blocklist_add(
        acting_user=None, zone="bl.example.net", name="BL", answers="127.0.0.2", origin="test"
    )
    objects["grey_allow"] = senders.greylist_allow_add(acting_user=None, pattern="partner.example", origin="test")
    objects["key_user"] = SecurityKey.objects.create(
        mailbox=p.user, name="key", credential_id="AAAA", credential_digest="0" * 64, public_key="AAAA"
    )
    people = {"user": p.user, "admin_org": p.admin_org, "admin_net": p.admin_net, "superuser": p.superuser}
    return p, objects, people


world = shared_world(build_world)


def deleted(address):
    """The archive a deleted mailbox leaves (its mail not yet moved: a restore is immediate)."""
    accounts.mailbox_delete(origin="test", acting_user=None, mailbox=accounts.get_mailbox(address))
    return MailboxArchive.objects.get(address=address)


def payload(data, p, objects):
    if data == "own_password":
        return {"current_password": p.password, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    if data == "new_grant":
        return {"admin": "user@example.org", "domains": [p.org.pk], "quota_bytes": 0, "max_mailboxes": 0}
    if data == "edit_grant":
        return {"domains": [p.org.pk, p.net.pk], "quota_bytes": 0, "max_mailboxes": 0, "can_appoint_admins": "on"}
    if data == "csv":
        content = b"name,quota_bytes,first_name\ncsv1,10,Carla\n"
        return {"file": SimpleUploadedFile("m.csv", content, content_type="text/csv")}
    if data == "bulk_update":
        return {"mailboxes": [p.user.pk], "active": "off", "quota_bytes": "7M"}
    if data == "bulk_delete":
        return {"mailboxes": [p.user.pk]}
    return data


def snapshot():
    """Everything the panel can change, as plain values."""
    models = (
        *(Domain, DomainAlias, AdminGrant, Mailbox, MailboxArchive, Alias, Vacation),
        *(TOTPDevice, RecoveryCode, AppPassword, ApiToken, SenderRule, DnsBlocklist, RelayRecipient),
    )
    state = {m.__name__: sorted(map(repr, m.objects.order_by("pk").values())) for m in models}
    state["grant_domains"] = sorted(AdminGrant.domains.through.objects.values_list("admingrant_id", "domain_id"))
    state["audit"] = AuditEntry.objects.count()
    return state


def url_for(name, key, objects):
    return reverse(name, args=[objects[key].pk]) if key else reverse(name)


CASES = [
    pytest.param(row, persona, id=f"{row[0]}[{row[1] or '-'}]-{persona}") for row in MATRIX for persona in PERSONAS
]


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "persona"), CASES)
def test_matrix(world, row, persona):
    name, key, get_expected, post_expected, data = row
    p, objects, people = world
    if name == "accounts:toggle":
        url = reverse(name, args=[objects[key].pk, "active"])
    elif name == "accounts:restore_into":
        url = reverse(name, args=[p.org.pk, objects[key].pk])
    else:
        url = url_for(name, key, objects)
    client = Client()
    if persona != "anonymous":
        client.force_login(people[persona])
        index = PERSONAS.index(persona) - 1
        expected_get, expected_post = get_expected[index], post_expected[index]
    else:
        expected_get = expected_post = 302
    response = client.get(url)
    assert response.status_code == expected_get, f"GET {url} as {persona}"
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    before = snapshot()
    response = client.post(url, payload(data, p, objects))
    assert response.status_code == expected_post, f"POST {url} as {persona}"
    if expected_post in (302, 200) and persona != "anonymous" and expected_post != 405:
        return
    assert snapshot() == before, f"refused POST {url} as {persona} changed something"


def test_every_url_is_in_the_matrix():
    """A view added without deciding who may use it fails here."""
    covered = {row[0] for row in MATRIX} | NOT_IN_MATRIX
    names = set()
    for pattern in get_resolver().url_patterns:
        namespace = getattr(pattern, "namespace", None)
        if namespace:
            names |= {f"{namespace}:{p.name}" for p in pattern.url_patterns if p.name}
        elif getattr(pattern, "name", None):
            names.add(pattern.name)
    # The REST API's endpoints have a matrix of their own, by token scope (tests/api/test_matrix.py).
    assert {name for name in names - covered if not name.startswith("api:")} == set()


@pytest.mark.django_db
def test_allowed_posts_did_what_they_said(world):
    """Spot checks that the matrix's successful POSTs are real changes (not silently ignored)."""
    p, objects, people = world
    client = Client()
    client.force_login(p.admin_org)
    client.post(reverse("aliases:bulk_create", args=[p.org.pk]), {"lines": "a1 user\na2 user,root"})
    assert set(Alias.objects.filter(domain=p.org).values_list("local_part", flat=True)) >= {"a1", "a2"}
    client.post(reverse("accounts:bulk_update", args=[p.org.pk]), {"mailboxes": [p.user.pk], "active": "off"})
    assert not Mailbox.objects.get(pk=p.user.pk).active
    client.post(reverse("accounts:restore", args=[objects["archive_org"].pk]))
    assert Mailbox.objects.filter(address="gone@example.org").exists()
    assert MailboxArchive.objects.get(pk=objects["archive_org"].pk).state == "restored"
