"""Greylisting (issue 15.1) against the real Exim on every database: the first attempt of a new
(client network, sender, recipient) gets 451 at RCPT, a retry before the domain's delay 451 again,
a retry after it is accepted and delivered, and later mail of the triplet passes at once; the
triplet is written by Exim itself through greylisting's own database user. Unknown recipients
still get 550, authenticated submission and the allow list (networks, sender domains) are never
greylisted, a retry after the window or a triplet past its expiry starts again, the same first
mail on many connections at once is 451 on each with one row, and a triplet that cannot be
written is 451, never a way through."""

from __future__ import annotations

import smtplib
import threading
import time
import uuid

import pytest
from django.db import connection

from domains import services as domains
from policy import services as policy
from policy.models import GreylistTriplet, triplet_key
from tests import factories
from tests.mailstack.test_core import message

pytestmark = pytest.mark.mailstack

PASSWORD = factories.PASSWORD
DELAY = 5  # (long enough that a loaded machine cannot make an early retry a late one)


@pytest.fixture
def grey(directory):
    name = f"grey-{uuid.uuid4().hex[:8]}.test"
    domain = factories.domain(name, greylist=True, greylist_delay=DELAY)
    return domain, factories.mailbox(f"gina@{name}")


def _rcpt(stack, rcpt, sender, source="127.0.0.1", data=False):
    """RCPT from a client at ``source`` (any 127/8 address reaches the stack's 127.0.0.1);
    (code, text), and with ``data`` the DATA answer of an accepted recipient."""
    conn = smtplib.SMTP("127.0.0.1", stack.ports["smtp"], timeout=30, source_address=(source, 0))
    try:
        conn.ehlo("client.mailstack.test")
        assert conn.mail(sender)[0] == 250
        code, text = conn.rcpt(rcpt)
        if data and code == 250:
            subject = f"grey {uuid.uuid4().hex[:10]}"
            assert conn.data(message(rcpt, subject, sender).as_bytes())[0] == 250
            return code, subject
        return code, text
    finally:
        conn.close()


def _triplets(domain):
    return list(GreylistTriplet.objects.filter(domain=domain.name).order_by("first_seen"))


def test_first_attempt_is_451_a_retry_after_the_delay_is_delivered_and_later_mail_passes(stack, grey):
    domain, gina = grey
    code, text = _rcpt(stack, gina.address, "first@outside.test")
    assert code == 451 and f"greylisted, please try again in {DELAY} seconds".encode() in text, (code, text)
    code, text = _rcpt(stack, gina.address, "first@outside.test")  # too early: still waiting
    assert code == 451 and b"greylisted" in text, (code, text)
    rows = _triplets(domain)
    assert len(rows) == 1, stack.log()
    [row] = rows
    assert row.triplet == triplet_key("127.0.0.0/24", "first@outside.test", gina.address)  # (as bench/ seeds them)
    assert (row.client, row.sender, row.recipient, row.passed) == (
        "127.0.0.0/24",
        "first@outside.test",
        gina.address,
        0,
    )
    time.sleep(DELAY + 0.5)
    code, subject = _rcpt(stack, gina.address, "first@outside.test", data=True)
    assert code == 250, subject
    stack.wait_for(gina.address, PASSWORD, subject)
    [row] = _triplets(domain)
    assert row.passed == 1
    # the triplet passes at once from now on; any change of it starts again
    assert _rcpt(stack, gina.address, "FIRST@outside.test")[0] == 250  # (as the sender typed it)
    assert _rcpt(stack, gina.address, "second@outside.test")[0] == 451
    assert _rcpt(stack, gina.address, "first@outside.test", source="127.0.1.1")[0] == 451  # another network
    assert _rcpt(stack, gina.address, "first@outside.test", source="127.0.0.9")[0] == 250  # the same /24
    assert _rcpt(stack, gina.address, "")[0] == 451  # a bounce from a new client is greylisted too
    assert len(_triplets(domain)) == 4


def test_unknown_recipients_authenticated_mail_other_domains_and_domain_aliases(stack, grey):
    domain, gina = grey
    code, text = _rcpt(stack, f"nobody@{domain.name}", "x@outside.test")
    assert code == 550 and b"no such user" in text, (code, text)  # never a 451 for a user that is not there
    plain = factories.domain(f"plain-{uuid.uuid4().hex[:6]}.test")
    assert _rcpt(stack, factories.mailbox(f"pat@{plain.name}").address, "x@outside.test")[0] == 250
    alias = domains.domain_alias_create(acting_user=None, target=domain, name=f"alias-{domain.name}", origin="test")
    assert _rcpt(stack, f"gina@{alias.name}", "x@outside.test")[0] == 451  # the alias greylists as its target
    # authenticated submission is never greylisted
    sender = factories.mailbox(f"sender@{plain.name}")
    conn = stack.smtp("smtps")
    try:
        conn.login(sender.address, PASSWORD)
        assert conn.mail(sender.address)[0] == 250
        assert conn.rcpt(gina.address)[0] == 250
    finally:
        conn.close()
    # switched off in the panel: the next connection is accepted, nothing reloaded
    domains.domain_update(acting_user=None, domain=domain, greylist=False, origin="test")
    assert _rcpt(stack, gina.address, "y@outside.test")[0] == 250


def test_the_allow_list_lets_networks_and_sender_domains_through_at_once(stack, grey):
    domain, gina = grey
    entry = policy.greylist_allow_add(acting_user=None, pattern="127.0.2.0/24", origin="test")
    assert _rcpt(stack, gina.address, "a@outside.test", source="127.0.2.7")[0] == 250
    assert _rcpt(stack, gina.address, "a@outside.test", source="127.0.3.7")[0] == 451
    policy.greylist_allow_delete(acting_user=None, entry=entry, origin="test")
    assert _rcpt(stack, gina.address, "a@outside.test", source="127.0.2.7")[0] == 451
    policy.greylist_allow_add(acting_user=None, pattern="Partner.Test", origin="test")
    policy.greylist_allow_add(acting_user=None, pattern="*.bulk.test", origin="test")
    policy.greylist_allow_add(acting_user=None, pattern="2001:db8::/32", origin="test")  # (IPv6 beside IPv4)
    assert _rcpt(stack, gina.address, "news@partner.test")[0] == 250
    assert _rcpt(stack, gina.address, "news@mx.bulk.test")[0] == 250
    assert _rcpt(stack, gina.address, "news@other.partner.test")[0] == 451  # a domain is that domain only
    assert _rcpt(stack, gina.address, "news@bulk.test")[0] == 451  # *. is its subdomains
    assert _rcpt(stack, gina.address, "")[0] == 451  # an empty sender matches no domain
    for hostile in ("x'@partner.test", '"a\' OR 1=1 --"@outside.test', "%@outside.test"):
        assert _rcpt(stack, gina.address, hostile)[0] in (250, 451), hostile


def test_a_retry_after_the_window_and_a_sender_silent_past_the_expiry_start_again(stack, grey):
    domain, gina = grey
    assert _rcpt(stack, gina.address, "late@outside.test")[0] == 451
    window = domain.greylist_window_hours * 3600
    GreylistTriplet.objects.filter(domain=domain.name).update(first_seen=int(time.time()) - window - 60)
    assert _rcpt(stack, gina.address, "late@outside.test")[0] == 451  # too late: a first attempt again
    [row] = _triplets(domain)
    assert row.passed == 0 and row.first_seen > time.time() - 60
    time.sleep(DELAY + 0.5)
    assert _rcpt(stack, gina.address, "late@outside.test")[0] == 250
    expiry = domain.greylist_expiry_days * 86400
    GreylistTriplet.objects.filter(domain=domain.name).update(last_seen=int(time.time()) - expiry - 60)
    assert _rcpt(stack, gina.address, "late@outside.test")[0] == 451  # forgotten
    # a passed sender seen again after an hour has its last use written (its expiry counts from then)
    time.sleep(DELAY + 0.5)
    assert _rcpt(stack, gina.address, "late@outside.test")[0] == 250
    GreylistTriplet.objects.filter(domain=domain.name).update(last_seen=int(time.time()) - 7200)
    assert _rcpt(stack, gina.address, "late@outside.test")[0] == 250
    [row] = _triplets(domain)
    assert row.last_seen > time.time() - 60


def test_the_same_first_mail_on_many_connections_is_451_on_each_and_one_triplet(stack, grey):
    domain, gina = grey
    codes, lock = [], threading.Lock()

    def attempt():
        code = _rcpt(stack, gina.address, "burst@outside.test")[0]
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes == [451] * 8, codes
    assert len(_triplets(domain)) == 1


def test_a_triplet_that_cannot_be_written_is_451_never_a_way_through(stack, grey, django_db_blocker):
    domain, gina = grey
    vendor = connection.vendor
    user = stack.credentials.get("LOOKUP_GREYLIST_USER")
    q = connection.ops.quote_name
    keeper = None
    if vendor == "sqlite":  # (no users: another writer holds the file longer than Exim waits, 5 s)
        import sqlite3

        keeper = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        keeper.execute("BEGIN IMMEDIATE")
    else:
        with connection.cursor() as cursor:
            grantee = f"'{user}'@'localhost'" if vendor == "mysql" else q(user)
            cursor.execute(f"REVOKE INSERT, UPDATE ON {q('policy_greylist')} FROM {grantee}")
    try:
        for _ in range(2):
            assert _rcpt(stack, gina.address, "blocked@outside.test")[0] == 451
        assert _triplets(domain) == []
    finally:
        if keeper is not None:
            keeper.execute("ROLLBACK")
            keeper.close()
        else:
            with connection.cursor() as cursor:
                cursor.execute(f"GRANT INSERT, UPDATE ON {q('policy_greylist')} TO {grantee}")
    assert _rcpt(stack, gina.address, "blocked@outside.test")[0] == 451
    assert len(_triplets(domain)) == 1
