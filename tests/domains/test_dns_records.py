"""The DNS records a domain needs: what ``manage.py dns`` and the domain's DNS page give, read back
as a zone by dnspython (so every line is valid zone-file syntax)."""

import datetime
import json
from io import StringIO

import dns.rdatatype
import dns.zone
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from domains import dkim
from domains import dns as records_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def host(settings):
    settings.MAIL_HOSTNAME = "mx.example.net"
    return settings


def zone_of(text: str) -> dns.zone.Zone:
    lines = [line for line in text.splitlines() if line and not line.startswith(";")]
    origin_lines = [
        "$ORIGIN example.org.",
        "@ 3600 IN SOA mx.example.net. postmaster.example.org. 1 1 1 1 1",
        "@ 3600 IN NS ns.example.net.",  # the zone's own: not ours to give
    ]
    return dns.zone.from_text("\n".join(origin_lines + lines), origin="example.org.", relativize=False)


def txt_of(zone: dns.zone.Zone, name: str) -> list[str]:
    rdataset = zone.find_rdataset(name, dns.rdatatype.TXT)
    return [b"".join(r.strings).decode() for r in rdataset]


def test_the_records_read_back_as_a_zone(personas, host):
    keys = dkim.dkim_enable(origin="test", acting_user=None, domain=personas.org)
    out = StringIO()
    call_command("dns", "example.org", stdout=out)
    zone = zone_of(out.getvalue())
    mx = zone.find_rdataset("example.org.", dns.rdatatype.MX)
    assert [(r.preference, r.exchange.to_text()) for r in mx] == [(10, "mx.example.net.")]
    assert txt_of(zone, "example.org.") == ["v=spf1 mx -all"]
    for key in keys:  # the RSA record is longer than one TXT string: split, and whole again
        assert txt_of(zone, f"{key.record_name}.") == [f"v=DKIM1; k={key.algorithm}; p={key.public_key}"]
    assert txt_of(zone, "_dmarc.example.org.") == ["v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org"]
    assert txt_of(zone, "_smtp._tls.example.org.") == ["v=TLSRPTv1; rua=mailto:postmaster@example.org"]
    srv = zone.find_rdataset("_imaps._tcp.example.org.", dns.rdatatype.SRV)
    assert [(r.port, r.target.to_text()) for r in srv] == [(993, "mx.example.net.")]
    assert zone.find_rdataset("_submission._tcp.example.org.", dns.rdatatype.SRV)[0].port == 587


def test_a_retired_dkim_key_stays_listed_until_its_grace_period_ends(personas, host):
    old = dkim.dkim_enable(origin="test", acting_user=None, domain=personas.org)
    new = dkim.dkim_rotate(origin="test", acting_user=None, domain=personas.org)
    names = {r.name for r in records_of.records(personas.org)}
    assert {f"{k.record_name}." for k in old + new} <= names
    later = timezone.now() + datetime.timedelta(days=host.MAIL_DKIM_GRACE_DAYS, hours=1)
    names = {r.name for r in records_of.records(personas.org, now=later)}
    assert {f"{k.record_name}." for k in new} <= names
    assert not {f"{k.record_name}." for k in old} & names


def test_json_and_the_reverse_dns_advice(personas, host):
    out = StringIO()
    call_command("dns", "example.org", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert {"name": "example.org.", "type": "MX", "value": "10 mx.example.net."} == {
        k: data["records"][0][k] for k in ("name", "type", "value")
    }
    assert "PTR" in data["advice"][0] and "mx.example.net" in data["advice"][0]


def test_the_domains_dns_page_shows_them_to_its_admins(client, personas, host):
    dkim.dkim_enable(origin="test", acting_user=None, domain=personas.org)
    client.force_login(personas.admin_org)
    page = client.get(reverse("domains:dns", args=[personas.org.pk])).content.decode()
    assert "_dmarc.example.org." in page and "v=DKIM1; k=ed25519; p=" in page
    assert "PRIVATE KEY" not in page
    client.force_login(personas.admin_net)
    assert client.get(reverse("domains:dns", args=[personas.org.pk])).status_code == 404
