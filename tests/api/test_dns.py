"""The DNS records a domain needs and its DKIM keys through the API: the same records as the panel's
DNS page (domains.dns), checked against a real authoritative DNS server (NSD) on loopback, and
DKIM keys made, rotated and retired through domains.dkim by superusers only."""

import pytest

from domains import dkim, dnscheck
from domains import dns as needed
from domains.models import DkimKey
from tests.nsd import free_port, start_nsd, stop_nsd

pytestmark = pytest.mark.django_db


def test_the_records_are_the_panels_and_a_check_asks_the_dns(token_for, personas, settings, tmp_path):
    settings.MAIL_HOSTNAME = "mx.example.net"
    admin = token_for(personas.admin_org)
    answer = admin.get("/api/v1/domains/example.org/dns")
    assert answer.status_code == 200
    records = answer.json()["records"]
    assert [(r["type"], r["name"], r["zone_line"]) for r in records] == [
        (r.type, r.name, r.zone_line()) for r in needed.records(personas.org)
    ]
    assert all(r["state"] is None for r in records)
    # a zone that publishes every record but the SPF one
    zone = "\n".join(r.zone_line() for r in needed.records(personas.org) if "spf1" not in r.value) + "\n"
    port = free_port()
    settings.MAIL_DNS_RESOLVERS, settings.MAIL_DNS_PORT, settings.MAIL_DNS_TIMEOUT = ["127.0.0.1"], port, 2.0
    proc = start_nsd(tmp_path, {"example.org": zone}, port, lambda: dnscheck.resolver().resolve("example.org", "SOA"))
    try:
        checked = admin.get("/api/v1/domains/example.org/dns?check=true").json()
    finally:
        stop_nsd(proc)
    states = {(r["type"], r["value"][:7]): r["state"] for r in checked["records"]}
    assert states[("TXT", "v=spf1 ")] == "missing" and checked["problems"] == 1
    assert states[("MX", checked["records"][0]["value"][:7])] == "ok"
    assert token_for(personas.admin_net).get("/api/v1/domains/example.org/dns").status_code == 404


def test_dkim_keys_are_made_rotated_and_retired_by_superusers(token_for, personas):
    root, admin = token_for(personas.superuser), token_for(personas.admin_org)
    assert admin.get("/api/v1/domains/example.org/dkim").json() == []
    refused = admin.post("/api/v1/domains/example.org/dkim/enable")
    assert refused.status_code == 403 and not DkimKey.objects.exists()
    made = root.post("/api/v1/domains/example.org/dkim/enable").json()
    assert sorted(k["algorithm"] for k in made) == ["ed25519", "rsa"] and all(k["retired_at"] is None for k in made)
    assert [k.selector for k in dkim.signing_keys(personas.org)] != []
    rotated = root.post("/api/v1/domains/example.org/dkim/rotate").json()
    assert len(rotated) == 4 and sum(k["retired_at"] is None for k in rotated) == 2
    assert root.post("/api/v1/domains/example.org/dkim/disable").status_code == 200
    assert not list(dkim.signing_keys(personas.org))
    assert root.post("/api/v1/domains/example.org/dkim/explode").status_code == 404
