"""A domain's own message size limit (issue 15.4) in the services, the panel, the CLI, the API,
the lookup table Exim reads and ``trace``. (Exim's answers: tests/mailstack/test_size_limits.py.)"""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from domains import services as domains
from mailadmin.lib.sizes import MB
from mailserver.models import LookupDomain
from mailserver.trace import trace
from tests import factories

pytestmark = pytest.mark.django_db


def _limits(*names) -> dict:
    return dict(LookupDomain.objects.filter(domain__in=names).values_list("domain", "max_message_bytes"))


def test_the_limit_reaches_the_lookup_rows_of_the_domain_and_its_aliases(settings):
    settings.MAIL_MESSAGE_SIZE_LIMIT = "50M"
    domain = factories.domain("example.org")
    domains.domain_alias_create(acting_user=None, target=domain, name="example.net", origin="test")
    assert _limits("example.org", "example.net") == {"example.org": 0, "example.net": 0}
    domains.domain_update(acting_user=None, domain=domain, origin="test", max_message_bytes=5 * MB)
    assert _limits("example.org", "example.net") == {"example.org": 5 * MB, "example.net": 5 * MB}


def test_a_limit_above_the_servers_is_refused_naming_it(settings):
    settings.MAIL_MESSAGE_SIZE_LIMIT = "20M"
    domain = factories.domain("example.org")
    with pytest.raises(ValidationError) as caught:
        domains.domain_update(acting_user=None, domain=domain, origin="test", max_message_bytes=21 * MB)
    assert "20 MB" in str(caught.value.message_dict["max_message_bytes"])
    domain.refresh_from_db()
    assert domain.max_message_bytes == 0
    domains.domain_update(acting_user=None, domain=domain, origin="test", max_message_bytes=20 * MB)


def test_panel_sets_and_shows_it_and_explains_a_refusal(client, personas, settings):
    settings.MAIL_MESSAGE_SIZE_LIMIT = "50M"
    client.force_login(personas.superuser)
    url = reverse("domains:settings", args=[personas.org.pk])
    page = client.get(url).content.decode()
    assert "the server's limit, 50 MB." in page  # (help texts are marked safe)
    data = {"active": "on", "max_mailboxes": 0, "max_aliases": 0, "max_quota_bytes": 0, "default_quota_bytes": 0}
    response = client.post(url, data | {"max_message_bytes": "60M"})
    assert response.status_code == 200 and "At most the server&#x27;s limit, 50 MB" in response.content.decode()
    response = client.post(url, data | {"max_message_bytes": "ten megs"})
    assert response.status_code == 200 and "is not a size" in response.content.decode()
    assert client.post(url, data | {"max_message_bytes": "10M"}).status_code == 302
    personas.org.refresh_from_db()
    assert personas.org.max_message_bytes == 10 * MB
    detail = client.get(reverse("domains:detail", args=[personas.org.pk])).content.decode()
    assert "<dt>Largest message</dt><dd>10 MB</dd>" in detail
    assert client.post(url, data | {"max_message_bytes": ""}).status_code == 302  # empty: the server's limit
    personas.org.refresh_from_db()
    assert personas.org.max_message_bytes == 0


def test_a_domain_admin_cannot_raise_its_own_limit(client, personas):
    client.force_login(personas.admin_org)
    url = reverse("domains:settings", args=[personas.org.pk])
    assert client.post(url, {"max_message_bytes": "1M"}).status_code == 403
    personas.org.refresh_from_db()
    assert personas.org.max_message_bytes == 0


def test_cli_sets_it_in_sizes_people_write(settings):
    settings.MAIL_MESSAGE_SIZE_LIMIT = "50M"
    factories.domain("example.org")
    out = io.StringIO()
    call_command("domain", "set", "example.org", "--max-message-size", "1.5M", "--json", stdout=out)
    assert json.loads(out.getvalue())["max_message_bytes"] == 1536 * 1024
    with pytest.raises(CommandError, match="server's limit, 50 MB"):
        call_command("domain", "set", "example.org", "--max-message-size", "51M", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("domain", "set", "example.org", "--max-message-size", "-1M", stdout=io.StringIO())
    assert _limits("example.org") == {"example.org": 1536 * 1024}


def test_trace_names_the_limit(settings):
    settings.MAIL_MESSAGE_SIZE_LIMIT = "50M"
    domain = factories.domain("example.org", max_message_bytes=5 * MB)
    factories.mailbox("alice@example.org")
    domains.domain_alias_create(acting_user=None, target=domain, name="example.net", origin="test")
    assert "example.org accepts messages of at most 5 MB (5242880 bytes; 552 above)" in trace("alice@example.org").steps
    assert any("at most 5 MB" in step for step in trace("alice@example.net").steps)
    factories.domain("open.example")
    factories.mailbox("bob@open.example")
    assert not any("at most" in step for step in trace("bob@open.example").steps)
