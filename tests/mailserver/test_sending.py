"""Reading Exim's ratelimit database (mailserver.sending): what ``exim_dumpdb`` prints, decayed to
now as Exim decays it, matched with each mailbox's limit. (Against the real Exim:
tests/mailstack/test_outbound_limits.py.)"""

import datetime
import io
import json
import math

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import services as accounts
from mailserver import sending
from mailserver.models import SendingState

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 4, 5, 40, 42, 629462).astimezone()


def line(at: datetime.datetime, rate: float, key: str) -> str:
    return f"{at.strftime('%d-%b-%Y %H:%M:%S.%f')} rate: {rate:10.3f} key: {key}"


def test_rates_are_read_per_mailbox_and_decayed_to_now():
    text = "\n".join(
        [
            line(NOW, 12, "1h/per_mail/messages:User@Example.org"),
            line(NOW - datetime.timedelta(hours=1), 24, "1h/per_rcpt/rcpts:user@example.org"),
            line(NOW, 9, "10m/per_cmd/authfail:192.0.2.7"),  # the AUTH failure count: not a mailbox's
            "garbage line",
            "",
        ]
    )
    rates = sending.parse_dump(text, NOW)
    assert list(rates) == ["user@example.org"]
    assert rates["user@example.org"].messages == pytest.approx(12)
    assert rates["user@example.org"].recipients == pytest.approx(24 / math.e)


def test_collected_states_say_who_is_held_and_forget_the_rest(personas):
    accounts.mailbox_update(acting_user=None, mailbox=personas.user, origin="t", max_sent_per_hour=10)
    rates = {
        "user@example.org": sending.Rate(messages=9.6, recipients=9.6),  # the next would pass 10
        "admin@example.org": sending.Rate(messages=500, recipients=900),  # no limit
        "gone@example.org": sending.Rate(messages=50),  # no such mailbox any more
        "root@example.org": sending.Rate(messages=0.1, recipients=0.2),  # nothing to speak of
    }
    now = timezone.now()
    sending.record(rates, now, "mx1.example.net")
    found = {s.mailbox.address: s.limited for s in SendingState.objects.select_related("mailbox")}
    assert found == {"user@example.org": True, "admin@example.org": False}
    sending.record({}, now, "mx1.example.net")  # a later run without them: nobody is held any more
    assert not SendingState.objects.exists()


def test_each_mail_host_keeps_its_own_counts(personas, client):
    """Exim counts on each host alone: one host's run replaces only what that host recorded, and
    the panel shows a mailbox held where any host holds it."""
    accounts.mailbox_update(acting_user=None, mailbox=personas.user, origin="t", max_sent_per_hour=10)
    now = timezone.now()
    sending.record({"user@example.org": sending.Rate(messages=9.6, recipients=9.6)}, now, "mx1.example.net")
    sending.record({"user@example.org": sending.Rate(messages=2, recipients=2)}, now, "mx2.example.net")
    states = {s.host: s.limited for s in SendingState.objects.all()}
    assert states == {"mx1.example.net": True, "mx2.example.net": False}
    client.force_login(personas.superuser)
    page = client.get(f"/domains/{personas.org.pk}/").content.decode()
    assert "Held at their sending limit:" in page and page.count("user@example.org</a>") >= 1
    detail = client.get(f"/mailboxes/{personas.user.pk}/").content.decode()
    assert "through mx1.example.net" in detail and "through mx2.example.net" in detail
    sending.record({}, now, "mx2.example.net")  # mx2's next run: mx1's count stands
    assert list(SendingState.objects.values_list("host", "limited")) == [("mx1.example.net", True)]


def test_a_wrong_spool_is_a_clear_error_and_a_spool_without_counts_is_empty(tmp_path):
    with pytest.raises(CommandError, match="is not Exim's spool directory"):
        call_command("sending", "collect", "--spool", str(tmp_path / "nowhere"), stdout=io.StringIO())
    (tmp_path / "db").mkdir()
    out = io.StringIO()
    call_command("sending", "collect", "--spool", str(tmp_path), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"mailboxes": 0, "limited": []}


def test_a_mailbox_held_on_two_hosts_is_listed_once_on_its_domain_page(personas, client):
    """The domain page's warning names each held mailbox once, linked to its page, however many
    hosts hold it; a mailbox under its limit is not named."""
    accounts.mailbox_update(acting_user=None, mailbox=personas.user, origin="t", max_sent_per_hour=10)
    now = timezone.now()
    for host in ("mx1.example.net", "mx2.example.net"):
        sending.record({"user@example.org": sending.Rate(messages=12, recipients=12)}, now, host)
    client.force_login(personas.superuser)
    page = client.get(f"/domains/{personas.org.pk}/").content.decode()
    warning = page[page.index("Held at their sending limit:") :].split("</p>")[0]
    assert warning.count(f'<a href="/mailboxes/{personas.user.pk}/">user@example.org</a>') == 1
    sending.record({}, now, "mx1.example.net")
    sending.record({}, now, "mx2.example.net")
    assert "Held at their sending limit:" not in client.get(f"/domains/{personas.org.pk}/").content.decode()
