"""What a mailbox may log in to, against the real Dovecot and Exim on every database: each protocol
switched off alone is refused (with the main password and with an app password), the others keep
working, and a domain's defaults reach its new mailboxes."""

from __future__ import annotations

import uuid

import pytest

from accounts import apppasswords
from accounts import services as accounts
from domains import services as domains
from tests import factories
from tests.mailstack.conftest import PASSWORD
from tests.mailstack.test_app_passwords import _imap_ok, _pop3_ok, _smtp_ok

pytestmark = pytest.mark.mailstack


def _works(stack, address, password) -> dict:
    return {
        "imap": _imap_ok(stack, address, password),
        "pop3": _pop3_ok(stack, address, password),
        "smtp": _smtp_ok(stack, address, password),
    }


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
def test_a_protocol_switched_off_is_refused_and_the_others_work(stack, directory, protocol):
    mailbox = factories.mailbox(f"proto-{uuid.uuid4().hex[:8]}@alpha.test")
    _, app = apppasswords.create(
        acting_user=mailbox, mailbox=mailbox, name="all", protocols=["imap", "pop3", "smtp"], origin="test"
    )
    assert _works(stack, mailbox.address, PASSWORD) == {"imap": True, "pop3": True, "smtp": True}
    accounts.mailbox_update(acting_user=None, mailbox=mailbox, origin="test", **{f"allow_{protocol}": False})
    stack.flush_auth_cache()
    expected = {"imap": True, "pop3": True, "smtp": True} | {protocol: False}
    assert _works(stack, mailbox.address, PASSWORD) == expected
    assert _works(stack, mailbox.address, app) == expected  # an app password cannot reach past the mailbox
    accounts.mailbox_update(acting_user=None, mailbox=mailbox, origin="test", **{f"allow_{protocol}": True})
    stack.flush_auth_cache()
    assert _works(stack, mailbox.address, PASSWORD) == {"imap": True, "pop3": True, "smtp": True}


def test_a_domains_defaults_reach_its_new_mailboxes(stack, directory):
    domain = factories.domain(f"proto-{uuid.uuid4().hex[:8]}.test", default_allow_pop3=False)
    first = factories.mailbox(f"first@{domain.name}")
    assert (first.allow_imap, first.allow_pop3) == (True, False)
    assert _works(stack, first.address, PASSWORD) == {"imap": True, "pop3": False, "smtp": True}
    domains.domain_update(acting_user=None, domain=domain, origin="test", default_allow_pop3=True)
    second = factories.mailbox(f"second@{domain.name}")  # a default changes new mailboxes only
    assert _pop3_ok(stack, second.address, PASSWORD) and not _pop3_ok(stack, first.address, PASSWORD)
