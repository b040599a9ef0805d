"""Hostile input to every form of the panel (hypothesis).

Whatever is posted: never a 500 (the test client re-raises server errors),
never a stored control character where a mail header or a single line is
built from it, and a refused form changes nothing at all (no partial write).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Job, Mailbox
from aliases.models import Alias
from domains.models import AdminGrant, Domain, DomainAlias
from mailadmin.forms import has_control_chars
from mailadmin.models import AuditEntry
from vacation.models import Vacation

pytestmark = pytest.mark.django_db

HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "Away\r\nBcc: victim@example.com",
    "Away\nX-Evil: 1",
    "\x1b[31m",
    "\u202eevil",
    "\U0001f600" * 20,
    "' OR 1=1 --",
    '"; DROP TABLE accounts_mailbox; --',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }}",
    "${jndi:ldap://x}",
    "%00",
    "../../etc/passwd",
    "9" * 40,
    "-1",
    "1e9",
    "4294967296",
    "a" * 5000,
    "\u00e4" * 300,
    "\t",
    "=cmd|' /C calc'!A0",
    "@",
    "@@",
    "a@b@c",
    "xn--",
    "xn--zz",
    "\u0130",
    "\ufeff",
    "\u0000\r\n\u0085\u2028",
    ",,,,,,,,,",
    "a,b,c,d,e,f,g,h",
]
text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=120), st.text(st.characters(codec="utf-8"), max_size=40))
number = st.one_of(text, st.integers(min_value=-(2**70), max_value=2**70).map(str))
flag = st.sampled_from(["", "on", "off", "\x00", "true"])
lines = st.lists(text, max_size=6).map("\n".join)
SETTINGS = settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def state():
    models = (Domain, DomainAlias, AdminGrant, Mailbox, Alias, Vacation)
    result = {m.__name__: sorted(map(repr, m.objects.order_by("pk").values())) for m in models}
    result["audit"] = AuditEntry.objects.count()
    return result


def no_stored_control_chars():
    for subject, body in Vacation.objects.values_list("subject", "body"):
        assert not has_control_chars(subject) and "\r" not in body and "\x00" not in body
    for row in Mailbox.objects.values_list("first_name", "last_name", "phone", "other_email", "address"):
        assert not any(has_control_chars(v) for v in row), row
    for (description,) in Domain.objects.values_list("description"):
        assert not has_control_chars(description)
    for row in Alias.objects.values_list("address", "destinations"):
        assert not any(has_control_chars(v) for v in row), row


def accepted(response) -> bool:
    """A redirect, or a page showing generated passwords, is an accepted form."""
    return response.status_code == 302 or (response.context is not None and "created" in response.context)


def post(client, url, data):
    """Post; a refused form must leave everything as it was."""
    before = state()
    response = client.post(url, data)
    assert response.status_code in (200, 302, 403, 404)
    if not accepted(response):
        assert state() == before, f"refused {url} changed something"
    no_stored_control_chars()
    return response


@pytest.fixture
def admin_client(personas):
    client = Client()
    client.force_login(personas.admin_org)
    return client


@pytest.fixture
def super_client(personas):
    client = Client()
    client.force_login(personas.superuser)
    return client


@SETTINGS
@given(
    data=st.fixed_dictionaries(
        {
            "mode": st.sampled_from(["off", "default", "custom", "x"]),
            "subject": text,
            "body": text,
            "first_day": text,
            "last_day": text,
            "interval_days": number,
        }
    )
)
def test_vacation_form(personas, data):
    client = Client()
    client.force_login(personas.user)
    response = post(client, reverse("vacation:own"), data)
    if response.status_code == 302:
        vacation = Vacation.objects.get(mailbox=personas.user)
        assert "\n" not in vacation.subject and "\r" not in vacation.subject


@SETTINGS
@given(
    data=st.fixed_dictionaries(
        {
            "name": text,
            "description": text,
            "max_mailboxes": number,
            "max_aliases": number,
            "max_quota_bytes": number,
            "default_quota_bytes": number,
            "active": flag,
        }
    )
)
def test_domain_create_form(super_client, data):
    post(super_client, reverse("domains:create"), data)


@SETTINGS
@given(
    data=st.fixed_dictionaries(
        {
            "description": text,
            "max_mailboxes": number,
            "max_aliases": number,
            "max_quota_bytes": number,
            "default_quota_bytes": number,
            "logins_enabled": flag,
        }
    )
)
def test_domain_settings_form(super_client, personas, data):
    post(super_client, reverse("domains:settings", args=[personas.org.pk]), data)


@SETTINGS
@given(
    data=st.fixed_dictionaries(
        {
            "local_part": text,
            "quota_bytes": number,
            "password": text,
            "first_name": text,
            "last_name": text,
            "phone": text,
            "other_email": text,
            "notes": text,
        }
    )
)
def test_mailbox_create_form(admin_client, personas, data):
    response = post(admin_client, reverse("accounts:create", args=[personas.org.pk]), data)
    if not accepted(response):
        assert response.context["form"].errors


@SETTINGS
@given(
    data=st.fixed_dictionaries(
        {
            "first_name": text,
            "last_name": text,
            "phone": text,
            "other_email": text,
            "notes": text,
            "quota_bytes": number,
            "active": flag,
            "may_relay": flag,
        }
    )
)
def test_mailbox_edit_form(admin_client, personas, data):
    post(admin_client, reverse("accounts:detail", args=[personas.user.pk]), data)


@SETTINGS
@given(lines=lines)
def test_bulk_mailbox_form(admin_client, personas, lines):
    before = state()
    response = post(admin_client, reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": lines})
    # everything or nothing: accepted, it is a job (run at once here) whose every line made a mailbox,
    # or which made none
    if accepted(response):
        job = Job.objects.latest("pk")
        made = Mailbox.objects.count() - len(before["Mailbox"])
        assert made == (job.total if job.state == Job.State.DONE else 0), (job.state, job.errors)


@SETTINGS
@given(lines=lines)
def test_bulk_alias_form(admin_client, personas, lines):
    post(admin_client, reverse("aliases:bulk_create", args=[personas.org.pk]), {"lines": lines})


@SETTINGS
@given(data=st.fixed_dictionaries({"local_part": text, "destinations": text, "active": flag}))
def test_alias_form(admin_client, personas, data):
    post(admin_client, reverse("aliases:create", args=[personas.org.pk]), data)


@SETTINGS
@given(data=st.fixed_dictionaries({"name": text, "active": flag}))
def test_domain_alias_form(super_client, personas, data):
    # only superusers add domain aliases (an admin gets 403 whatever the data)
    response = post(super_client, reverse("domains:alias_create", args=[personas.org.pk]), data)
    assert response.status_code == 302


@SETTINGS
@given(
    data=st.fixed_dictionaries(
        {
            "admin": text,
            "domains": st.lists(number, max_size=3),
            "quota_bytes": number,
            "max_mailboxes": number,
            "can_appoint_admins": flag,
        }
    )
)
def test_grant_form(super_client, data):
    post(super_client, reverse("domains:grant_create"), data)


@SETTINGS
@given(
    data=st.fixed_dictionaries(
        {"mailboxes": st.lists(number, max_size=3), "active": text, "may_relay": flag, "quota_bytes": number}
    )
)
def test_bulk_update_form(admin_client, personas, data):
    post(admin_client, reverse("accounts:bulk_update", args=[personas.org.pk]), data)


@SETTINGS
@given(data=st.fixed_dictionaries({"current_password": text, "new_password": text, "new_password_again": text}))
def test_own_password_form(personas, data):
    client = Client()
    client.force_login(personas.user)
    post(client, reverse("accounts:password_change"), data)


@SETTINGS
@given(rows=st.lists(st.lists(text, min_size=1, max_size=11), max_size=5), header=st.booleans())
def test_csv_import_form(admin_client, personas, rows, header):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(["name", "quota_bytes", "first_name", "last_name", "phone", "other_email", "notes", "active"])
    writer.writerows(rows)
    upload = SimpleUploadedFile("x.csv", out.getvalue().encode("utf-8", "surrogatepass"))
    post(admin_client, reverse("accounts:import", args=[personas.org.pk]), {"file": upload})


@SETTINGS
@given(username=text, password=text)
def test_login_form(personas, username, password):
    response = Client().post(reverse("login"), {"username": username, "password": password})
    assert response.status_code in (200, 429)


@SETTINGS
@given(q=text, page=text)
def test_search_and_paging(admin_client, personas, q, page):
    for url in (reverse("domains:list"), reverse("domains:detail", args=[personas.org.pk]), reverse("audit")):
        assert admin_client.get(url, {"q": q, "page": page, "apage": page}).status_code == 200


@pytest.mark.parametrize("path", ["/domains/{}/", "/mailboxes/{}/", "/aliases/{}/", "/grants/{}/"])
@pytest.mark.parametrize("number", ["0", "9223372036854775808", "99999999999999999999999", "007"])
def test_huge_or_odd_ids_in_urls_are_404(super_client, path, number):
    assert super_client.get(path.format(number)).status_code == 404
