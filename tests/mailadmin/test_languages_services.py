"""The rules' own words in the user's language: a refusal of a service on a panel page and in an API
answer, a bulk job's errors, the DNS page's verdicts, the security-key script's messages, a field's
name joined to its error and the charts' figures, in German and French as the browser asks
(Accept-Language), English otherwise."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import jobs
from accounts.models import DomainUsageDay, Job
from api import tokens
from domains import dns as needed
from domains import dnscheck
from domains import services as domains
from domains.models import Domain
from mailadmin.lib.sizes import MB
from mailserver.models import TrafficCount
from tests.nsd import free_port, start_nsd, stop_nsd

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
TAKEN = {
    "en": "user@example.org already exists as a mailbox.",
    "de": "user@example.org existiert bereits als Postfach.",
    "fr": "user@example.org existe déjà comme boîte.",
}


def panel(persona, language: str) -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(persona)
    return client


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_a_mailbox_that_exists_is_refused_in_the_administrators_language(personas, language):
    page = panel(personas.admin_org, language).post(
        reverse("accounts:create", args=[personas.org.pk]), {"local_part": "user"}
    )
    assert page.status_code == 200 and TAKEN[language] in page.content.decode()


def test_the_domains_mailbox_limit_is_refused_in_german_on_the_page(personas):
    domains.domain_update(origin="test", acting_user=None, domain=personas.org, max_mailboxes=3)
    client = panel(personas.admin_org, "de")
    page = client.post(reverse("accounts:create", args=[personas.org.pk]), {"local_part": "neu"})
    assert "example.org darf höchstens 3 Postfächer haben und hat 3." in page.content.decode()
    # the bulk lines too, each refusal naming its line in German
    page = client.post(reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": "neu\nuser"})
    html = page.content.decode()
    assert "Zeile 1 (neu): example.org darf höchstens 3 Postfächer haben und hat 3." in html
    assert f"Zeile 2 (user): {TAKEN['de']}" in html


def test_the_general_refusal_on_the_403_page_is_in_french(personas):
    page = panel(personas.admin_org, "fr").post(reverse("accounts:delete", args=[personas.admin_org.pk]))
    assert page.status_code == 403 and "Vous n’avez pas le droit de faire cela." in page.content.decode()


def api(token: str, language: str | None) -> Client:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return Client(**headers, **({"HTTP_ACCEPT_LANGUAGE": language} if language else {}))


def test_the_api_answers_a_refusal_in_french_when_asked_and_in_english_without(personas):
    owner = personas.admin_org
    _, shown = tokens.create(acting_user=owner, owner=owner, name="t", read_only=False, origin="test")
    url = "/api/v1/domains/example.org/mailboxes"
    for language, expected in ((None, TAKEN["en"]), ("fr", TAKEN["fr"]), ("de", TAKEN["de"])):
        answer = api(shown, language).post(url, {"local_part": "user"}, content_type="application/json")
        error = answer.json()["error"]
        assert answer.status_code == 400 and error["code"] == "invalid" and error["message"] == expected, language
    answer = api(shown, "fr").get("/api/v1/domains/example.net")
    assert answer.status_code == 404 and answer.json()["error"]["message"] == "Domaine introuvable."
    assert api(shown, None).get("/api/v1/domains/example.net").json()["error"]["message"] == "No such domain."
    _, read_only = tokens.create(acting_user=owner, owner=owner, name="r", origin="test")
    answer = api(read_only, "fr").post(url, {"local_part": "neu"}, content_type="application/json")
    assert answer.status_code == 403 and answer.json()["error"]["message"] == "Ce jeton est en lecture seule."


def test_a_jobs_errors_are_written_in_the_submitters_language_by_the_worker(personas):
    params = {"mailboxes": [personas.user.pk], "language": "fr"}  # (as the panel submitted it, in French)
    job = Job.objects.create(
        owner=personas.admin_net, domain=personas.org, kind=Job.Kind.DELETE, total=1, params=params, origin="test"
    )
    jobs.job_run(job.pk)  # (as the worker runs it: outside any request, English active)
    job.refresh_from_db()
    assert job.state == "failed" and job.errors == ["Vous ne gérez plus example.org.", "Rien n’a été modifié."]
    page = panel(personas.superuser, "fr").get(reverse("accounts:job", args=[job.pk])).content.decode()
    assert "<li>Vous ne gérez plus example.org.</li>" in page and "Supprimer des boîtes" in page


@pytest.fixture
def published(tmp_path, settings):
    """NSD on 127.0.0.1 serving example.org's zone: its MX pointing elsewhere, no TXT records."""
    settings.MAIL_HOSTNAME = "mx.example.net"
    port = free_port()
    settings.MAIL_DNS_RESOLVERS, settings.MAIL_DNS_PORT, settings.MAIL_DNS_TIMEOUT = ["127.0.0.1"], port, 2.0
    records = needed.records(Domain.objects.get(name="example.org"))
    text = "".join(r.zone_line() + "\n" for r in records if r.type not in ("TXT", "MX"))
    text += "@ IN MX 10 mail.elsewhere.example.\n"
    proc = start_nsd(tmp_path, {"example.org": text}, port, lambda: dnscheck.resolver().resolve("example.org", "SOA"))
    yield
    stop_nsd(proc)


def test_the_dns_pages_verdicts_are_in_german(personas, published):
    page = panel(personas.admin_org, "de").get(reverse("domains:dns", args=[personas.org.pk]) + "?check=1")
    html = page.content.decode()
    assert (
        '<span class="pill warn">fehlt</span><br><small>kein solcher TXT-Eintrag bei _dmarc.example.org.</small>'
        in (html)
    )
    assert "<small>example.org. hat 10 mail.elsewhere.example.</small>" in html
    assert '<span class="pill warn">falsch</span>' in html and '<span class="pill ok">in Ordnung</span>' in html
    assert "veröffentlichen: _dmarc.example.org.\t3600\tIN\tTXT" in html
    assert "DMARC: Was an SPF und DKIM scheitert, in Quarantäne" in html  # what each record is for
    assert "Das Reverse-DNS (PTR) der Adressen des Mailservers muss mx.example.net nennen" in html
    # the API and the command line keep the states as they are, words for programs
    assert {v.state for v in dnscheck.check(personas.org)} == {"ok", "missing", "wrong"}


def test_the_security_key_scripts_messages_come_from_the_page_in_its_language(personas):
    TOTPDevice.objects.create(user=personas.user, name="authenticator", confirmed=True)
    html = panel(personas.user, "fr").get(reverse("accounts:two_factor")).content.decode()
    assert 'data-touch="Touchez votre clé de sécurité."' in html
    assert 'data-failed="La clé de sécurité n’a pas répondu :"' in html
    script = (ROOT / "mailadmin" / "static" / "mailadmin" / "webauthn.js").read_text()
    assert "Touch your security key" not in script and "did not answer" not in script


@pytest.mark.parametrize(("language", "shown"), [("en", "Mailboxes: "), ("de", "Postfächer: "), ("fr", "Boîtes : ")])
def test_a_fields_name_and_its_error_are_joined_the_languages_way(personas, language, shown):
    client = panel(personas.admin_org, language)
    page = client.post(reverse("accounts:bulk_delete", args=[personas.org.pk]), follow=True)
    required = {"en": "Tick at least one mailbox.", "de": "Kreuzen Sie mindestens ein Postfach an."}
    assert shown + required.get(language, "Cochez au moins une boîte.") in page.content.decode()


@pytest.mark.parametrize(
    ("language", "count", "half", "size"),
    [("en", "2,500", "1,250", "1.5 GB"), ("de", "2.500", "1.250", "1,5 GB"), ("fr", "2\xa0500", "1\xa0250", "1,5 Go")],
)
def test_the_charts_figures_are_written_the_languages_way(personas, language, count, half, size):
    today, hour = timezone.localdate(), timezone.now().replace(minute=0, second=0, microsecond=0)
    TrafficCount.objects.create(domain="example.org", hour=hour, kind="received", count=2500)
    DomainUsageDay.objects.create(domain=personas.org, day=today - timedelta(days=1), usage_bytes=3 * 1024 * MB)
    page = panel(personas.admin_org, language).get(reverse("mailserver:domain_statistics", args=[personas.org.pk]))
    html = page.content.decode()
    axis = 'text-anchor="end" dominant-baseline="middle" font-size="10" fill="currentColor">'
    assert f"{axis}{count}</text>" in html and f"{axis}{half}</text>" in html  # the traffic chart's axis
    assert f"{axis}{size}</text>" in html  # the storage chart's, half of 3 GB
    assert f'<td class="num">{count}</td>' in html  # and its table


def test_the_helpers_refusals_are_written_in_the_readers_language(personas):
    """mailadmin.lib knows nothing of Django, yet what it refuses (a size without a unit, a bad
    local part, a bad destination) reaches a German page, a French API answer and a German command
    line in their language, and English otherwise."""
    url = reverse("accounts:create", args=[personas.org.pk])
    page = panel(personas.admin_org, "de").post(url, {"local_part": "neu", "quota_bytes": "500"}).content.decode()
    assert "Geben Sie eine Einheit an: 500M, 500G oder 500B für Bytes." in page
    page = panel(personas.admin_org, "en").post(url, {"local_part": "neu", "quota_bytes": "500"}).content.decode()
    assert "Give a unit: 500M, 500G, or 500B for bytes." in page
    owner = personas.admin_org
    _, shown = tokens.create(acting_user=owner, owner=owner, name="t", read_only=False, origin="test")
    answer = api(shown, "fr").post(
        "/api/v1/domains/example.org/aliases",
        {"local_part": "info", "destinations": ["a/b@example.org"]},
        content_type="application/json",
    )
    message = answer.json()["error"]["message"]
    assert answer.status_code == 400, answer.json()
    assert "Destination « a/b@example.org » : Une partie locale ne peut pas contenir de barre oblique." in message


def test_the_helpers_refusals_on_a_german_command_line(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "LANG": "de_DE.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert (
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=False).returncode
        == 0
    )
    refused = subprocess.run(
        [sys.executable, "manage.py", "domain", "add", "ex..ample.org"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (
        refused.returncode == 1
        and "„ex..ample.org“ hat ein leeres Label (zwei Punkte hintereinander)." in refused.stderr
    )
