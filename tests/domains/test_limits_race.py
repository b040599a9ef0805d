"""Two threads race 50 mailbox creations each against one grant: the limits never break.

The services lock the domain row and every grant covering it (SELECT ... FOR
UPDATE on MariaDB and PostgreSQL; SQLite's IMMEDIATE transactions serialise
writers) before counting, so the count and the quota sum are exact.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from accounts.models import Mailbox
from aliases.models import Alias
from domains import services
from mailadmin.lib.sizes import MB
from tests import factories as f

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def race(names: list[list[str]], quota_bytes: int = 0, make=None) -> tuple[int, list[str]]:
    """Each list of ``names`` created by its own thread, all starting at once: mailboxes, or what
    ``make(name)`` creates."""
    make = make or (lambda name: f.mailbox(name, quota_bytes=quota_bytes))
    created, errors, lock = [0], [], threading.Lock()
    barrier = threading.Barrier(len(names))

    def worker(batch):
        try:
            barrier.wait()
            for name in batch:
                try:
                    make(name)
                    with lock:
                        created[0] += 1
                except ValidationError as exc:
                    with lock:
                        errors.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(batch,)) for batch in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    return created[0], errors


def setup_grant(**limits):
    org, net = f.domain("example.org"), f.domain("example.net")
    admin = f.mailbox("admin@example.org", quota_bytes=10 * MB)
    return services.grant_set(origin="test", acting_user=None, admin=admin, domains=[org, net], **limits)


def test_racing_creations_never_exceed_the_grant_mailbox_count():
    grant = setup_grant(max_mailboxes=31)
    batches = [[f"a{i}@example.org" for i in range(50)], [f"b{i}@example.net" for i in range(50)]]
    created, errors = race(batches, quota_bytes=1 * MB)
    assert created == 30  # 31 allowed, the admin's own mailbox is one of them
    assert Mailbox.objects.filter(domain__in=grant.domains.all()).count() == 31
    assert len(errors) == 70 and all("allows 31 mailboxes" in e for e in errors)


def test_racing_creations_never_exceed_the_grant_quota():
    grant = setup_grant(quota_bytes=(10 + 3 * 17) * MB)
    batches = [[f"a{i}@example.org" for i in range(50)], [f"b{i}@example.net" for i in range(50)]]
    created, errors = race(batches, quota_bytes=3 * MB)
    assert created == 17
    assert grant.usage()["quota_bytes"] == 61 * MB
    assert len(errors) == 83 and all("are left" in e for e in errors)


def test_racing_creations_in_one_domain_never_exceed_its_limit():
    f.domain("example.org", max_mailboxes=20)
    created, errors = race(
        [[f"a{i}@example.org" for i in range(50)], [f"b{i}@example.org" for i in range(50)]], quota_bytes=0
    )
    assert created == 20 and Mailbox.objects.count() == 20
    assert all("at most 20 mailboxes" in e for e in errors)


def test_racing_alias_creations_in_one_domain_never_exceed_its_limit():
    """The alias limit is read from the domain's totals row after the domain's lock, as the
    mailbox limit is: two writers never both see room for the last alias."""
    f.domain("example.org", max_aliases=20)
    f.mailbox("target@example.org")
    created, errors = race(
        [[f"a{i}@example.org" for i in range(50)], [f"b{i}@example.org" for i in range(50)]],
        make=lambda name: f.alias(name, "target"),
    )
    assert created == 20 and Alias.objects.count() == 20
    assert len(errors) == 80 and all("at most 20 aliases" in e for e in errors)
