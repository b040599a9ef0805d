"""The DNS checker against a real authoritative DNS server (NSD) on loopback: zones with the right
records, with some missing and with some wrong; and a DNS that does not answer."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from domains import dkim, dnscheck
from domains import dns as needed
from domains.models import Domain
from tests import factories
from tests.nsd import free_port, start_nsd, stop_nsd

pytestmark = pytest.mark.django_db


@pytest.fixture
def nsd(tmp_path, settings):
    """Start NSD on 127.0.0.1 with the zones given: nsd({"right.test": "zone text", ...})."""
    started = []

    def start(zones: dict[str, str]):
        port = free_port()
        settings.MAIL_DNS_RESOLVERS, settings.MAIL_DNS_PORT, settings.MAIL_DNS_TIMEOUT = ["127.0.0.1"], port, 2.0
        started.append(start_nsd(tmp_path, zones, port, lambda: dnscheck.resolver().resolve(next(iter(zones)), "SOA")))
        return port

    yield start
    for proc in started:
        stop_nsd(proc)


@pytest.fixture
def domains(settings):
    settings.MAIL_HOSTNAME = "mx.example.net"
    made = {name: factories.domain(name) for name in ("right.test", "missing.test", "wrong.test")}
    for domain in made.values():
        dkim.dkim_enable(origin="test", acting_user=None, domain=domain)
    return made


def zone_lines(domain: Domain, skip=()) -> str:
    return "\n".join(r.zone_line() for r in needed.records(domain) if r.type not in skip) + "\n"


def states(domain: Domain) -> dict[tuple[str, str], str]:
    return {(v.record.type, v.record.name): v.state for v in dnscheck.check(domain)}


def test_a_zone_with_every_record_is_ok(nsd, domains):
    nsd({"right.test": zone_lines(domains["right.test"])})
    found = states(domains["right.test"])
    assert set(found.values()) == {"ok"} and len(found) == len(needed.records(domains["right.test"]))


def test_missing_records_are_missing_with_their_zone_line_as_the_fix(nsd, domains):
    domain = domains["missing.test"]
    nsd({"missing.test": zone_lines(domain, skip=("TXT", "SRV"))})
    verdicts = {(v.record.type, v.record.name): v for v in dnscheck.check(domain)}
    assert verdicts[("MX", "missing.test.")].state == "ok"
    dmarc = verdicts[("TXT", "_dmarc.missing.test.")]
    assert dmarc.state == "missing" and dmarc.fix == f"publish: {dmarc.record.zone_line()}"
    assert {v.state for (kind, _), v in verdicts.items() if kind in ("TXT", "SRV")} == {"missing"}


def test_wrong_records_name_what_is_published(nsd, domains):
    domain = domains["wrong.test"]
    keys = {k.algorithm: k for k in dkim.signing_keys(domain)}
    other_key = dkim.generate_key("ed25519")[1]
    text = zone_lines(domain, skip=("MX",)).replace("v=spf1 mx -all", "v=spf1 a -all")
    text = text.replace(keys["ed25519"].public_key, other_key)
    text += "@ IN MX 10 mail.elsewhere.example.\n_imaps._tcp IN SRV 0 1 9993 mx.example.net.\n"
    text = text.replace("_imaps._tcp.wrong.test.\t3600\tIN\tSRV\t0 1 993 mx.example.net.\n", "")
    text = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("autoconfig.wrong.test."))
    text += "autoconfig IN CNAME panel.elsewhere.example.\n"
    nsd({"wrong.test": text})
    verdicts = {(v.record.type, v.record.name): v for v in dnscheck.check(domain)}
    assert verdicts[("MX", "wrong.test.")].state == "wrong"
    assert verdicts[("MX", "wrong.test.")].published == ["10 mail.elsewhere.example."]
    assert verdicts[("TXT", "wrong.test.")].state == "wrong"  # an SPF record, not this one
    assert verdicts[("TXT", f"{keys['ed25519'].record_name}.")].state == "wrong"
    assert verdicts[("TXT", f"{keys['rsa'].record_name}.")].state == "ok"
    assert verdicts[("SRV", "_imaps._tcp.wrong.test.")].state == "wrong"
    assert verdicts[("CNAME", "autoconfig.wrong.test.")].state == "wrong"
    assert verdicts[("CNAME", "autoconfig.wrong.test.")].published == ["panel.elsewhere.example."]
    assert verdicts[("CNAME", "autodiscover.wrong.test.")].state == "ok"


def test_a_dns_that_does_not_answer_gives_unknown_never_missing(domains, settings):
    settings.MAIL_DNS_RESOLVERS, settings.MAIL_DNS_PORT, settings.MAIL_DNS_TIMEOUT = ["127.0.0.1"], free_port(), 0.3
    found = states(domains["right.test"])
    assert set(found.values()) == {"unknown"}


def test_the_job_flags_broken_domains_on_the_list_and_the_command_fails_for_them(nsd, domains, client, personas):
    nsd(
        {"right.test": zone_lines(domains["right.test"]), "missing.test": zone_lines(domains["missing.test"], ("TXT",))}
    )
    out = StringIO()
    call_command("dns", "--check-all", "--json", stdout=out)
    counts = json.loads(out.getvalue())
    assert counts["right.test"] == 0 and counts["missing.test"] == 6  # SPF, two DKIM, DMARC, TLS-RPT, MTA-STS
    client.force_login(personas.superuser)
    page = client.get(reverse("domains:list")).content.decode()
    assert "DNS: 6 problems" in page and "DNS: 0" not in page
    with pytest.raises(CommandError, match="some records are missing or wrong"):
        call_command("dns", "missing.test", "--check", stdout=StringIO())
    call_command("dns", "right.test", "--check", stdout=StringIO())


def test_the_dns_page_checks_on_request(nsd, domains, client, personas):
    nsd({"missing.test": zone_lines(domains["missing.test"], ("SRV",))})
    client.force_login(personas.superuser)
    page = client.get(reverse("domains:dns", args=[domains["missing.test"].pk]) + "?check=1").content.decode()
    assert "What the DNS publishes (5 problems)" in page
    assert Domain.objects.get(name="missing.test").dns_problems == 5
