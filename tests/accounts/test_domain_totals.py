"""Each domain's mailbox totals, kept by triggers (accounts.totals): what the domain page, the domain
list and a grant's limits read instead of summing the domain's mailboxes at every request.

Every test of the suite that writes to the database ends with the in-step check (tests/conftest.py,
``mailserver.lookup.out_of_step``, which covers these rows), so every service, importer and bulk
path is held to them (tests/domains/test_limits_race.py races creations against a grant's limits,
now read from these rows); the tests here show the figures a user reads, writes made in plain SQL,
and the check and the repair."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from accounts import services, totals
from accounts.models import Mailbox, MailboxArchive
from domains import services as domain_services
from domains.models import Domain
from mailadmin.lib.sizes import MB
from tests import factories
from tests.mailserver.lookup_step import out_of_step

pytestmark = pytest.mark.django_db


def figures(name: str) -> tuple:
    """(mailboxes, unlimited, usage, quota, aliases, deleted mailboxes still kept) of a domain."""
    domain = Domain.objects.get(name=name)
    f = Mailbox.objects.totals_by_domain([domain]).get(domain.pk)
    return f["mailboxes"], f["unlimited"], f["usage_bytes"], f["quota_bytes"], f["aliases"], f["kept_archives"]


def test_the_figures_follow_every_kind_of_write_and_go_with_the_domain():
    factories.domain("example.org")
    factories.domain("example.net")
    assert figures("example.org") == (0, 0, 0, 0, 0, 0)
    ann = factories.mailbox("ann@example.org", quota_bytes=100 * MB)
    factories.mailbox("bob@example.org", quota_bytes=0)
    factories.mailbox("cid@example.org", quota_bytes=50 * MB)
    factories.alias("info@example.org", ["ann@example.org"])
    factories.alias("sales@example.org", ["bob@example.org"])
    assert figures("example.org") == (3, 1, 0, 150 * MB, 2, 0)

    services.mailbox_update(acting_user=None, mailbox=ann, origin="test", quota_bytes=200 * MB)
    Mailbox.objects.filter(address="bob@example.org").update(usage_bytes=7 * MB)  # as the usage job writes
    Mailbox.objects.filter(address="cid@example.org").update(first_name="Cid")  # nothing counted changes
    assert figures("example.org") == (3, 1, 7 * MB, 250 * MB, 2, 0)

    with connection.cursor() as cursor:  # plain SQL, past every service
        cursor.execute("UPDATE accounts_mailbox SET quota_bytes = 0 WHERE address = 'cid@example.org'")
        net = Domain.objects.get(name="example.net").pk
        cursor.execute(
            "UPDATE aliases_alias SET domain_id = %s, address = 'sales@example.net' WHERE local_part = 'sales'", [net]
        )
    assert figures("example.org") == (3, 2, 7 * MB, 200 * MB, 1, 0)
    assert figures("example.net") == (0, 0, 0, 0, 1, 0)

    # A deleted mailbox leaves the counts and its mail is kept, until it is purged.
    services.mailbox_delete(acting_user=None, mailbox=Mailbox.objects.get(address="bob@example.org"), origin="test")
    assert figures("example.org") == (2, 1, 0, 200 * MB, 1, 1)
    MailboxArchive.objects.filter(address="bob@example.org").update(state=MailboxArchive.State.PURGED)
    assert figures("example.org") == (2, 1, 0, 200 * MB, 1, 0)

    domain_services.domain_delete(
        acting_user=None, domain=Domain.objects.get(name="example.org"), origin="test", force=True
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT domain_id FROM {totals.TABLE}")  # noqa: S608 - the module's own name
        assert list(cursor.fetchall()) == [(net,)]  # the deleted domain's row went with it


def test_the_domain_page_and_list_show_the_figures(client, personas):
    factories.mailbox("extra@example.org", quota_bytes=0)
    factories.mailbox("gone@example.org")
    Mailbox.objects.filter(address="extra@example.org").update(usage_bytes=3 * MB)
    factories.alias("info@example.org", ["extra@example.org"])
    client.force_login(personas.superuser)
    services.mailbox_delete(acting_user=personas.superuser, mailbox=Mailbox.objects.get(address="gone@example.org"),
                            origin="test")  # fmt: skip
    org = Domain.objects.get(name="example.org")
    page = client.get(reverse("domains:detail", args=[org.pk])).content.decode()
    # root, admin and user of the personas, and extra
    assert re.search(r"<dt>Mailboxes</dt><dd>.*?usage-text\">4 <", page)
    assert re.search(r"<dt>Aliases</dt><dd>.*?usage-text\">1 <", page)
    assert re.search(r"<dt>Storage</dt><dd>.*?usage-text\">3 MB <", page)
    assert "Deleted mailboxes (1)" in page
    listing = client.get(reverse("domains:list")).content.decode()
    row = next(r for r in listing.split("<tr") if ">example.org<" in r)
    assert re.findall(r'usage-text">([^<]*) <', row) == ["4", "1", "3 MB"]  # mailboxes, aliases, storage


@pytest.mark.django_db(transaction=True)  # (MariaDB commits trigger statements by themselves)
def test_the_check_sees_totals_without_triggers_and_rebuild_repairs_them():
    """A dump restored without its triggers: new mailboxes leave the totals behind, `lookup_tables
    check` says so, and `rebuild` makes the triggers again and refills the rows."""
    factories.domain("example.org")
    with connection.cursor() as cursor:
        for statement in totals.drop_trigger_sql(connection.vendor):
            cursor.execute(statement)
    factories.mailbox("late@example.org", quota_bytes=5 * MB)
    assert figures("example.org")[0] == 0  # (what the page would show: wrong)
    found = out_of_step()
    assert set(found) == {totals.TABLE}
    out = io.StringIO()
    with pytest.raises(CommandError, match="out of step"):
        call_command("lookup_tables", "check", stdout=out)
    assert f"{totals.TABLE}: 1 rows missing, 1 rows stale" in out.getvalue()
    call_command("lookup_tables", "rebuild", stdout=io.StringIO())
    assert figures("example.org") == (1, 0, 0, 5 * MB, 0, 0)
    factories.mailbox("later@example.org", quota_bytes=0)  # the triggers are back
    assert figures("example.org")[:2] == (2, 1) and out_of_step() == {}
