"""What a hosted domain's own names answer: Thunderbird's autoconfig, Outlook's autodiscover, the
MTA-STS policy, and a user's Apple profile; nothing for names that are not ours, nothing about users."""

import plistlib
from pathlib import Path

import pytest
from defusedxml import ElementTree as ET  # noqa: N817 - the usual name
from django.test import Client
from django.urls import reverse
from lxml import etree

from domains import clientconfig

pytestmark = pytest.mark.django_db

AUTODISCOVER_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>{address}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"""


SCHEMAS = Path(__file__).parent / "schemas"


def schema(name):
    return etree.XMLSchema(etree.parse(SCHEMAS / name))


def assert_valid(name, document: bytes):
    """The document conforms to the published format (transcribed as XSD in ``schemas/``)."""
    checker = schema(name)
    if not checker.validate(etree.fromstring(document)):
        raise AssertionError(f"{name}: {checker.error_log}")


@pytest.fixture
def host(settings, personas):
    settings.MAIL_HOSTNAME = "mx.example.net"
    return personas


def servers_of(root, tag):
    return [
        (
            s.get("type"),
            s.findtext("hostname"),
            int(s.findtext("port")),
            s.findtext("socketType"),
            s.findtext("username"),
        )
        for s in root.iter(tag)
    ]


@pytest.mark.parametrize("path", ["/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml"])
def test_thunderbird_autoconfig_of_the_autoconfig_name(host, path):
    response = Client(HTTP_HOST="autoconfig.example.org").get(path, {"emailaddress": "user@example.org"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    assert_valid("autoconfig-1.1.xsd", response.content)
    root = ET.fromstring(response.content)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    provider = root.find("emailProvider")
    assert provider.get("id") == "example.org" and provider.findtext("domain") == "example.org"
    assert servers_of(root, "incomingServer") == [
        ("imap", "mx.example.net", 993, "SSL", "%EMAILADDRESS%"),
        ("pop3", "mx.example.net", 995, "SSL", "%EMAILADDRESS%"),
    ]
    assert servers_of(root, "outgoingServer") == [
        ("smtp", "mx.example.net", 465, "SSL", "%EMAILADDRESS%"),
        ("smtp", "mx.example.net", 587, "STARTTLS", "%EMAILADDRESS%"),
    ]


def test_autoconfig_says_nothing_about_whether_a_user_exists(host):
    client = Client(HTTP_HOST="autoconfig.example.org")
    known = client.get("/mail/config-v1.1.xml", {"emailaddress": "user@example.org"}).content
    unknown = client.get("/mail/config-v1.1.xml", {"emailaddress": "nobody@example.org"}).content
    assert known == unknown and b"user@" not in known


@pytest.mark.parametrize(
    "name", ["autoconfig.elsewhere.example", "evil.example", "autoconfig.example.org.evil.example"]
)
def test_names_that_are_not_hosted_domains_get_404(host, name):
    assert Client(HTTP_HOST=name).get("/mail/config-v1.1.xml").status_code == 404
    assert Client(HTTP_HOST=f"mta-sts.{name}").get("/.well-known/mta-sts.txt").status_code == 404


def test_outlook_autodiscover_answers_for_the_address_asked(host):
    body = AUTODISCOVER_REQUEST.format(address="User@Example.ORG")
    response = Client(HTTP_HOST="autodiscover.example.org").post(
        "/autodiscover/autodiscover.xml", body, content_type="text/xml"
    )
    assert response.status_code == 200
    assert_valid("autodiscover-2006.xsd", response.content)
    ns = {"a": clientconfig.AUTODISCOVER_RESPONSE}
    root = ET.fromstring(response.content)
    account = root.find("a:Response/a:Account", ns)
    assert account.findtext("a:AccountType", namespaces=ns) == "email"
    protocols = [
        (
            p.findtext("a:Type", namespaces=ns),
            p.findtext("a:Port", namespaces=ns),
            p.findtext("a:LoginName", namespaces=ns),
        )
        for p in account.findall("a:Protocol", ns)
    ]
    assert protocols == [("IMAP", "993", "user@example.org"), ("POP3", "995", "user@example.org"),
                         ("SMTP", "465", "user@example.org")]  # fmt: skip


@pytest.mark.parametrize(
    "name, render, wrong, right",
    [
        ("autoconfig-1.1.xsd", lambda d: clientconfig.autoconfig_xml(d), "<socketType>SSL<", "<socketType>TLS<"),
        ("autoconfig-1.1.xsd", lambda d: clientconfig.autoconfig_xml(d), "<port>993<", "<port>99300<"),
        ("autoconfig-1.1.xsd", lambda d: clientconfig.autoconfig_xml(d), "<username>%EMAILADDRESS%</username>", ""),
        ("autodiscover-2006.xsd", lambda d: clientconfig.autodiscover_xml(f"user@{d.name}"), "<SSL>on<", "<SSL>yes<"),
        ("autodiscover-2006.xsd", lambda d: clientconfig.autodiscover_xml(f"user@{d.name}"), "<Type>IMAP</Type>\n", ""),
        (
            "autodiscover-2006.xsd",
            lambda d: clientconfig.autodiscover_xml(f"user@{d.name}"),
            "outlook/responseschema/2006a",
            "outlook/responseschema/2006",
        ),
    ],
    ids=["socket-type", "port", "username", "ssl-switch", "protocol-type", "namespace"],
)
def test_the_schemas_catch_what_a_mail_program_would_reject(host, name, render, wrong, right):
    """The answers validate, and the same answers with one mistake a mail program would trip on do
    not: the validation above is not a formality."""
    document = render(host.org)
    assert_valid(name, document.encode())
    assert wrong in document
    broken = document.replace(wrong, right, 1).encode()
    assert not schema(name).validate(etree.fromstring(broken))


@pytest.mark.parametrize(
    "body",
    [
        AUTODISCOVER_REQUEST.format(address="someone@elsewhere.example"),
        "not xml at all",
        '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<Autodiscover><EMailAddress>&b;</EMailAddress></Autodiscover>",
    ],
    ids=["other-domain", "garbage", "entities"],
)
def test_autodiscover_refuses_what_is_not_an_address_of_ours(host, body):
    response = Client(HTTP_HOST="autodiscover.example.org").post(
        "/autodiscover/autodiscover.xml", body, content_type="text/xml"
    )
    assert response.status_code == 404


def test_the_mta_sts_policy_is_served_on_its_name_and_its_id_follows_it(host, settings):
    response = Client(HTTP_HOST="mta-sts.example.org").get("/.well-known/mta-sts.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert response.content.decode().split("\r\n") == ["version: STSv1", "mode: testing", "mx: mx.example.net",
                                                       "max_age: 604800", ""]  # fmt: skip
    first = clientconfig.mta_sts_id()
    settings.MAIL_MTA_STS_MODE = "enforce"
    assert clientconfig.mta_sts_id() != first
    assert Client(HTTP_HOST="example.org").get("/.well-known/mta-sts.txt").status_code == 404  # its name only


def test_a_user_downloads_an_apple_profile_of_their_own_mailbox(client, host):
    client.force_login(host.user)
    response = client.get(reverse("accounts:own_profile"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-apple-aspen-config"
    assert 'filename="user@example.org.mobileconfig"' in response["Content-Disposition"]
    profile = plistlib.loads(response.content)
    [account] = profile["PayloadContent"]
    assert account["EmailAddress"] == account["IncomingMailServerUsername"] == "user@example.org"
    assert (account["IncomingMailServerHostName"], account["IncomingMailServerPortNumber"]) == ("mx.example.net", 993)
    assert (account["OutgoingMailServerPortNumber"], account["OutgoingMailServerUseSSL"]) == (465, True)
    assert not any("Password" == key or key.endswith("MailServerPassword") for key in account)
    assert response.content == client.get(reverse("accounts:own_profile")).content  # stable UUIDs


def test_the_panel_itself_is_untouched_by_these_names(client, host):
    assert Client(HTTP_HOST="autoconfig.example.org").get("/domains/").status_code == 400  # Django's host check


@pytest.mark.parametrize(("length", "status"), [("not a number", 400), ("¹²", 400), (str(10**7), 413)])
def test_autodiscover_refuses_a_bad_or_huge_content_length_cleanly(host, length, status):
    client = Client(HTTP_HOST="autodiscover.example.org")
    body = AUTODISCOVER_REQUEST.format(address="user@example.org")
    response = client.post("/autodiscover/autodiscover.xml", body, content_type="text/xml", CONTENT_LENGTH=length)
    assert response.status_code == status
